"""Optimiser comparisons on SMM-Bench: the experiment runner (serial or Ray), optimisers, reports.

``smm-bench compare`` / :func:`run_experiment` run a grid of benchmark x optimiser x seed;
``smm-bench report`` / :func:`make_report` turn a result directory into plots, tables and tests.
Register your own optimiser with :func:`register_optimizer` or an entry point of the group
``smm_plugins.optimizers`` (see :mod:`smm_plugins.compare.optimizers`).
"""

from __future__ import annotations

from typing import Any

from smm_plugins.compare.execute import execute_run
from smm_plugins.compare.experiment import PRESETS, Experiment, load_experiment, preset, save_experiment
from smm_plugins.compare.optimizers import (
    OptimizerInfo,
    get_optimizer,
    list_optimizers,
    register_optimizer,
    register_optimizer_resolver,
)
from smm_plugins.compare.plan import RunSpec, plan_runs
from smm_plugins.compare.progress import GridSummary
from smm_plugins.compare.results import RunResult, read_run_meta, read_runs
from smm_plugins.compare.runner import run_experiment
from smm_plugins.compare.traced import BudgetExhausted, TracedBenchmark


def make_report(*args: Any, **kwargs: Any) -> Any:
    """See :func:`smm_plugins.compare.report.make_report` (imported lazily: it needs matplotlib)."""
    from smm_plugins.compare.report import make_report as _make_report

    return _make_report(*args, **kwargs)


__all__ = [
    "PRESETS",
    "BudgetExhausted",
    "Experiment",
    "GridSummary",
    "OptimizerInfo",
    "RunResult",
    "RunSpec",
    "TracedBenchmark",
    "execute_run",
    "get_optimizer",
    "list_optimizers",
    "load_experiment",
    "make_report",
    "plan_runs",
    "preset",
    "read_run_meta",
    "read_runs",
    "register_optimizer",
    "register_optimizer_resolver",
    "run_experiment",
    "save_experiment",
]
