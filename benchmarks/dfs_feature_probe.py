"""Uniform-configuration fidelity of DFS surrogates per feature set, as the uniform training data grows.

Trains one fixed-parameter LightGBM per (feature set, training size) on uniform DFS rows labelled by
``smm-mini-dfs-true`` and scores it (R², Kendall tau) on a separate uniform test table whose seeds were
never used for training. Prints one Markdown row per (objective, size, feature set).

    python benchmarks/dfs_feature_probe.py TRAIN_DIR[,TRAIN_DIR2] TEST_DIR [--sizes 20000,40000,80000]
        [--params '{"num_leaves": 31, "learning_rate": 0.03}'] [--rounds 5000] [--patience 100]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from smm_plugins.features import get_feature_map
from smm_plugins.lab.objectives import dfs_space
from smm_plugins.surrogate_tools.build import fidelity_metrics, read_table, validate_table

PARAMS = {
    "objective": "regression",
    "num_leaves": 63,
    "learning_rate": 0.1,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "verbosity": -1,
    "num_threads": 1,
    "seed": 0,
    "deterministic": True,
    "force_col_wise": True,
}


def _inputs(name: str, X: np.ndarray) -> tuple[np.ndarray, list[int]]:
    space = dfs_space()
    if name == "raw":
        return X, list(range(space.n_categorical))
    fmap = get_feature_map(name)
    return fmap.transform(X, space), fmap.categorical_outputs(space)


def main() -> None:
    import lightgbm as lgb
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("train", help="comma-separated folders of uniform Parquet parts")
    ap.add_argument("test", help="folder of uniform test parts (seeds not used in training)")
    ap.add_argument("--sizes", default="20000,40000")
    ap.add_argument("--features", default="raw,dfs-path,dfs-path-rel,dfs-path-ctx")
    ap.add_argument("--objectives", default="train_acc")
    ap.add_argument("--rounds", type=int, default=1500)
    ap.add_argument("--patience", type=int, default=50, help="early-stopping rounds")
    ap.add_argument("--params", default="{}", help="LightGBM parameters (JSON) that replace the defaults")
    args = ap.parse_args()
    params = {**PARAMS, **json.loads(args.params)}
    space = dfs_space()
    objectives = args.objectives.split(",")
    train = pd.concat([read_table(d) for d in args.train.split(",")], ignore_index=True)
    X_all, y_all = validate_table(train, space, objectives)
    X_te, y_te = validate_table(read_table(args.test), space, objectives)
    # A seeded shuffle so that each size is a uniform subsample of every folder, nested across sizes.
    order = np.random.default_rng(0).permutation(len(X_all))
    print(f"train rows available {len(X_all)}, test rows {len(X_te)}")
    print("| objective | train rows | features | R² | τ | rounds | seconds |")
    print("|---|---|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        if size > len(X_all):
            continue
        idx = order[:size]
        n_val = size // 10  # early stopping on a slice of the training rows, never on the test table
        for obj in objectives:
            for feat in args.features.split(","):
                t0 = time.perf_counter()
                F, cats = _inputs(feat, X_all[idx])
                F_te, _ = _inputs(feat, X_te)
                d_tr = lgb.Dataset(F[n_val:], y_all[obj][idx][n_val:], categorical_feature=cats or "auto")
                d_va = lgb.Dataset(F[:n_val], y_all[obj][idx][:n_val], reference=d_tr)
                booster = lgb.train(
                    params,
                    d_tr,
                    args.rounds,
                    valid_sets=[d_va],
                    callbacks=[lgb.early_stopping(args.patience, verbose=False)],
                )
                m = fidelity_metrics(y_te[obj], np.clip(booster.predict(F_te, num_threads=1), 0, 1))
                print(
                    f"| {obj} | {size} | {feat} | {m['r2']:.3f} | {m['kendall_tau']:.3f} | "
                    f"{booster.best_iteration} | {time.perf_counter() - t0:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
