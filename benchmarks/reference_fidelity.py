"""Surrogate against truth at every reference configuration (each source alone, base, default).

    python benchmarks/reference_fidelity.py [SURROGATE[=TRUTH][,SURROGATE2[=TRUTH2]]]

Default: ``smm-mini-ps,smm-mini-dfs`` against ``smm-mini-ps-true`` / ``smm-mini-dfs-true`` (a surrogate
given as a directory needs ``=TRUTH``). Prints one markdown row per benchmark, reference and objective:
the surrogate's value, the truth's and their difference (surrogate − truth; > 0 = over-estimation).
These are the grey reference lines every ``smm-bench report`` draws.
"""

from __future__ import annotations

import sys

from smm_plugins.references import reference_configs
from smm_plugins.registry import load_benchmark


def main() -> None:
    spec = sys.argv[1] if len(sys.argv) > 1 else "smm-mini-ps,smm-mini-dfs"
    if len(sys.argv) > 2 or spec in ("-h", "--help"):
        raise SystemExit(__doc__)
    print("| surrogate | reference | objective | surrogate value | truth | surrogate − truth |")
    print("|---|---|---|---|---|---|")
    for item in spec.split(","):
        name, _, truth_name = item.partition("=")
        bench = load_benchmark(name)
        truth = load_benchmark(truth_name or f"{name}-true")
        for label, x in reference_configs(bench.space).items():
            for obj in bench.objectives:
                s = float(bench.evaluate(x, obj))
                t = float(truth.evaluate(x, obj))
                print(f"| {name} | {label} | {obj} | {s:.4f} | {t:.4f} | {s - t:+.4f} |")


if __name__ == "__main__":
    main()
