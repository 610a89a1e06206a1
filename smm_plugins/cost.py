"""Cost models: the simulated seconds one *real* evaluation of a configuration would take.

Every benchmark answers instantly from a surrogate, but an optimiser on a real merge problem pays for
each evaluation. Adapters report this cost where their framework expects one (HPOBench ``cost``,
Syne Tune's elapsed time), so that anytime plots and budgets are in realistic seconds.

Two models share one linear form (see ``docs/adapters.md`` for the rationale of the constants)::

    seconds = fixed_seconds + seconds_per_problem[objective] * n_problems * path_factor

where ``path_factor`` is 1 for PS and ``hops / reference_layers`` for DFS (inference cost grows with
the number of decoder layers a token passes through; a DFS path has 32-64 hops).

* :class:`OfficialCostModel` models a real 7B merge-and-evaluate run: the default of every benchmark,
  the embedded lab surrogates included (they stand in for the real problem).
* :class:`LabCostModel` spreads measured seconds of one full-size evaluation over its problems: the
  default of a surrogate whose ``meta["eval_seconds"]`` records them, and the ``"lab"`` option (the merge
  lab's own milliseconds) of the lab benchmarks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Re-exported where users import them from: DFS semantics live in smm_plugins.dfs, the fidelity contract in
# smm_plugins.fidelity.
from smm_plugins.dfs import dfs_hops, hop_counts, is_dfs_space
from smm_plugins.fidelity import fidelity_to_n_problems
from smm_plugins.space import SearchSpace

__all__ = [
    "CostModel",
    "OfficialCostModel",
    "LabCostModel",
    "dfs_hops",
    "is_dfs_space",
    "default_cost_model",
    "cost_model_for",
    "COST_MODEL_NAMES",
    "fidelity_to_n_problems",
    "MERGE_SECONDS",
    "SECONDS_PER_PROBLEM",
    "REFERENCE_LAYERS",
]

logger = logging.getLogger(__name__)

#: Seconds to build one merged 7B model: read base + two fine-tunes (3 x 14.5 GB fp16) and apply the
#: layer-wise recipe on a GPU (PS), or assemble the layer stack from the two source models (DFS).
MERGE_SECONDS: float = 60.0
#: Seconds of greedy chain-of-thought generation per problem for a 32-layer 7B model with batched
#: inference on one data-centre GPU (~250 new tokens at ~1,000 output tokens/s aggregate).
SECONDS_PER_PROBLEM: Mapping[str, float] = {"train_acc": 0.25, "test_acc": 0.25}
#: Decoder layers of the source models (Mistral-7B): the path length the per-problem seconds refer to.
REFERENCE_LAYERS: int = 32


@dataclass(frozen=True)
class CostModel:
    """Linear cost model: ``fixed_seconds + seconds_per_problem[objective] * n_problems * path_factor``.

    ``seconds_per_problem`` is for a path through each layer once; for DFS spaces the per-problem part
    scales with ``hops / n_layers`` of the space (``reference_layers`` where the space does not say;
    ``scale_with_hops=False`` turns that off).
    """

    fixed_seconds: float = 0.0
    seconds_per_problem: Mapping[str, float] = field(default_factory=lambda: dict(SECONDS_PER_PROBLEM))
    reference_layers: int = REFERENCE_LAYERS
    scale_with_hops: bool = True

    def __post_init__(self) -> None:
        if not (np.isfinite(self.fixed_seconds) and self.fixed_seconds >= 0):
            raise ValueError(f"fixed_seconds = {self.fixed_seconds!r}; allowed: a finite number >= 0")
        for obj, s in self.seconds_per_problem.items():
            if not (np.isfinite(s) and s >= 0):
                raise ValueError(f"seconds_per_problem[{obj!r}] = {s!r}; allowed: a finite number >= 0")
        if int(self.reference_layers) < 1:
            raise ValueError(f"reference_layers = {self.reference_layers!r}; allowed: an integer >= 1")
        object.__setattr__(self, "seconds_per_problem", dict(self.seconds_per_problem))

    def seconds(self, X: np.ndarray, objective: str, n_problems: int, space: SearchSpace) -> np.ndarray:
        """Simulated seconds of one real evaluation of each validated row of ``X`` (shape (n,), >= 0).

        ``n_problems`` is the evaluation size (problems generated for), ``objective`` picks the split.
        ``X`` must be validated against ``space`` (as :meth:`Benchmark.cost` does); it is not checked again.
        """
        try:
            per_problem = float(self.seconds_per_problem[objective])
        except KeyError:
            raise ValueError(
                f"objective = {objective!r} has no per-problem cost; allowed: {', '.join(self.seconds_per_problem)}"
            ) from None
        arr = np.asarray(X, dtype=np.float64).reshape(-1, space.dim)
        factor = np.ones(arr.shape[0])
        if self.scale_with_hops and is_dfs_space(space):
            # A path through every layer once costs what the source model costs: hops / layers of the space.
            layers = int(space.metadata.get("n_layers", self.reference_layers))
            factor = hop_counts(arr[:, space.is_categorical]) / float(layers)
        return self.fixed_seconds + per_problem * float(n_problems) * factor


@dataclass(frozen=True)
class OfficialCostModel(CostModel):
    """A real 7B evaluation (SMM-Bench-PS/DFS): merge, then generation over the split's problems.

    Defaults: ``fixed_seconds`` = :data:`MERGE_SECONDS` (60 s), ``seconds_per_problem`` =
    :data:`SECONDS_PER_PROBLEM` (0.25 s for both splits), DFS scaled by hops / 32. A full optimisation-split
    evaluation of PS is then 60 + 0.25 * 1069 = 327 s (about 5.5 minutes). Override any field, e.g.
    ``OfficialCostModel(seconds_per_problem={"train_acc": 2.0, "test_acc": 2.0})`` for unbatched inference.
    """

    fixed_seconds: float = MERGE_SECONDS


@dataclass(frozen=True)
class LabCostModel(CostModel):
    """The merge lab's cost: seconds measured for one full-size evaluation, proportional to ``n_problems``."""

    @classmethod
    def from_eval_seconds(
        cls,
        eval_seconds: float | Mapping[str, float],
        n_problems_full: Mapping[str, int],
        *,
        fixed_seconds: float = 0.0,
        **kwargs: Any,
    ) -> LabCostModel:
        """Build from the lab's measured seconds of one full evaluation (per objective, or one number for all).

        ``eval_seconds`` is for ``n_problems_full[objective]`` problems (and, for DFS, a path of
        ``reference_layers`` hops); it is spread evenly over the problems after ``fixed_seconds``.
        """
        per = eval_seconds if isinstance(eval_seconds, Mapping) else {o: eval_seconds for o in n_problems_full}
        spp = {}
        for obj, full in n_problems_full.items():
            total = float(per[obj])
            if not (np.isfinite(total) and total >= fixed_seconds):
                raise ValueError(f"eval_seconds[{obj!r}] = {total!r}; allowed: a finite number >= {fixed_seconds}")
            spp[obj] = (total - fixed_seconds) / float(full)
        return cls(fixed_seconds=fixed_seconds, seconds_per_problem=spp, **kwargs)


