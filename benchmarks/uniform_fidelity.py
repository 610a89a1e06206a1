"""Fidelity of a surrogate on a fixed table of truth-labelled uniform configurations (R², Kendall tau).

    python benchmarks/uniform_fidelity.py SURROGATE[,SURROGATE2] TEST_DIR

TEST_DIR: e.g. ``smm-bench lab collect --kind dfs --n-random 3000 --cma-runs 0 --tpe-runs 0 --seed 99
--out TEST_DIR`` (seeds never used to build the surrogates). ``smm-bench validate --uniform N`` measures
the same on configurations it samples and labels itself.
"""

from __future__ import annotations

import sys

from smm_plugins.registry import load_benchmark
from smm_plugins.surrogate_tools.build import fidelity_metrics, read_table, validate_table


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    table = read_table(sys.argv[2])
    print("| surrogate | objective | R² | τ | mean signed error | rows |")
    print("|---|---|---|---|---|---|")
    for name in sys.argv[1].split(","):
        bench = load_benchmark(name)
        X, ys = validate_table(table, bench.space, bench.objectives, allow_extra_columns=True)
        for obj in bench.objectives:
            m = fidelity_metrics(ys[obj], bench.evaluate(X, obj))
            cells = f"{m['r2']:.3f} | {m['kendall_tau']:.3f} | {m['mean_signed_error']:+.4f} | {m['n']}"
            print(f"| {name} | {obj} | {cells} |")


if __name__ == "__main__":
    main()
