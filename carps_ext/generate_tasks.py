"""``python -m carps_ext.generate_tasks [--out DIR] [BENCHMARK ...]``: write CARP-S task configs.

Without arguments it regenerates the shipped configs of every registered benchmark; with names or
surrogate directories and ``--out`` it writes configs for your own benchmarks into ``DIR`` (then run
CARP-S with ``hydra.searchpath=[file://DIR]``).
"""

from __future__ import annotations

import argparse
import sys

from carps_ext.tasks import CONFIG_DIR, write_task_configs


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m carps_ext.generate_tasks", description=__doc__.split("\n")[0])
    parser.add_argument("benchmarks", nargs="*", help="registered names or surrogate directories (default: all)")
    parser.add_argument("--out", default=str(CONFIG_DIR), help="config root (default: the shipped configs)")
    parser.add_argument("--n-trials", type=int, default=None, help="trial budget (default: 20 + 40 sqrt(dim))")
    args = parser.parse_args(argv)
    paths = write_task_configs(args.out, args.benchmarks or None, n_trials=args.n_trials)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
