"""``smm-bench compare`` and ``smm-bench report``.

The core CLI calls :func:`add_subcommands`; ``python -m smm_plugins.compare.cli`` runs the same two
sub-commands on their own.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smm_plugins.compare.experiment import Experiment

__all__ = ["add_subcommands", "main"]

logger = logging.getLogger(__name__)


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``compare`` and ``report`` to an argparse sub-parser set (each sets ``func(args) -> int``)."""
    p = subparsers.add_parser(
        "compare",
        help="compare optimisers on benchmarks over many seeds (Ray or serial, resumable)",
        description="Run every benchmark x optimiser x seed and write one Parquet file per run into "
        "OUT/runs/. Running the same command again resumes: finished runs are skipped.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--experiment", metavar="FILE", help="experiment file (.toml, .yaml, .json)")
    src.add_argument("--preset", metavar="NAME", help="a named experiment (demo, full, quick, suite)")
    p.add_argument(
        "--benchmarks",
        help="comma-separated benchmark names, directories or suites, e.g. smm-mini-ps,smm-mini-dfs or suite:smm-mini",
    )
    p.add_argument(
        "--optimizers",
        help="comma-separated optimiser names or specs, e.g. random,tpe,cmaes,sep-cmaes,de, "
        "optuna.samplers:QMCSampler (a sampler class), optunahub:PACKAGE@FOLDER, my_module:my_function",
    )
    p.add_argument("--seeds", help="number of seeds (0..N-1) or a comma-separated list")
    p.add_argument("--budget", type=int, help="evaluations per run")
    p.add_argument("--objective", help="objective the optimisers maximise (default train_acc)")
    p.add_argument("--base-seed", type=int, help="root of the per-run seeds (default 0)")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="OPT.KEY=VALUE",
        help="optimiser option, e.g. de.population_size=30 (repeatable; value parsed as TOML)",
    )
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first (it may call register_optimizer); repeatable",
    )
    p.add_argument("--out", help="output directory (required unless --list-optimizers)")
    p.add_argument(
        "--workers",
        type=int,
        help="parallel Ray workers (1 = serial without Ray; default: serial or Ray, "
        "whichever the grid's expected time favours)",
    )
    p.add_argument("--ray-address", help='join a running Ray cluster, e.g. "auto" or "HEAD:6379"')
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--list-optimizers", action="store_true", help="list the known optimisers and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    p.set_defaults(func=_cmd_compare)

    r = subparsers.add_parser(
        "report",
        help="plots, final table and Wilcoxon tests of a compare directory",
        description="Write curves (PNG), the final table and pairwise Wilcoxon tests (CSV, Markdown) "
        "of a directory written by `smm-bench compare`.",
    )
    r.add_argument("dir", help="directory written by smm-bench compare")
    r.add_argument("--out", help="report directory (default DIR/report)")
    r.add_argument(
        "--no-truth-check",
        action="store_true",
        help='skip the section "Checked on the truth" (re-scoring the returned configurations on exact twins)',
    )
    r.set_defaults(func=_cmd_report)


def _setup_logging(verbose: bool) -> None:
    # The root's handler prints the frameworks' records, and ours when run as `python -m ...compare.cli`.
    # Installed first, it also keeps a framework's own import-time logging.basicConfig() (Syne Tune's) a no-op.
    root = logging.getLogger()
    before = list(root.handlers)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    ours = logging.getLogger("smm_plugins")
    if ours.handlers:  # `smm-bench` (the core CLI) gave our logger its own handler: print our records once
        for handler in root.handlers:
            if handler not in before:
                handler.addFilter(lambda record: not record.name.startswith("smm_plugins"))
        if verbose:
            ours.setLevel(logging.INFO)


def _parse_options(items: Sequence[str]) -> dict[str, dict[str, object]]:
    from smm_plugins.compare.experiment import _toml_loads

    out: dict[str, dict[str, object]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        # Option names have no dots; optimiser specs may ("optuna.samplers:QMCSampler.scramble=false").
        opt, dot, name = key.rpartition(".")
        if not eq or not dot or not opt or not name:
            raise ValueError(f"--option {item!r}: expected OPTIMIZER.KEY=VALUE, e.g. de.population_size=30")
        try:
            parsed = _toml_loads(f"v = {value}")["v"]
        except Exception:  # noqa: BLE001 - a bare word is a string
            parsed = value
        out.setdefault(opt, {})[name] = parsed
    return out


def _cmd_compare(args: argparse.Namespace) -> int:
    # One inference thread per process, before numpy/LightGBM start their pools.
    for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    _setup_logging(args.verbose)
    from smm_plugins.compare.runner import import_plugins

    try:
        import_plugins(args.plugin)
        if args.list_optimizers:
            _print_optimizers()
            return 0
        if not args.out:
            print("smm-bench compare: --out DIR is required", file=sys.stderr)
            return 2
        exp = _experiment_from_args(args)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"smm-bench compare: {exc}", file=sys.stderr)
        return 2
    return _run_and_summarise(exp, args)


