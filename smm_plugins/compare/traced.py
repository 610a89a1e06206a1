"""The benchmark an optimiser sees in a comparison: it records every evaluation and enforces the budget."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, overload

import numpy as np

from smm_plugins.benchmark import Benchmark
from smm_plugins.errors import SMMBenchError

__all__ = ["BudgetExhausted", "TracedBenchmark", "caused_by"]


class BudgetExhausted(SMMBenchError, RuntimeError):
    """Raised by :class:`TracedBenchmark` when an evaluation starts after the budget is used up."""


class TracedBenchmark(Benchmark):
    """A benchmark that records every evaluation of one objective (what an optimiser sees).

    Everything else (other objectives, attributes such as ``cost``) is delegated to the wrapped
    benchmark unchanged, so framework adapters can be handed this object instead of the original.
    """

    def __init__(self, inner: Benchmark, objective: str = "train_acc", budget: int | None = None) -> None:
        self._inner = inner
        self.name = inner.name
        self.space = inner.space
        self.objectives = tuple(inner.objectives)
        self.n_problems_full = inner.n_problems_full
        self.cost_model = getattr(inner, "cost_model", None)
        self.noise_model = inner.noise_model
        self.exact_subsets = inner.exact_subsets
        self.traced_objective = objective
        self.budget = budget
        self._rows: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._times: list[np.ndarray] = []
        self._n = 0
        #: Seconds spent inside the wrapped benchmark's evaluate (any objective): the surrogate's share.
        self.surrogate_seconds = 0.0
        self._t0 = time.perf_counter()

    # Anything the core benchmark offers beyond the contract (cost, hops, engine, ...) stays reachable.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)

    @property
    def inner(self) -> Benchmark:
        """The wrapped (untraced) benchmark."""
        return self._inner

    @property
    def n_evaluations(self) -> int:
        """Evaluations recorded so far (never more than the budget)."""
        return self._n

    @property
    def remaining(self) -> int | None:
        """Evaluations left in the budget (None without a budget)."""
        return None if self.budget is None else max(0, self.budget - self._n)

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        return self._inner._predict(X, objective)

    def _predict_subset(self, X: np.ndarray, objective: str, n_problems: int, seed: int) -> np.ndarray:
        return self._inner._predict_subset(X, objective, n_problems, seed)

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
    def evaluate(self, X: Any, objective: str = "train_acc", **kwargs: Any) -> float | np.ndarray:
        """Evaluate through the wrapped benchmark and record the call if it is the traced objective."""
        if objective != self.traced_objective:
            t = time.perf_counter()
            y = self._inner.evaluate(X, objective, **kwargs)
            self.surrogate_seconds += time.perf_counter() - t
            return y
        if self.budget is not None and self._n >= self.budget:
            raise BudgetExhausted(f"the budget of {self.budget} evaluations is used up")
        t = time.perf_counter()
        y = self._inner.evaluate(X, objective, **kwargs)
        self.surrogate_seconds += time.perf_counter() - t
        # Record what was evaluated: with clip=True that is the clipped configuration.
        self.record(self.space.clip(X) if kwargs.get("clip") else X, y)
        return y

    def record(self, X: Any, values: Any) -> None:
        """Record evaluations made out of this object's sight (e.g. by an adapter that loads its own copy).

        ``X``: one configuration (1-D, model-input order) or a batch; ``values``: the objective value(s).
        Rows beyond the budget are dropped.
        """
        rows = np.array(X, dtype=np.float64, ndmin=2)
        vals = np.array(values, dtype=np.float64, ndmin=1).reshape(-1)
        if rows.shape[0] != vals.shape[0]:
            raise ValueError(f"record got {rows.shape[0]} configurations but {vals.shape[0]} values")
        if self.budget is not None:
            keep = max(0, self.budget - self._n)
            rows, vals = rows[:keep], vals[:keep]
        if not len(vals):
            return
        self._rows.append(rows)
        self._values.append(vals)
        self._times.append(np.full(len(vals), time.perf_counter() - self._t0))
        self._n += len(vals)

    def trace(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, values, wall_seconds)`` of the recorded evaluations, in order."""
        if not self._n:
            return np.empty((0, self.space.dim)), np.empty(0), np.empty(0)
        return np.vstack(self._rows), np.concatenate(self._values), np.concatenate(self._times)


def caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """True if ``exc`` or any exception in its ``__cause__``/``__context__`` chain is a ``kind``.

    Frameworks wrap exceptions raised inside their callbacks; :class:`BudgetExhausted` may arrive wrapped.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
