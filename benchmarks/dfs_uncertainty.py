"""Does the fold boosters' disagreement predict where a surrogate over-estimates?

For truth-labelled rows that optimisers visited on the surrogate (``exploit-*.parquet`` of
``benchmarks/dfs_exploit_rounds.py``, made on the same surrogate), prints the Spearman correlation
between the spread of the fold predictions (std over folds) and the error ``surrogate - truth``, over
all rows and over each run's best row (its pick), and the picks' median / max over-estimation.

    python benchmarks/dfs_uncertainty.py SURROGATE_DIR EXPLOIT.parquet [--objective train_acc]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from smm_plugins.registry import load_benchmark


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("surrogate")
    ap.add_argument("rows")
    ap.add_argument("--objective", default="train_acc")
    args = ap.parse_args()
    sur = load_benchmark(args.surrogate)
    df = pd.read_parquet(args.rows)
    X = df[sur.space.names].to_numpy(dtype=np.float64)
    folds = sur.fold_predictions(X, args.objective)
    pred = np.asarray(sur.evaluate(X, args.objective))
    std = folds.std(axis=1)
    err = pred - df[args.objective].to_numpy()
    print(f"rows {len(df)}: Spearman(fold std, surrogate - truth) {spearmanr(std, err).statistic:+.3f}; ", end="")
    print(f"Spearman(fold std, |error|) {spearmanr(std, np.abs(err)).statistic:+.3f}")
    df = df.assign(pred=pred, std=std, err=err)
    picks = df.loc[df.groupby(["strategy", "run_id"])["pred"].idxmax()]
    rho = spearmanr(picks["std"], picks["err"]).statistic if len(picks) > 2 else float("nan")
    print(
        f"picks {len(picks)}: over-estimation median {picks['err'].median():+.4f} max {picks['err'].max():+.4f}; "
        f"Spearman(fold std, over-estimation) {rho:+.3f}; fold std median {picks['std'].median():.4f}"
    )
    print(f"all rows: fold std median {np.median(std):.4f}, 90% {np.quantile(std, 0.9):.4f}")


if __name__ == "__main__":
    main()