def _print_optimizers() -> None:
    from smm_plugins.compare.optimizers import list_optimizers, optimizer_plugin_errors

    for info in list_optimizers():
        mark = "" if info.available else "  (not installed)"
        print(f"{info.name:18s} {info.framework:10s} {info.description}{mark}")
    for name, error in sorted(optimizer_plugin_errors().items()):
        print(f"{name:18s} {'-':10s} not loaded: {error}")


def _experiment_from_args(args: argparse.Namespace) -> Experiment:
    """The experiment of ``--experiment``/``--preset``/the grid flags, with the other flags applied."""
    from smm_plugins.compare.experiment import Experiment, load_experiment, preset

    from_file = bool(args.experiment or args.preset)
    if args.experiment:
        exp = load_experiment(args.experiment)
    elif args.preset:
        exp = preset(args.preset)
    else:
        missing = [f"--{k}" for k in ("benchmarks", "optimizers", "seeds", "budget") if getattr(args, k) is None]
        if missing:
            raise ValueError(f"give --experiment FILE, --preset NAME, or all of {', '.join(missing)}")
        exp = Experiment(benchmarks=args.benchmarks, optimizers=args.optimizers, seeds=args.seeds, budget=args.budget)
    options = {**exp.options}
    for opt, kw in _parse_options(args.option).items():
        options[opt] = {**options.get(opt, {}), **kw}
    return exp.replace(
        benchmarks=args.benchmarks if from_file else None,
        optimizers=args.optimizers if from_file else None,
        seeds=args.seeds if from_file else None,
        budget=args.budget if from_file else None,
        objective=args.objective,
        base_seed=args.base_seed,
        workers=args.workers,
        ray_address=args.ray_address,
        plugins=list(exp.plugins) + list(args.plugin) or None,
        options=options or None,
    )


def _run_and_summarise(exp: Experiment, args: argparse.Namespace) -> int:
    from smm_plugins.compare.runner import run_experiment

    print(
        f"{exp.n_runs} runs: {_benchmarks_summary(exp)} x {', '.join(exp.optimizers)} x {len(exp.seeds)} seeds "
        f"x {exp.budget} evaluations -> {args.out}",
        file=sys.stderr,
    )
    t0 = time.perf_counter()
    try:
        summary = run_experiment(exp, args.out, progress=not args.no_progress)
    except (ValueError, FileNotFoundError, ImportError, ConnectionError) as exc:
        print(f"smm-bench compare: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished runs are saved; run the same command again to resume", file=sys.stderr)
        return 130
    elsewhere = f", {summary.settled_elsewhere} done by another process" if summary.settled_elsewhere else ""
    aside = (
        f", {len(summary.set_aside)} unusable run file(s) moved to {os.path.join(args.out, 'runs', 'damaged')} "
        "and run again"
        if summary.set_aside
        else ""
    )
    print(
        f"{summary.done} run(s) done, {summary.skipped} skipped (already there){aside}, {summary.failed} failed"
        f"{elsewhere}, {time.perf_counter() - t0:.1f} s ({summary.execution()}); next: smm-bench report {args.out}",
        file=sys.stderr,
    )
    for run_id in summary.failures:
        print(f"  failed: {run_id} (see {args.out}/failures/{run_id}.json)", file=sys.stderr)
    if summary.busy:
        shown = ", ".join(summary.busy[:3]) + (", ..." if len(summary.busy) > 3 else "")
        print(
            f"{len(summary.busy)} run(s) were being run by another process on {args.out} and were left to it "
            f"({shown}); after it ends, run the same command again to complete any it did not finish",
            file=sys.stderr,
        )
    return 1 if summary.failed else 0


def _benchmarks_summary(exp: Experiment) -> str:
    """The benchmarks for the one-line plan: their names, or a count with the suites they came from."""
    if len(exp.benchmarks) <= 6:
        return ", ".join(exp.benchmarks)
    suites = "".join(f", suite:{name} = {len(members)}" for name, members in exp.suites.items())
    return f"{len(exp.benchmarks)} benchmarks ({', '.join(exp.benchmarks[:3])}, ...{suites})"


def _cmd_report(args: argparse.Namespace) -> int:
    _setup_logging(False)
    from smm_plugins.compare.report import make_report, markdown_table

    try:
        res = make_report(args.dir, args.out, truth_check=not args.no_truth_check)
    except (ValueError, FileNotFoundError) as exc:
        print(f"smm-bench report: {exc}", file=sys.stderr)
        return 2
    print(markdown_table(res.table))
    print(f"report: {res.markdown}")
    for p in res.pngs + res.csvs:
        print(f"        {p}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m smm_plugins.compare.cli {compare,report} ...``."""
    parser = argparse.ArgumentParser(prog="smm-bench")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subcommands(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
