"""Fidelity of a surrogate on a fixed table of truth-labelled configurations (R², Kendall tau).

    python benchmarks/uniform_fidelity.py SURROGATE[,SURROGATE2] TEST_DIR

TEST_DIR: e.g. ``smm-bench lab collect --kind dfs --n-random 3000 --cma-runs 0 --tpe-runs 0 --seed 99
--out TEST_DIR`` (seeds never used to build the surrogates). ``smm-bench validate --uniform N`` measures
the same on configurations it samples and labels itself. With two surrogates it also prints their difference
in Kendall tau (second − first) with a 95 % paired bootstrap interval over the rows (``scipy.stats.bootstrap``,
1,000 resamples, seed 0): whether the two can be told apart on these rows.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.stats import bootstrap, kendalltau

from smm_plugins.registry import load_benchmark
from smm_plugins.surrogate_tools.build import fidelity_metrics, read_table, validate_table


def _tau_difference(y: np.ndarray, first: np.ndarray, second: np.ndarray) -> tuple[float, float, float]:
    """tau(y, second) - tau(y, first) and its 95 % paired bootstrap interval (rows resampled together)."""

    def diff(yy: np.ndarray, aa: np.ndarray, bb: np.ndarray) -> float:
        return float(kendalltau(yy, bb).statistic - kendalltau(yy, aa).statistic)

    res = bootstrap(
        (y, first, second), diff, paired=True, vectorized=False, n_resamples=1000, method="percentile", random_state=0
    )
    return diff(y, first, second), float(res.confidence_interval.low), float(res.confidence_interval.high)


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    table = read_table(sys.argv[2])
    names = sys.argv[1].split(",")
    print("| surrogate | objective | R² | τ | mean signed error | rows |")
    print("|---|---|---|---|---|---|")
    predictions: dict[str, dict[str, np.ndarray]] = {}
    truth: dict[str, np.ndarray] = {}
    for name in names:
        bench = load_benchmark(name)
        X, ys = validate_table(table, bench.space, bench.objectives, allow_extra_columns=True)
        predictions[name] = {obj: np.asarray(bench.evaluate(X, obj)) for obj in bench.objectives}
        truth.update(ys)
        for obj in bench.objectives:
            m = fidelity_metrics(ys[obj], predictions[name][obj])
            cells = f"{m['r2']:.4f} | {m['kendall_tau']:.4f} | {m['mean_signed_error']:+.4f} | {m['n']}"
            print(f"| {name} | {obj} | {cells} |")
    if len(names) == 2:
        first, second = names
        print(f"\n| objective | τ of {second} − τ of {first} | 95 % paired bootstrap interval |")
        print("|---|---|---|")
        for obj in [o for o in predictions[first] if o in predictions[second]]:  # objectives both surrogates have
            d, lo, hi = _tau_difference(truth[obj], predictions[first][obj], predictions[second][obj])
            print(f"| {obj} | {d:+.4f} | [{lo:+.4f}, {hi:+.4f}] |")


if __name__ == "__main__":
    main()