#: Names accepted by :func:`cost_model_for` (and a benchmark's ``cost_model`` attribute).
COST_MODEL_NAMES: tuple[str, ...] = ("official", "lab")


def _lab_eval_seconds(benchmark: Any) -> Any:
    own = getattr(benchmark, "eval_seconds", None)
    if own:
        return own
    # The registry imports the benchmarks, which import this module: looked up on use. The measured seconds
    # come with a benchmark's registration (its own, or the one of the real objective it stands for).
    from smm_plugins.registry import measured_eval_seconds

    measured = measured_eval_seconds()
    name = getattr(benchmark, "name", "")
    if name not in measured:
        raise ValueError(
            f"cost model 'lab' needs the merge lab's measured seconds; benchmark {name or '?'!r} "
            f"has none (allowed for: {', '.join(measured)})"
        )
    return measured[name]


def _measured_eval_seconds(benchmark: Any) -> Any:
    meta = getattr(benchmark, "meta", None)
    return meta.get("eval_seconds") if isinstance(meta, Mapping) else None


def default_cost_model(benchmark: Any) -> CostModel:
    """The cost model of a benchmark that sets none: a real evaluation of the problem it stands for.

    A surrogate whose ``meta["eval_seconds"]`` records measured seconds of its real evaluations gets a
    :class:`LabCostModel` of those; every other benchmark, the embedded ``smm-mini-*`` ones and the
    lab's exact objectives included, is treated as a real 7B merge problem (:class:`OfficialCostModel`)
    on its own split sizes. The lab's own compute seconds are ``cost_model_for(benchmark, "lab")``.
    """
    measured = _measured_eval_seconds(benchmark)
    if measured:
        return LabCostModel.from_eval_seconds(measured, dict(benchmark.n_problems_full))
    return OfficialCostModel()


def cost_model_for(benchmark: Any, spec: CostModel | str | None = None) -> CostModel:
    """Resolve a cost-model choice for ``benchmark``: ``None`` (its default), a name or a :class:`CostModel`.

    Names: ``"official"`` (a real 7B merge and evaluation, :class:`OfficialCostModel`) and ``"lab"`` (the
    merge lab's measured seconds of one evaluation of its small networks, milliseconds: lab benchmarks only).
    """
    if spec is None:
        return default_cost_model(benchmark)
    if isinstance(spec, CostModel):
        return spec
    if spec == "official":
        return OfficialCostModel()
    if spec == "lab":
        return LabCostModel.from_eval_seconds(_lab_eval_seconds(benchmark), dict(benchmark.n_problems_full))
    raise ValueError(
        f"cost_model = {spec!r} is not allowed; allowed: None, {', '.join(map(repr, COST_MODEL_NAMES))} "
        "or a smm_plugins.cost.CostModel"
    )
