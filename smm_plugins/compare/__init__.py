"""Optimiser comparisons on SMM-Bench: the experiment runner (serial or Ray), optimisers, reports.

``smm-bench compare`` / :func:`run_experiment` run a grid of benchmark x optimiser x seed;
``smm-bench report`` / :func:`make_report` turn a result directory into plots, tables and tests.
Register your own optimiser with :func:`register_optimizer` (see :mod:`smm_plugins.compare.optimizers`).
"""

from __future__ import annotations

from smm_plugins.compare.experiment import PRESETS, Experiment, load_experiment, preset, save_experiment
from smm_plugins.compare.optimizers import (
    BudgetExhausted,
    TracedBenchmark,
    get_optimizer,
    list_optimizers,
    register_optimizer,
)
from smm_plugins.compare.runner import execute_run, plan_runs, read_runs, run_experiment


def make_report(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See :func:`smm_plugins.compare.report.make_report` (imported lazily: it needs matplotlib)."""
    from smm_plugins.compare.report import make_report as _make_report

    return _make_report(*args, **kwargs)


__all__ = [
    "PRESETS",
    "BudgetExhausted",
    "Experiment",
    "TracedBenchmark",
    "execute_run",
    "get_optimizer",
    "list_optimizers",
    "load_experiment",
    "make_report",
    "plan_runs",
    "preset",
    "read_runs",
    "register_optimizer",
    "run_experiment",
    "save_experiment",
]
