"""The operator space ``smm-mini-op-true``: time per evaluation, references, each operator's best, TPE vs random.

Prints the tables of docs/operators.md:

* time: CPU seconds per configuration and objective of ``smm-mini-op-true`` and of ``smm-mini-ps-true``,
  interleaved blocks of the same random batch size (CPU time of this process: robust to other load), and the
  merge alone per operator;
* references (sources alone, the default, simple merges);
* each operator's best of ``--per-operator`` random configurations of that operator, with its quantiles;
* TPE (Optuna, define-by-run through ``optuna_ext.Problem``) and uniform random search over the whole space,
  ``--budget`` evaluations, ``--seeds`` seeds, best by ``train_acc``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_operators.py [--per-operator 1000] [--budget 200] [--seeds 5]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from smm_plugins.lab.operators import OPERATORS
from smm_plugins.registry import load_benchmark


def _cpu_per_row(fn, X: np.ndarray, per: int) -> float:
    start = time.process_time()
    fn(X)
    return (time.process_time() - start) / (len(X) * per)


def timing(repeats: int = 15) -> None:
    op, ps = load_benchmark("smm-mini-op-true"), load_benchmark("smm-mini-ps-true")
    Xo, Xp = op.space.sample(64, rng=5), ps.space.sample(64, rng=5)
    op.evaluate_all(Xo), ps.evaluate_all(Xp)  # warm-up
    t_op, t_ps = [], []
    for _ in range(repeats):
        t_op.append(_cpu_per_row(op.evaluate_all, Xo, 2))
        t_ps.append(_cpu_per_row(ps.evaluate_all, Xp, 2))
    ratio = np.array(t_op) / np.array(t_ps)
    print(f"op {np.median(t_op) * 1e3:.2f} ms, ps {np.median(t_ps) * 1e3:.2f} ms per configuration and objective")
    print(f"ratio op/ps: median {np.median(ratio):.3f} (min {ratio.min():.3f}, max {ratio.max():.3f})")
    merger = op._merger
    for code, name in enumerate(OPERATORS):
        X = Xo.copy()
        X[:, 0] = code
        times = [_cpu_per_row(lambda rows: [merger.merge(x) for x in rows], X, 1) for _ in range(5)]
        print(f"merge {name}: {np.median(times) * 1e3:.2f} ms per configuration")


def _row(space, **config) -> np.ndarray:
    return space.to_vector(config)


def references() -> None:
    op = load_benchmark("smm-mini-op-true")
    s = op.space
    refs = {
        "base (linear, weights 0, 0)": _row(s, operator="linear", weight_A=0.0, weight_B=0.0),
        "A alone (SLERP t = 0, = linear 1, 0)": _row(s, operator="slerp", slerp_t=0.0),
        "B alone (SLERP t = 1)": _row(s, operator="slerp", slerp_t=1.0),
        "the default: average (linear 0.5, 0.5)": s.default_vector(),
        "task-arithmetic sum (linear 1, 1)": _row(s, operator="linear", weight_A=1.0, weight_B=1.0),
        "SLERP midpoint (t = 0.5)": _row(s, operator="slerp", slerp_t=0.5),
        "TIES (1, 1, density 0.2)": _row(s, operator="ties", weight_A=1.0, weight_B=1.0, ties_density=0.2),
        "DARE (1, 1, drop 0.5)": _row(s, operator="dare", weight_A=1.0, weight_B=1.0, dare_drop=0.5),
    }
    v = op.evaluate_all(np.vstack(list(refs.values())))
    print("| configuration | train_acc | test_acc |\n|---|---:|---:|")
    for i, label in enumerate(refs):
        print(f"| {label} | {100 * v['train_acc'][i]:.1f} | {100 * v['test_acc'][i]:.1f} |")


def per_operator(n: int) -> None:
    op = load_benchmark("smm-mini-op-true")
    print("| operator | best train_acc | its test_acc | at | 5% / 50% / 95% quantile of train_acc |")
    print("|---|---:|---:|---|---|")
    for code, name in enumerate(OPERATORS):
        X = op.space.sample(n, rng=100 + code)
        X[:, 0] = code
        v = op.evaluate_all(X)
        b = int(np.argmax(v["train_acc"]))
        q = " / ".join(f"{100 * x:.1f}" for x in np.quantile(v["train_acc"], [0.05, 0.5, 0.95]))
        at = {k: round(float(x), 3) for k, x in op.space.to_active_config(X[b]).items() if k != "operator"}
        print(f"| {name} | {100 * v['train_acc'][b]:.1f} | {100 * v['test_acc'][b]:.1f} | {at} | {q} |")


def searches(budget: int, seeds: int) -> None:
    import optuna

    from optuna_ext import Problem

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    op = load_benchmark("smm-mini-op-true")
    for seed in range(seeds):
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(Problem(op, extras=False), n_trials=budget)
        best = study.best_trial
        counts = {o: sum(t.params["operator"] == o for t in study.trials) for o in OPERATORS}
        test = op.evaluate(op.space.to_vector(best.params), "test_acc")
        print(f"TPE seed {seed}: {100 * best.value:.1f} / {100 * test:.1f} at {best.params}; trials {counts}")
    for seed in range(seeds):
        X = op.space.sample(budget, rng=1000 + seed)
        v = op.evaluate_all(X)
        b = int(np.argmax(v["train_acc"]))
        print(
            f"random seed {seed}: {100 * v['train_acc'][b]:.1f} / {100 * v['test_acc'][b]:.1f} "
            f"at {op.space.to_active_config(X[b])}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-operator", type=int, default=1000)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    timing()
    references()
    per_operator(args.per_operator)
    searches(args.budget, args.seeds)


if __name__ == "__main__":
    main()
