"""Syne Tune simulation on the embedded benchmarks: is simulated time the evaluation cost, and what does it buy?

For each benchmark and scheduler (RandomSearch, ASHA), runs ``synetune_ext.run_simulated_tuning`` on
simulated workers and prints, from one run each: finished trials, simulated hours (``st_tuner_time``), the
ratio of simulated time to the summed per-trial cost divided by the workers (1.0 = time is all evaluation
cost), the mean simulated cost per trial, the full-fidelity incumbent against the results' noisy maximum,
and the real seconds the simulation took.

    OMP_NUM_THREADS=1 python benchmarks/bench_synetune_time.py [--trials 50] [--workers 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", nargs="+", default=["smm-mini-ps", "smm-mini-dfs"])
    parser.add_argument("--schedulers", nargs="+", default=["RandomSearch", "ASHA"])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import synetune_ext

    print(
        f"{'benchmark':14s} {'scheduler':12s} {'trials':>6s} {'sim h':>7s} {'ratio':>6s} {'s/trial':>8s} "
        f"{'best@full':>9s} {'noisy max':>9s} {'real s':>7s}"
    )
    for name in args.benchmarks:
        for scheduler in args.schedulers:
            start = time.perf_counter()
            df = synetune_ext.run_simulated_tuning(
                name, scheduler, max_trials=args.trials, n_workers=args.workers, seed=args.seed
            )
            real = time.perf_counter() - start
            per_trial = df.groupby("trial_id")[synetune_ext.ELAPSED_TIME].max()
            simulated = float(df["st_tuner_time"].max())
            best = synetune_ext.best_full_fidelity(df)
            print(
                f"{name:14s} {scheduler:12s} {df['trial_id'].nunique():6d} {simulated / 3600:7.2f} "
                f"{simulated / (per_trial.sum() / args.workers):6.3f} {per_trial.mean():8.1f} "
                f"{best['train_acc']:9.4f} {df['train_acc'].max():9.4f} {real:7.1f}"
            )


if __name__ == "__main__":
    main()
