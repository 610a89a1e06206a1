"""An SMM-Bench benchmark as a CARP-S ``ObjectiveFunction``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from smm_plugins._deps import require
from smm_plugins.benchmark import Benchmark
from smm_plugins.configspace import configuration_space
from smm_plugins.fidelity import fidelity_to_n_problems
from smm_plugins.registry import load_benchmark

require("carps", "carps", who="carps_ext")

from carps.objective_functions.objective_function import ObjectiveFunction  # noqa: E402
from carps.utils.trials import TrialInfo, TrialValue  # noqa: E402

if TYPE_CHECKING:
    import os

    from carps.loggers.abstract_logger import AbstractLogger
    from ConfigSpace import ConfigurationSpace

__all__ = ["SMMObjectiveFunction"]


class SMMObjectiveFunction(ObjectiveFunction):
    """A registered SMM-Bench benchmark (name, surrogate directory or instance) for CARP-S, which minimises.

    ``cost`` = 1 - train accuracy, ``virtual_time`` = the simulated seconds of the real evaluation
    (:meth:`Benchmark.cost`), ``additional_info`` = ``{"train_acc", "test_acc", "n_problems"}``.
    A trial's ``budget`` is the evaluation size ``n_problems``, checked by the core's
    :func:`~smm_plugins.fidelity.fidelity_to_n_problems` as in every adapter: in
    :func:`~smm_plugins.fidelity.fidelity_range` (e.g. [37, 1000]; ``None`` = full, the deterministic
    accuracy), a non-integral float rounded to the nearest count (recorded as ``n_problems``). Below full
    the accuracy is measured on the subset of problems chosen by the trial's ``seed``, else by ``seed``
    here (the task seed), so every trial replays exactly.
    """

    def __init__(
        self,
        benchmark: str | os.PathLike[str] | Benchmark,
        seed: int = 0,
        loggers: list[AbstractLogger] | None = None,
    ) -> None:
        super().__init__(loggers=loggers)
        self.benchmark: Benchmark = benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark)
        self.seed = seed
        self._configspace: ConfigurationSpace | None = None

    @property
    def configspace(self) -> ConfigurationSpace:
        """The benchmark's search space as a ConfigSpace space (names in model-input order)."""
        if self._configspace is None:
            self._configspace = configuration_space(self.benchmark.space, seed=self.seed)
        return self._configspace

    def _evaluate(self, trial_info: TrialInfo) -> TrialValue:
        start = time.time()
        b = self.benchmark
        x = b.space.to_vector(dict(trial_info.config))
        # Optimisers hand budgets over as floats (e.g. Hyperband's 37.04): the core's contract decides.
        full = int(b.n_problems_full["train_acc"])
        n = fidelity_to_n_problems(trial_info.budget, full)
        seed = self.seed if trial_info.seed is None else trial_info.seed
        acc = float(b.evaluate(x, "train_acc", n_problems=n, seed=None if n == full else seed))
        info: dict[str, Any] = {"train_acc": acc, "test_acc": float(b.evaluate(x, "test_acc")), "n_problems": n}
        end = time.time()
        return TrialValue(
            cost=1.0 - acc,
            time=end - start,
            virtual_time=float(b.cost(x, "train_acc", n)),
            starttime=start,
            endtime=end,
            additional_info=info,
        )

    def __repr__(self) -> str:
        return f"SMMObjectiveFunction({self.benchmark.name!r}, seed={self.seed})"
