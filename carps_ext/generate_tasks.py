"""``python -m carps_ext.generate_tasks [--out DIR] [--suite NAME] [BENCHMARK ...]``: write CARP-S task configs.

Without arguments it regenerates the shipped configs of every registered benchmark (the members of every
suite, e.g. ``smm-mini``, included: a benchmark registered later gets its configs the next time this runs);
``--suite NAME`` writes those of the suite's members only; with names or surrogate directories and ``--out``
it writes configs for your own benchmarks into ``DIR`` (then run CARP-S with ``hydra.searchpath=[file://DIR]``).
"""

from __future__ import annotations

import argparse
import sys

from carps_ext.tasks import CONFIG_DIR, write_task_configs
from smm_plugins.registry import list_benchmarks


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m carps_ext.generate_tasks", description=__doc__.split("\n")[0])
    parser.add_argument("benchmarks", nargs="*", help="registered names or surrogate directories (default: all)")
    parser.add_argument("--suite", metavar="NAME", help="also every registered member of suite NAME (e.g. smm-mini)")
    parser.add_argument("--out", default=str(CONFIG_DIR), help="config root (default: the shipped configs)")
    parser.add_argument("--n-trials", type=int, default=None, help="trial budget (default: 20 + 40 sqrt(dim))")
    args = parser.parse_args(argv)
    try:
        members = list_benchmarks(suite=args.suite) if args.suite else []
    except ValueError as exc:
        parser.error(str(exc))
    chosen = list(dict.fromkeys([*args.benchmarks, *members])) or None
    paths = write_task_configs(args.out, chosen, n_trials=args.n_trials)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
