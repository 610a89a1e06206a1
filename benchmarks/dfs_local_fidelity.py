"""Can a surrogate hold the truth's local optima? One LightGBM per setting, scored on runs it has not seen.

Trains a single booster (the build's recipe without CV: same rows, feature map, weights and parameters) on the
build's training rows (DATA minus its test split) plus ``--augment`` rows, then scores it on truth-side
optimiser runs (``--runs``: tables with a ``run_id`` column, rows in evaluation order, e.g. from
``exploit_rows(truth, truth, ...)``) with :func:`~smm_plugins.surrogate_tools.validate.step_agreement`, and on
uniform rows (``--uniform``). A local optimum the surrogate holds shows as a low share of clear false
improvements (steps the truth rejects by more than 0.02 that the model accepts). Pass the same runs to
``--augment`` to see what the model does where it has rows. ``--surrogate`` scores a built benchmark (a
registered name or a directory, e.g. the embedded ``smm-mini-dfs``) on the same runs instead of training.

    python benchmarks/dfs_local_fidelity.py DATA --augment AUG.parquet --weight 2 --runs ES_RUNS.parquet \\
        --uniform UNIFORM_TEST --features dfs-path-ctx --params '{"num_leaves": 63, "min_data_in_leaf": 50}'
    python benchmarks/dfs_local_fidelity.py --surrogate smm-mini-dfs --runs ES_RUNS.parquet
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from smm_plugins.features import get_feature_map
from smm_plugins.registry import load_benchmark
from smm_plugins.space import dfs_space
from smm_plugins.surrogate_tools.build import fidelity_metrics, read_table, split_indices, validate_table
from smm_plugins.surrogate_tools.validate import step_agreement

_RECIPE = {
    "objective": "regression",
    "verbosity": -1,
    "seed": 0,
    "deterministic": True,
    "force_col_wise": True,
    "learning_rate": 0.1,
    "num_leaves": 63,
    "min_data_in_leaf": 50,
    "lambda_l2": 10.0,
    "feature_fraction": 0.5,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
}


def _training_rows(args: argparse.Namespace, space: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The build's training rows (test split left out) and the augment rows: X, y, weights."""
    X, ys = validate_table(read_table(args.data), space, [args.objective], allow_extra_columns=True)
    keep = np.sort(
        np.concatenate([v for k, v in split_indices(len(X), seed=0, test_fraction=0.05).items() if k != "test"])
    )
    X_parts, y_parts, w_parts = [X[keep]], [ys[args.objective][keep]], [np.ones(len(keep))]
    for path in args.augment:
        X_aug, ys_aug = validate_table(read_table(path), space, [args.objective], allow_extra_columns=True)
        X_parts.append(X_aug)
        y_parts.append(ys_aug[args.objective])
        w_parts.append(np.full(len(X_aug), args.weight))
    return np.vstack(X_parts), np.concatenate(y_parts), np.concatenate(w_parts)


def _score(predict: Any, args: argparse.Namespace, space: Any) -> dict[str, Any]:
    """Step agreement on every ``--runs`` table and R²/τ on ``--uniform``."""
    out: dict[str, Any] = {}
    for path in args.runs:
        table = read_table(path)
        X, ys = validate_table(table, space, [args.objective], allow_extra_columns=True)
        pred, truth, run_id = predict(X), ys[args.objective], table["run_id"].to_numpy()
        runs = [np.flatnonzero(run_id == r) for r in dict.fromkeys(run_id)]
        steps = step_agreement([truth[i] for i in runs], [pred[i] for i in runs])
        metrics = fidelity_metrics(truth, pred)
        out[path] = {"r2": round(metrics["r2"], 3), "kendall_tau": round(metrics["kendall_tau"], 3)}
        out[path].update({k: round(v, 3) if isinstance(v, float) else v for k, v in steps.items()})
    if args.uniform:
        X, ys = validate_table(read_table(args.uniform), space, [args.objective], allow_extra_columns=True)
        metrics = fidelity_metrics(ys[args.objective], predict(X))
        out["uniform"] = {"r2": round(metrics["r2"], 3), "kendall_tau": round(metrics["kendall_tau"], 3)}
    return out


def main() -> None:
    import lightgbm as lgb

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", help="the build's DATA (table or directory of Parquet parts)")
    parser.add_argument("--surrogate", help="score this benchmark (name or directory) instead of training one")
    parser.add_argument("--augment", action="append", default=[], help="training-only rows (repeatable)")
    parser.add_argument("--weight", type=float, default=2.0, help="weight of the augment rows (> 0)")
    parser.add_argument("--runs", action="append", required=True, help="truth-side runs to score (repeatable)")
    parser.add_argument("--uniform", help="uniform test rows to score")
    parser.add_argument("--features", default="dfs-path-ctx")
    parser.add_argument("--objective", default="train_acc")
    parser.add_argument("--rounds", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--params", default="{}", help="JSON overriding the recipe (shipped smm-mini-dfs's)")
    args = parser.parse_args()
    if not args.weight > 0:
        parser.error(f"--weight is {args.weight}; allowed: a number > 0")
    if args.surrogate:
        bench = load_benchmark(args.surrogate)

        def predict_built(X_new: np.ndarray) -> np.ndarray:
            return np.asarray(bench.evaluate(X_new, args.objective))

        print(json.dumps({"surrogate": args.surrogate, **_score(predict_built, args, bench.space)}, indent=1))
        return
    if args.data is None:
        parser.error("give DATA (to train a booster) or --surrogate (to score a built benchmark)")
    space, fmap = dfs_space(), get_feature_map(args.features)
    start = time.perf_counter()
    X, y, w = _training_rows(args, space)
    params = {**_RECIPE, "num_threads": args.threads, **json.loads(args.params)}
    data = lgb.Dataset(
        fmap.transform(X, space), y, weight=w, categorical_feature=fmap.categorical_outputs(space) or "auto"
    )
    booster = lgb.train(params, data, args.rounds)

    def predict(X_new: np.ndarray) -> np.ndarray:
        return np.clip(booster.predict(fmap.transform(X_new, space), num_threads=args.threads), 0.0, 1.0)

    result = {"rows": len(y), "params": json.loads(args.params), "seconds": round(time.perf_counter() - start)}
    print(json.dumps({**result, **_score(predict, args, space)}, indent=1))


if __name__ == "__main__":
    main()
