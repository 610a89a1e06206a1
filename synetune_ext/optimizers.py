"""Syne Tune schedulers as optimisers of ``smm-bench compare`` (a plugin of ``smm_plugins.compare.optimizers``).

Entry points of group ``smm_plugins.optimizers``: ``synetune-random``, ``synetune-rea``, ``synetune-kde``
(alias ``synetune-tpe``), ``synetune-bore``. Each run is :func:`synetune_ext.run_simulated_tuning` with one
simulated worker, stopped after ``budget`` finished trials; options go to the scheduler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smm_plugins.benchmark import Benchmark
from smm_plugins.optimizer_api import OptimizerInfo, quiet_output
from synetune_ext.tuning import run_simulated_tuning

__all__ = ["BORE", "KDE", "RANDOM", "REA", "TPE", "SchedulerOptimizer"]


@dataclass(frozen=True)
class SchedulerOptimizer:
    """An optimiser function running one Syne Tune baseline scheduler, by its name in Syne Tune."""

    scheduler: str

    def __call__(
        self, benchmark: Benchmark, seed: int, budget: int, *, objective: str = "train_acc", **options: Any
    ) -> None:
        # run_simulated_tuning seeds the global numpy generator that RandomSearch draws from, and silences
        # the tuner's own logging; Syne Tune also prints.
        with quiet_output():
            run_simulated_tuning(
                benchmark,
                self.scheduler,
                max_trials=budget,
                seed=seed,
                metric=objective,
                scheduler_kwargs=options or None,
            )


def _info(name: str, scheduler: str, description: str, cost_hint: float) -> OptimizerInfo:
    return OptimizerInfo(
        name,
        SchedulerOptimizer(scheduler),
        framework="syne-tune",
        description=description,
        requires=("syne_tune",),
        cost_hint=cost_hint,
    )


# cost_hint: rough ms per trial, for scheduling only.
RANDOM = _info("synetune-random", "RandomSearch", "random search", 5)
REA = _info("synetune-rea", "REA", "regularized evolution", 5)
KDE = _info("synetune-kde", "TPE", "kernel-density TPE", 15)
TPE = _info("synetune-tpe", "TPE", "alias of synetune-kde", 15)
BORE = _info("synetune-bore", "BORE", "Bayesian optimisation by density-ratio estimation (slow)", 300)
