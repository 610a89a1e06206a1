"""``smm-bench lab`` sub-commands: ``train-sources``, ``train-suite``, ``table``, ``relatedness``, ``collect``,
``fidelity-check``.

Added to the ``smm-bench`` parser by :func:`add_subcommands` (called by ``smm_plugins.cli``).
torch is imported only by ``train-sources`` and ``train-suite``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

__all__ = ["add_subcommands"]

logger = logging.getLogger(__name__)


def add_subcommands(subparsers: Any) -> None:
    """Add ``lab`` with its sub-sub-commands to an argparse ``subparsers`` object."""
    lab = subparsers.add_parser("lab", help="the merge lab: source models, exact objectives, data collection")
    sub = lab.add_subparsers(dest="lab_command", metavar="LAB_COMMAND")
    sub.required = True

    p = sub.add_parser("train-sources", help="train base, A and B with the committed recipe (needs torch)")
    p.add_argument("--out", default=None, help="output .npz (default: the package's data/lab/sources.npz)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser(
        "train-suite", help="train the sources of the SMM-Mini tasks (needs torch; writes suite/<task>.npz + manifest)"
    )
    p.add_argument("--task", action="append", default=None, help="a task (repeatable; default: every trained task)")
    p.add_argument("--out", default=None, help="output folder (default: the package's data/lab/suite)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_train_suite)

    p = sub.add_parser("table", help="reference accuracies: sources, uniform merge, random quantiles, CMA-ES best")
    p.add_argument("--kind", choices=("ps", "dfs", "both"), default="both")
    p.add_argument("--task", default=None, help="an SMM-Mini task (default: math-far-32, the committed pair)")
    p.add_argument("--n-random", type=int, default=2000, help="random configurations for the quantiles")
    p.add_argument("--cma-evals", type=int, default=1000, help="evaluations of the CMA-ES run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default=None, help="lab .npz (default: the committed one)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    p.set_defaults(func=_cmd_table)

    p = sub.add_parser(
        "relatedness", help="Spearman rho between SMM-Mini tasks sharing a space (shared uniform configs)"
    )
    p.add_argument("--task", action="append", default=None, help="a task (repeatable; default: every task)")
    p.add_argument("--n-configs", type=int, default=500, help="shared uniform configurations per space")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", default=None, help="also write the heat map to this PNG")
    p.add_argument("--json", action="store_true", help="print JSON instead of Markdown tables")
    p.set_defaults(func=_cmd_relatedness)

    p = sub.add_parser("collect", help="collect (or resume) random + CMA-ES + TPE rows into Parquet parts")
    p.add_argument("--kind", choices=("ps", "dfs"), required=True)
    p.add_argument("--out", required=True, help="output folder (part-*.parquet + plan.json)")
    p.add_argument("--preset", default=None, help="full (default) or tiny; explicit counts override it")
    for name in ("n-random", "cma-runs", "cma-evals", "tpe-runs", "tpe-trials", "random-chunk", "seed"):
        p.add_argument(f"--{name}", type=int, default=None)
    p.add_argument("--weights", default=None, help="lab .npz (default: the committed one)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_collect)

    p = sub.add_parser(
        "fidelity-check",
        help="rank correlation low vs full fidelity: exact subsets of the lab vs the surrogates' noise model",
    )
    p.add_argument("--kind", choices=("ps", "dfs", "both"), default="both")
    p.add_argument("--n-configs", type=int, default=300, help="uniform random configurations")
    p.add_argument("--n-seeds", type=int, default=10, help="subset seeds averaged per level")
    p.add_argument("--seed", type=int, default=0, help="seed of the random configurations")
    p.add_argument("--difficulty-spread", type=float, default=None, help="override the noise model's spread")
    p.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    p.set_defaults(func=_cmd_fidelity_check)


def _cmd_train(args: argparse.Namespace) -> int:
    from smm_plugins.lab.objectives import DEFAULT_WEIGHTS, save_lab
    from smm_plugins.lab.train import build_lab  # imports torch (one-line ImportError if missing)

    out = Path(args.out) if args.out else DEFAULT_WEIGHTS
    t0 = time.perf_counter()
    models = build_lab(progress=not args.no_progress)
    save_lab(out, models)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s")
    return 0


def _cmd_train_suite(args: argparse.Namespace) -> int:
    from smm_plugins.lab.suite import TASKS, get_task

    names = args.task or [t.name for t in TASKS if not t.legacy]
    tasks = [get_task(n) for n in names]  # an unknown name fails before torch is imported
    from smm_plugins.lab.train import record_legacy, train_task  # imports torch (one-line ImportError if missing)

    for t in tasks:
        t0 = time.perf_counter()
        path = train_task(t, args.out, progress=not args.no_progress)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s")
    if args.out is None:
        record_legacy()
    return 0


def _cmd_table(args: argparse.Namespace) -> int:
    from smm_plugins.lab.collect import format_table, lab_table
    from smm_plugins.lab.suite import get_task

    task = get_task(args.task or "math-far-32")
    kinds = ("ps", "dfs") if args.kind == "both" else (args.kind,)
    result = {}
    for kind in kinds:
        result[kind] = lab_table(
            kind, n_random=args.n_random, cma_evals=args.cma_evals, seed=args.seed, weights=args.weights, task=task.name
        )
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        for kind, rows in result.items():
            print(f"\n{kind.upper()} ({task.benchmark_name(kind)})\n")
            print(format_table(rows))
    return 0


def _cmd_relatedness(args: argparse.Namespace) -> int:
    from smm_plugins.lab.relatedness import format_relatedness, plot_relatedness, relatedness
    from smm_plugins.lab.suite import TASKS

    groups = relatedness(args.task or TASKS, n_configs=args.n_configs, seed=args.seed)
    if args.plot:
        plot_relatedness(groups, args.plot)
    if args.json:
        rows = [{"space": g.label, "tasks": list(g.tasks), "spearman": g.spearman.round(4).tolist()} for g in groups]
        print(json.dumps(rows, indent=1))
    else:
        print(format_relatedness(groups))
    return 0


def _cmd_collect(args: argparse.Namespace) -> int:
    import dataclasses

    from smm_plugins.lab.collect import PRESETS, collect

    preset = args.preset or "full"
    key = args.kind if preset == "full" else f"{preset}-{args.kind}"
    if key not in PRESETS:
        raise ValueError(f"--preset {preset!r} is not known; allowed: full, tiny")
    overrides = {
        f: getattr(args, f)
        for f in ("n_random", "cma_runs", "cma_evals", "tpe_runs", "tpe_trials", "random_chunk", "seed")
        if getattr(args, f) is not None
    }
    plan = dataclasses.replace(PRESETS[key], **overrides)
    t0 = time.perf_counter()
    rows = collect(plan, args.out, weights=args.weights, progress=not args.no_progress)
    print(f"{rows} rows under {args.out} ({time.perf_counter() - t0:.0f} s this session)")
    return 0


def _cmd_fidelity_check(args: argparse.Namespace) -> int:
    import dataclasses

    from smm_plugins.fidelity import SubsetNoiseModel
    from smm_plugins.lab.fidelity_check import fidelity_check, format_rows

    model = None if args.difficulty_spread is None else SubsetNoiseModel(args.difficulty_spread)
    kinds = ("ps", "dfs") if args.kind == "both" else (args.kind,)
    rows = [
        row
        for kind in kinds
        for row in fidelity_check(
            kind, n_configs=args.n_configs, n_seeds=args.n_seeds, seed=args.seed, noise_model=model
        )
    ]
    print(json.dumps([dataclasses.asdict(r) for r in rows], indent=1) if args.json else format_rows(rows))
    return 0
