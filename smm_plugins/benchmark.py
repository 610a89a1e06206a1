"""The benchmark contract shared by surrogates, the lab's true objectives and every adapter."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np

from smm_plugins.fidelity import SubsetNoiseModel, subset_seed
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
    #: Simulated cost of one real evaluation (seconds): a ``smm_plugins.cost.CostModel``, a name
    #: (``"official"``, ``"lab"``) or ``None`` for the default (see :func:`smm_plugins.cost.cost_model_for`).
    cost_model: Any = None
    #: Low-fidelity (subset) accuracies of a benchmark that only knows full-split accuracies; ``None``:
    #: the calibrated default for the space (:meth:`SubsetNoiseModel.for_space`).
    noise_model: SubsetNoiseModel | None = None
    #: True if :meth:`_predict_subset` measures a subset exactly (no noise model), as the lab's objectives do.
    exact_subsets: bool = False
    #: Descriptive metadata (task, citation, files, ...). Set by each subclass instance; on every benchmark
    #: from :func:`smm_plugins.registry.load_benchmark` it holds ``"source"``, one line saying where the
    #: benchmark's files come from, and ``"source_kind"``, one of :data:`smm_plugins.provenance.SOURCE_KINDS`
    #: (``"official"`` only for files installed from the authors' download).
    meta: dict[str, Any]

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

        ``n_problems`` (fidelity, an integer in 1..``n_problems_full[objective]``): the accuracy on the
        fixed subset of that many problems selected by ``seed`` (an int >= 0; ``None`` is subset 0; see
        :mod:`smm_plugins.fidelity`), a pure function of (configuration, objective, n_problems, seed).
        ``None`` or the full size give the exact full-split accuracy (the paper's setting), whatever the seed.
        """
        self._check_objective(objective)
        single = np.ndim(X) == 1
        batch = self.space.clip(X) if clip else self.space.validate(X)
        n = self._low_fidelity(objective, n_problems)
        if n is None:
            _check_seed(seed)
            y = np.asarray(self._predict(batch, objective), dtype=np.float64)
        else:
            y = np.asarray(self._predict_subset(batch, objective, n, subset_seed(seed)), dtype=np.float64)
        return float(y[0]) if single else y

    def _predict_subset(self, X: np.ndarray, objective: str, n_problems: int, seed: int) -> np.ndarray:
        """Accuracy on the subset of ``n_problems`` (< full) of ``seed``: the noise model on :meth:`_predict`.

        A benchmark that can evaluate a subset exactly (the lab's true objectives) overrides this.
        """
        if self.noise_model is None:  # resolved once per instance, not on every call
            self.noise_model = SubsetNoiseModel.for_space(self.space)
        full = int(self.n_problems_full[objective])
        acc = np.asarray(self._predict(X, objective), dtype=np.float64)
        return self.noise_model.subset_accuracy(acc, X, objective, n_problems, full, seed)

    def _check_n_problems(self, objective: str, n_problems: Any) -> int:
        full = int(self.n_problems_full[objective])
        if isinstance(n_problems, bool) or not isinstance(n_problems, (int, np.integer)) or not 1 <= n_problems <= full:
            raise ValueError(
                f"n_problems = {n_problems!r} is not allowed for objective {objective!r}; "
                f"allowed: an integer in [1, {full}]"
            )
        return int(n_problems)

    def _low_fidelity(self, objective: str, n_problems: Any) -> int | None:
        """``n_problems`` checked; ``None`` for the full split (``None`` or the full size)."""
        if n_problems is None:
            return None
        n = self._check_n_problems(objective, n_problems)
        return None if n == int(self.n_problems_full[objective]) else n

    def cost(self, X: Any, objective: str = "train_acc", n_problems: int | None = None) -> float | np.ndarray:
        """Simulated seconds (>= 0) one real evaluation of ``X`` would take, on ``n_problems`` problems.

        ``n_problems=None`` means the full split (``n_problems_full[objective]``). Uses ``cost_model``
        (see :mod:`smm_plugins.cost`; a default if unset). ``X`` is validated strictly, as in evaluate.
        """
        from smm_plugins.cost import CostModel, cost_model_for  # lazy: an optional layer on the contract

        self._check_objective(objective)
        single = np.ndim(X) == 1
        batch = self.space.validate(X)
        n = self.n_problems_full[objective] if n_problems is None else self._check_n_problems(objective, n_problems)
        if not isinstance(self.cost_model, CostModel):  # a name or None: resolved once per instance
            self.cost_model = cost_model_for(self, self.cost_model)
        model = self.cost_model
        seconds = np.asarray(model.seconds(batch, objective, int(n), self.space), dtype=np.float64)
        return float(seconds[0]) if single else seconds

    def evaluate_config(
        self,
        config: Mapping[str, Any],
        objective: str = "train_acc",
        *,
        clip: bool = False,
        n_problems: int | None = None,
        seed: int | None = None,
    ) -> float:
        """Accuracy of one configuration given as ``{name: value}`` (fidelity as in :meth:`evaluate`)."""
        x = self.space.to_vector(config)
        return float(self.evaluate(x, objective, clip=clip, n_problems=n_problems, seed=seed))

    def reference_configs(self) -> dict[str, np.ndarray]:
        """Named reference configurations (``{label: vector}``, model-input order): what a user gets without optimising.

        The space's references (:func:`smm_plugins.references.reference_configs`: the sources alone, the base,
        the default), then this benchmark's own (:meth:`benchmark_references`, e.g. the lab's ``"QP merge"``).
        Raises ``ValueError`` if a benchmark reference repeats a label of the space's.
        """
        from smm_plugins.references import reference_configs

        refs = reference_configs(self.space)
        for label, x in self.benchmark_references().items():
            if label in refs:
                raise ValueError(
                    f"benchmark reference label = {label!r} of {self.name!r} repeats one of the space's; "
                    f"allowed: a label other than {', '.join(refs)}"
                )
            x = self.space.to_vector(x) if isinstance(x, Mapping) else np.asarray(x, dtype=np.float64)
            refs[label] = self.space.validate(x[None, :], argname=f"reference {label!r}")[0]
        return refs

    def benchmark_references(self) -> Mapping[str, Any]:
        """This benchmark's own reference configurations, beside its space's: ``{label: vector or {name: value}}``.

        Default: those of the plugin registered under this benchmark's name in the entry-point group
        ``smm_plugins.references`` (:func:`smm_plugins.references.plugin_references`); a subclass may override.
        """
        from smm_plugins.references import plugin_references

        return plugin_references(self)

    def _check_objective(self, objective: str) -> None:
        if objective not in self.objectives:
            raise ValueError(f"objective = {objective!r} is not known; allowed: {', '.join(self.objectives)}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.space.dim})"


def _check_seed(seed: Any) -> None:
    """A seed must be valid even where it is not used (full fidelity), without advancing a Generator."""
    if seed is not None and not isinstance(seed, np.random.Generator):
        subset_seed(seed)
