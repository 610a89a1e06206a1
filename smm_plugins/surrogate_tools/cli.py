"""``smm-bench build-surrogate`` and ``smm-bench validate`` (added to the main CLI by smm_plugins.cli)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_subcommands"]


def add_subcommands(subparsers: Any) -> None:
    """Add ``build-surrogate`` and ``validate`` to an argparse sub-parser set; each sets ``func(args) -> int``."""
    _add_build_parser(subparsers)
    _add_validate_parser(subparsers)


def _add_build_parser(subparsers: Any) -> None:
    b = subparsers.add_parser(
        "build-surrogate",
        help="build a LightGBM CV-booster surrogate (official SMM-Bench format) from a table of merges",
        description=(
            "Build a surrogate from DATA (a Parquet/CSV file or a folder of parts) with one column per "
            "search-space parameter plus train_acc and test_acc (accuracies in [0, 1]). LightGBM "
            "hyperparameters are tuned with Optuna (TPE) on a validation split, then a k-fold CV booster per "
            "objective is written with label.json, space.json, build_info.json, and a held-out test report "
            "(report.json, scatter.png)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    b.add_argument("data", metavar="DATA", help="Parquet file, CSV file, or folder of Parquet/CSV parts")
    b.add_argument(
        "--augment",
        metavar="DATA2",
        help="extra table (same columns) used for training only, never held out (see docs/surrogates.md)",
    )
    b.add_argument(
        "--augment-weight",
        type=float,
        default=1.0,
        metavar="W",
        help="sample weight of each --augment row relative to a DATA row",
    )
    b.add_argument(
        "--features",
        metavar="NAME",
        help="built-in feature map the boosters are trained on (e.g. dfs-path; written to features.json); "
        "default: the space's own, else the raw parameters",
    )
    b.add_argument("--space", required=True, help="'ps', 'dfs', or a SPACE.json describing the parameters")
    b.add_argument("--out", required=True, metavar="DIR", help="output directory (created; files replaced)")
    b.add_argument("--seed", type=int, default=0, help="seed of split, tuning and CV")
    b.add_argument("--trials", type=int, default=30, help="Optuna trials per objective (0 = fixed default parameters)")
    b.add_argument("--folds", type=int, default=5, help="CV folds = boosters per model file")
    b.add_argument("--test-fraction", type=float, default=0.1, help="held-out test share of rows")
    b.add_argument("--val-fraction", type=float, default=0.1, help="validation share of rows (tuning)")
    b.add_argument("--max-rounds", type=int, default=2000, help="cap on trees per fold (caps file size)")
    b.add_argument("--early-stopping", type=int, default=50, help="early-stopping patience in rounds")
    b.add_argument("--tune-rows", type=int, default=30000, help="training rows used per tuning trial (0 = all)")
    b.add_argument("--learning-rate-range", default="0.01,0.3", metavar="LO,HI", help="tuner's learning-rate range")
    b.add_argument("--num-leaves-range", default="15,255", metavar="LO,HI", help="tuner's leaves-per-tree range")
    b.add_argument("--threads", type=int, default=1, help="LightGBM threads")
    b.add_argument("--objectives", default="train_acc,test_acc", help="comma-separated accuracy columns to model")
    b.add_argument("--compress", action="store_true", help="write *.json.gz model files instead of *.json")
    b.add_argument("--keep-json", action="store_true", help="with --compress: also keep the plain *.json files")
    b.add_argument(
        "--no-categorical",
        action="store_true",
        help="treat categorical parameters as numbers in LightGBM (default: categorical features)",
    )
    b.add_argument(
        "--ignore-extra-columns",
        action="store_true",
        help="ignore DATA columns that are neither parameters, objectives nor known metadata",
    )
    b.add_argument(
        "--space-name",
        help="your benchmark's name, recorded in space.json (default: a SPACE.json's own name; for 'ps'/'dfs' the "
        "--out folder's name; smm-bench-* names are the official files')",
    )
    b.add_argument(
        "--params",
        metavar="JSON",
        help="fixed LightGBM parameters (JSON object) instead of tuning, or one object per objective "
        '(\'{"train_acc": {...}, "test_acc": {...}}\', e.g. a build_info.json\'s tuned_params)',
    )
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    b.set_defaults(func=_cmd_build)


def _add_validate_parser(subparsers: Any) -> None:
    v = subparsers.add_parser(
        "validate",
        help="behavioural fidelity: random search, CMA-ES, TPE and a (1+1)-ES on the truth and on the surrogate",
        description=(
            "Run random search, CMA-ES, TPE (Optuna samplers) and a (1+1)-ES with the same seeds on the true "
            "objective and on the surrogate NAME; report final values on both, the Kendall tau of the optimiser "
            "ranking, the over-estimation of each surrogate run's pick re-scored on the truth, and a trajectories "
            "plot."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    v.add_argument("name", metavar="NAME", help="surrogate benchmark name (e.g. smm-mini-ps) or directory")
    v.add_argument("--truth", help="true benchmark name (default: NAME-true)")
    v.add_argument("--seeds", type=int, default=5, help="number of seeds (0..seeds-1, offset by --seed0)")
    v.add_argument("--seed0", type=int, default=0, help="first seed")
    v.add_argument("--evals", type=int, default=500, help="evaluations per run")
    v.add_argument("--optimizers", default="random,cmaes,tpe,es", help="comma-separated subset of random,cmaes,tpe,es")
    v.add_argument(
        "--uniform", type=int, default=2000, help="uniform random configurations for R²/tau against the truth (0: skip)"
    )
    v.add_argument("--workers", type=int, default=1, help="processes running the runs (results do not depend on it)")
    v.add_argument("--out", metavar="DIR", help="output directory (default: validate-NAME)")
    v.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    v.set_defaults(func=_cmd_validate)


def _pair(text: str, kind: type, flag: str) -> tuple[Any, Any]:
    try:
        lo, hi = (kind(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{flag} {text!r} must be two numbers LO,HI") from None
    return lo, hi


def _cmd_build(args: argparse.Namespace) -> int:
    from smm_plugins.surrogate_tools.build import BuildConfig, build_surrogate

    try:
        params = json.loads(args.params) if args.params else None
        if params is not None and not isinstance(params, dict):
            raise ValueError("--params must be a JSON object, e.g. '{\"num_leaves\": 63}'")
        cfg = BuildConfig(
            seed=args.seed,
            n_trials=args.trials,
            n_folds=args.folds,
            test_fraction=args.test_fraction,
            val_fraction=args.val_fraction,
            num_threads=args.threads,
            max_rounds=args.max_rounds,
            early_stopping_rounds=args.early_stopping,
            tune_rows=args.tune_rows or None,
            categorical=not args.no_categorical,
            compress=args.compress,
            keep_plain=args.keep_json,
            objectives=tuple(o.strip() for o in args.objectives.split(",") if o.strip()),
            allow_extra_columns=args.ignore_extra_columns,
            params=params,
            space_name=args.space_name,
            features=args.features,
            extra_weight=args.augment_weight,
            learning_rate_range=_pair(args.learning_rate_range, float, "--learning-rate-range"),
            num_leaves_range=_pair(args.num_leaves_range, int, "--num-leaves-range"),
        )
        t0 = time.perf_counter()
        res = build_surrogate(args.data, args.space, args.out, cfg, extra_data=args.augment, progress=not args.quiet)
    except (ValueError, FileNotFoundError) as exc:
        print(f"smm-bench build-surrogate: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {res.out_dir} in {time.perf_counter() - t0:.0f} s")
    n_test = res.build_info["rows"]["test"]
    print(f"{'objective':<10} {'R2':>7} {'tau':>7} {'RMSE':>8} {'MAE':>8} {'bias':>8}   (held-out test, n={n_test})")
    for obj, m in res.report["objectives"].items():
        print(
            f"{obj:<10} {m['r2']:7.4f} {m['kendall_tau']:7.4f} {m['rmse']:8.5f} {m['mae']:8.5f} "
            f"{m['mean_signed_error']:+8.5f}"
        )
    total = sum(v for k, v in res.sizes_bytes.items())
    models = sum(v for k, v in res.sizes_bytes.items() if k.endswith(("acc", ".gz")))
    print(f"model files {models / 1e6:.2f} MB, all files {total / 1e6:.2f} MB")
    return 0


def _print_ranking_uncertainty(unc: dict[str, Any]) -> None:
    boot = unc["bootstrap"]
    if boot is not None:
        low, high = boot["tau_interval"]
        print(
            f"  bootstrap over runs: tau median {boot['tau_median']:.3f}, "
            f"{100 * (1 - unc['alpha']):.0f}% interval [{low:.3f}, {high:.3f}], "
            f"tau = 1 in {100 * boot['share_tau_1']:.0f}% of resamples"
        )
    print(
        f"  pairs the truth's runs separate (Mann-Whitney p < {unc['alpha']}): {unc['separated_pairs']} of "
        f"{len(unc['pairs'])}, ordered the same on the surrogate: {unc['separated_pairs_agreeing']}"
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    from smm_plugins.surrogate_tools.validate import ValidateConfig, validate_benchmark

    out = args.out or f"validate-{args.name.rstrip('/').split('/')[-1]}"
    try:
        cfg = ValidateConfig(
            n_seeds=args.seeds,
            n_evals=args.evals,
            seed0=args.seed0,
            optimizers=tuple(o.strip() for o in args.optimizers.split(",") if o.strip()),
            n_uniform=args.uniform,
            workers=args.workers,
        )
        rep = validate_benchmark(args.name, args.truth, out, cfg, progress=not args.quiet)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"smm-bench validate: error: {exc}", file=sys.stderr)
        return 2
    print(rep["table_markdown"])
    print(f"ranking on truth:     {' > '.join(rep['ranking']['truth'])}")
    print(f"ranking on surrogate: {' > '.join(rep['ranking']['surrogate'])}")
    print(f"Kendall tau of optimiser ranking: {rep['ranking_kendall_tau']:.3f}; ", end="")
    print(f"over all runs: {rep['runs_kendall_tau']:.3f}")
    _print_ranking_uncertainty(rep["ranking_uncertainty"])
    picks = rep["picks_on_truth"]
    print("surrogate - truth of each surrogate run's pick (median / max):")
    for opt, st in picks["by_optimizer"].items():
        print(f"  {opt:<8} {st['median']:+.4f} / {st['max']:+.4f}")
    print(f"  {'all':<8} {picks['all_runs']['median']:+.4f} / {picks['all_runs']['max']:+.4f}")
    if "spearman_fold_std_vs_overestimation" in picks:
        print(f"Spearman(fold std of pick, over-estimation): {picks['spearman_fold_std_vs_overestimation']:+.3f}")
    margin = next(iter(rep["step_agreement"].values()))["margin"]
    print(
        "steps of the truth's runs judged alike by the surrogate "
        f"(agreement / false improvement / missed / false improvement where the truth is > {margin:g} worse):"
    )
    for opt, st in rep["step_agreement"].items():
        print(
            f"  {opt:<8} {st['agreement']:.3f} / {st['false_improvement']:.3f} / {st['missed_improvement']:.3f}"
            f" / {st['false_improvement_beyond_margin']:.3f} of {st['clear_rejections']}"
        )
    if rep["uniform"]:
        for obj, m in rep["uniform"]["objectives"].items():
            print(
                f"uniform configurations (n={rep['uniform']['n']}) {obj}: R2 {m['r2']:.3f} tau {m['kendall_tau']:.3f}"
            )
    written = [f for f in ("validate_report.json", "trajectories.png", "final_values.md") if (Path(out) / f).exists()]
    print(f"wrote {', '.join(written)} in {out}")
    return 0
