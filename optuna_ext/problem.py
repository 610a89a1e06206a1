"""SMM-Bench benchmarks as OptunaHub benchmark problems (``optunahub.benchmarks.BaseProblem``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from smm_plugins._deps import require
from smm_plugins._optuna import optuna_distributions
from smm_plugins.benchmark import Benchmark
from smm_plugins.cost import dfs_hops, is_dfs_space
from smm_plugins.fidelity import fidelity_to_n_problems, subset_seed
from smm_plugins.space import SearchSpace

if TYPE_CHECKING:
    import optuna
    import optunahub
    import optunahub.benchmarks
else:
    optuna = require("optuna", "optuna", who="optuna_ext")
    optunahub = require("optunahub", "optuna", who="optuna_ext")
    require("optunahub.benchmarks", "optuna", who="optuna_ext")

__all__ = ["Problem", "HopsProblem", "search_space", "resolve"]


def search_space(space: SearchSpace) -> dict[str, optuna.distributions.BaseDistribution]:
    """Translate a canonical :class:`SearchSpace` into Optuna distributions (same names and order).

    Floats become ``FloatDistribution(lower, upper)``, categorical codes ``CategoricalDistribution`` of ints
    (see :func:`smm_plugins._optuna.optuna_distributions`).
    """
    return optuna_distributions(space)


def resolve(benchmark: str | Benchmark) -> Benchmark:
    """A :class:`Benchmark` from a registered name, a surrogate directory or an instance."""
    if isinstance(benchmark, Benchmark):
        return benchmark
    if not isinstance(benchmark, str):
        raise TypeError(f"benchmark must be a registered name or a Benchmark, got {type(benchmark).__name__}")
    from smm_plugins.registry import load_benchmark

    return load_benchmark(benchmark)


class Problem(optunahub.benchmarks.BaseProblem):
    """Maximise the accuracy of an SMM-Bench benchmark, e.g. ``Problem("smm-mini-ps")``.

    ``objective``: ``"train_acc"`` (default, what an optimiser sees) or ``"test_acc"``, in [0, 1].
    ``n_problems`` (optional fidelity, in :func:`~smm_plugins.fidelity.fidelity_range` of the split, e.g.
    [37, 1000]; checked by :func:`~smm_plugins.fidelity.fidelity_to_n_problems`, as in every adapter:
    111.0 is 111, 5 a ``FidelityError``): the accuracy on the core's fixed subset of that many problems
    selected by ``seed`` (an int >= 0; ``None``: subset 0), the same value for the same configuration in
    any trial, order or process; ``None`` or the full size give the exact accuracy. ``self.n_problems`` is
    the count used. Invalid parameters raise ``ValueError`` (never clipped). Used as
    ``study.optimize(problem, ...)`` or via ask/tell. Each ``study.optimize`` trial records the fidelity as
    user attributes (:attr:`fidelity_attrs`: ``n_problems``, ``n_problems_full``, ``subset_seed``), so a
    value read back from storage tells its fidelity; with ``extras=True`` (default) also ``test_acc`` and
    ``cost_seconds`` (simulated seconds of the real evaluation); ``False`` skips that work.
    """

    def __init__(
        self,
        benchmark: str | Benchmark,
        *,
        objective: str = "train_acc",
        n_problems: int | None = None,
        seed: int | None = None,
        extras: bool = True,
    ) -> None:
        self.benchmark = resolve(benchmark)
        self.extras = bool(extras)
        self.benchmark._check_objective(objective)
        self.objective = objective
        self.n_problems = fidelity_to_n_problems(n_problems, int(self.benchmark.n_problems_full[objective]))
        self.seed = subset_seed(seed)
        self._search_space = search_space(self.benchmark.space)

    @property
    def search_space(self) -> dict[str, optuna.distributions.BaseDistribution]:
        """Parameter name -> Optuna distribution, in model-input order."""
        return dict(self._search_space)

    @property
    def directions(self) -> list[optuna.study.StudyDirection]:
        """``[MAXIMIZE]``: accuracy, higher is better."""
        return [optuna.study.StudyDirection.MAXIMIZE]

    def to_vector(self, params: Mapping[str, Any]) -> np.ndarray:
        """Model-input row for ``params`` (``ValueError`` for missing or unknown names)."""
        return self.benchmark.space.to_vector(params)

    def evaluate(self, params: dict[str, Any]) -> float | Sequence[float]:
        """Accuracy in [0, 1] of ``params`` (``{name: value}``; inactive conditional parameters may be left out)."""
        return self._accuracy(self.to_vector(params))

    def suggest(
        self, trial: optuna.Trial, distributions: Mapping[str, optuna.distributions.BaseDistribution] | None = None
    ) -> dict[str, Any]:
        """Suggest the trial's parameters define-by-run, in the space's order: only the active ones.

        A conditional parameter (e.g. ``slerp_t``, active when ``operator`` is ``"slerp"``) is suggested only
        when its condition holds, Optuna's own way of searching a conditional space (TPE models each
        parameter on the trials that have it). ``distributions``: default :attr:`search_space`.
        """
        dists = self._search_space if distributions is None else distributions
        space = self.benchmark.space
        params: dict[str, Any] = {}
        for name, dist in dists.items():
            if space.is_active(name, params):
                params[name] = trial._suggest(name, dist)  # as OptunaHub's BaseProblem.__call__ suggests
                trial._check_distribution(name, dist)
        return params

    @property
    def fidelity_attrs(self) -> dict[str, int]:
        """The fidelity of every value: ``n_problems`` (count used), ``n_problems_full`` and ``subset_seed``.

        ``study.optimize(problem)`` sets them as each trial's user attributes; with ask/tell, set them
        yourself (``for k, v in problem.fidelity_attrs.items(): trial.set_user_attr(k, v)``).
        """
        full = int(self.benchmark.n_problems_full[self.objective])
        return {"n_problems": self.n_problems, "n_problems_full": full, "subset_seed": self.seed}

    def _accuracy(self, x: np.ndarray) -> float:
        return float(self.benchmark.evaluate(x, self.objective, n_problems=self.n_problems, seed=self.seed))

    def __call__(self, trial: optuna.Trial) -> float | Sequence[float]:
        # A conditional space is suggested define-by-run (active parameters only); a flat one as OptunaHub does.
        value = self.evaluate(self.suggest(trial)) if self.benchmark.space.conditional else super().__call__(trial)
        for key, attr in self.fidelity_attrs.items():  # a low-fidelity value must not pass for a full one
            trial.set_user_attr(key, attr)
        if not self.extras:
            return value
        # Reporting extras: generalisation and the simulated cost of this evaluation.
        x = self.to_vector(trial.params)
        trial.set_user_attr("test_acc", float(self.benchmark.evaluate(x, "test_acc")))
        trial.set_user_attr("cost_seconds", float(self.benchmark.cost(x, self.objective, self.n_problems)))
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.benchmark.name!r}, objective={self.objective!r})"


class HopsProblem(Problem):
    """Multi-objective DFS problem: maximise accuracy, minimise the inference-path length (hops, 32-64).

    More hops cost more inference time (see :mod:`smm_plugins.cost`); this exposes the trade-off.
    ``evaluate`` returns ``[accuracy, hops]``.
    """

    def __init__(self, benchmark: str | Benchmark = "smm-mini-dfs", **kwargs: Any) -> None:
        super().__init__(benchmark, **kwargs)
        if not is_dfs_space(self.benchmark.space):
            raise ValueError(f"HopsProblem needs a DFS benchmark; {self.benchmark.name!r} is not one")

    @property
    def directions(self) -> list[optuna.study.StudyDirection]:
        """``[MAXIMIZE, MINIMIZE]``: accuracy, hops."""
        return [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]

    def evaluate(self, params: dict[str, Any]) -> Sequence[float]:
        """``[accuracy in [0, 1], hops]`` of ``params``."""
        x = self.to_vector(params)
        acc = self._accuracy(x)  # validates x
        return [acc, float(dfs_hops(x, self.benchmark.space)[0])]
