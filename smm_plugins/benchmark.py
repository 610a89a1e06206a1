"""The benchmark contract shared by surrogates, the lab's true objectives and every adapter."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np

from smm_plugins.space import SearchSpace

__all__ = ["Benchmark", "OBJECTIVES"]

#: Objectives every benchmark offers: accuracy on the optimisation split and on the test split, in [0, 1].
OBJECTIVES: tuple[str, ...] = ("train_acc", "test_acc")


class Benchmark(abc.ABC):
    """A model-merging HPO benchmark: a search space and accuracies (higher is better, in [0, 1]).

    Subclasses implement :meth:`_predict` on a validated float64 batch; validation, clipping and the
    1-D/2-D convention live here so that every benchmark behaves the same.
    """

    #: Registered name, e.g. ``"smm-mini-ps"``.
    name: str
    #: Canonical search space (model-input order).
    space: SearchSpace
    objectives: tuple[str, ...] = OBJECTIVES
    #: Problems in each split of a full (real) evaluation: the upper end of the ``n_problems`` fidelity.
    n_problems_full: Mapping[str, int] = {"train_acc": 1069, "test_acc": 250}
    #: Simulated cost of one real evaluation (seconds); set by each benchmark (see smm_plugins.cost).
    cost_model: Any = None

    # -- to implement --------------------------------------------------------------------------
    @abc.abstractmethod
    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        """Accuracy in [0, 1] for each row of a validated (n, dim) float64 C-contiguous batch."""

    # -- public API ----------------------------------------------------------------------------
    # A list of numbers is one configuration (float), a list of rows a batch (array). NumPy arrays rarely
    # carry their number of dimensions in their type, so for them the result is typed float | ndarray.
    @overload
    def evaluate(
        self,
        X: Sequence[float],
        objective: str = ...,
        *,
        clip: bool = ...,
        n_problems: int | None = ...,
        seed: int | np.random.Generator | None = ...,
    ) -> float: ...
    @overload
    def evaluate(
        self,
        X: Sequence[Sequence[float]],
        objective: str = ...,
        *,
        clip: bool = ...,
        n_problems: int | None = ...,
        seed: int | np.random.Generator | None = ...,
    ) -> np.ndarray: ...
    @overload
    def evaluate(
        self,
        X: Any,
        objective: str = ...,
        *,
        clip: bool = ...,
        n_problems: int | None = ...,
        seed: int | np.random.Generator | None = ...,
    ) -> float | np.ndarray: ...
    def evaluate(
        self,
        X: Any,
        objective: str = "train_acc",
        *,
        clip: bool = False,
        n_problems: int | None = None,
        seed: int | np.random.Generator | None = None,
    ) -> float | np.ndarray:
        """Accuracy of configurations ``X`` (rows in model-input order), in [0, 1].

        A 1-D ``X`` is one configuration and gives a float; a 2-D ``X`` gives an array of shape (n,).
        ``clip=False`` (default) raises ``ValueError`` on any invalid value; ``clip=True`` applies the
        reference loader's semantics (continuous values clipped into bounds, categoricals unchecked).
        ``n_problems`` (optional fidelity, 1..``n_problems_full[objective]``): the accuracy measured on
        that many problems, i.e. ``Binomial(n_problems, acc) / n_problems`` drawn with ``seed``;
        ``None`` (default, the paper's setting) returns the deterministic full-size accuracy.
        """
        self._check_objective(objective)
        single = np.ndim(X) == 1
        batch = self.space.clip(X) if clip else self.space.validate(X)
        y = np.asarray(self._predict(batch, objective), dtype=np.float64)
        if n_problems is not None:
            y = self._sample_accuracy(y, objective, n_problems, seed)
        return float(y[0]) if single else y

    def _check_n_problems(self, objective: str, n_problems: Any) -> int:
        full = int(self.n_problems_full[objective])
        if isinstance(n_problems, bool) or not isinstance(n_problems, (int, np.integer)) or not 1 <= n_problems <= full:
            raise ValueError(
                f"n_problems = {n_problems!r} is not allowed for objective {objective!r}; "
                f"allowed: an integer in [1, {full}]"
            )
        return int(n_problems)

    def _sample_accuracy(self, acc: np.ndarray, objective: str, n_problems: Any, seed: Any) -> np.ndarray:
        # A real accuracy is a count of correct answers out of n problems: binomial around the mean.
        n = self._check_n_problems(objective, n_problems)
        rng = np.random.default_rng(seed)
        return rng.binomial(n, np.clip(acc, 0.0, 1.0)).astype(np.float64) / n

    def cost(self, X: Any, objective: str = "train_acc", n_problems: int | None = None) -> float | np.ndarray:
        """Simulated seconds (>= 0) one real evaluation of ``X`` would take, on ``n_problems`` problems.

        ``n_problems=None`` means the full split (``n_problems_full[objective]``). Uses ``cost_model``
        (see :mod:`smm_plugins.cost`; a default if unset). ``X`` is validated strictly, as in evaluate.
        """
        from smm_plugins.cost import default_cost_model  # lazy: cost.py is an optional layer on the contract

        self._check_objective(objective)
        single = np.ndim(X) == 1
        batch = self.space.validate(X)
        n = self.n_problems_full[objective] if n_problems is None else self._check_n_problems(objective, n_problems)
        if self.cost_model is None:  # resolved once per instance, not on every call
            self.cost_model = default_cost_model(self)
        model = self.cost_model
        seconds = np.asarray(model.seconds(batch, objective, int(n), self.space), dtype=np.float64)
        return float(seconds[0]) if single else seconds

    def evaluate_config(self, config: Mapping[str, Any], objective: str = "train_acc", *, clip: bool = False) -> float:
        """Accuracy of one configuration given as ``{name: value}``."""
        return float(self.evaluate(self.space.to_vector(config), objective, clip=clip))

    def _check_objective(self, objective: str) -> None:
        if objective not in self.objectives:
            raise ValueError(f"objective = {objective!r} is not known; allowed: {', '.join(self.objectives)}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.space.dim})"
