"""The lab's operator space as an exact benchmark: ``smm-mini-op-true``.

The merge operator is a categorical named ``operator`` (linear, SLERP, TIES, DARE; codes 0-3) and each
operator's hyperparameters are conditional parameters, active only for the operators that use them:

============== ================ ==================== ===========================================
parameter      range            active when          meaning
============== ================ ==================== ===========================================
operator       linear, slerp,   always               the merge operator (code 0, 1, 2, 3)
               ties, dare
weight_A       [0, 1.5]         linear, ties, dare   weight of A's task vector
weight_B       [0, 1.5]         linear, ties, dare   weight of B's task vector
slerp_t        [0, 1]           slerp                0 = A, 1 = B, spherical in between
ties_density   [0.05, 1]        ties                 fraction of each task vector's entries kept
dare_drop      [0, 0.9]         dare                 probability of dropping an entry
============== ================ ==================== ===========================================

The operators (:mod:`smm_plugins.lab.operators`) act on every block parameter of the lab's base, A and
B (one global set of hyperparameters for all blocks); embedding and head are the base's. The objectives
are those of the other lab benchmarks (``train_acc``, ``test_acc`` on the committed target splits,
exact subsets at lower fidelity), inherited from :class:`~smm_plugins.lab.objectives._LabBenchmark`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from smm_plugins.lab.network import BLOCK_KEYS, head_predictions, run_blocks_batched
from smm_plugins.lab.objectives import LabModels, _LabBenchmark
from smm_plugins.lab.operators import (
    OPERATORS,
    dare_fields,
    dare_merge,
    linear_merge,
    slerp_merge,
    sorted_magnitudes,
    task_vectors,
    ties_merge,
)
from smm_plugins.registry import BenchmarkEntry
from smm_plugins.space import Condition, Parameter, SearchSpace

__all__ = [
    "OP_NAME",
    "operator_space",
    "operator_references",
    "OperatorMerger",
    "OperatorTrueBenchmark",
    "op_true_benchmark",
    "OP_TRUE_ENTRY",
]

OP_NAME = "smm-mini-op-true"
#: Range of the task-vector weights: beyond 1 as task arithmetic's and TIES' scaling often is.
WEIGHT_BOUNDS: tuple[float, float] = (0.0, 1.5)


def operator_space(name: str = OP_NAME) -> SearchSpace:
    """The operator space: ``operator`` (linear, slerp, ties, dare), then the operators' conditional parameters."""
    weighted = Condition("operator", ("linear", "ties", "dare"))

    def floating(pname: str, bounds: tuple[float, float], cond: Condition, description: str) -> Parameter:
        return Parameter(pname, "float", *bounds, default=0.5, description=description, condition=cond)

    params = (
        Parameter(
            "operator",
            "categorical",
            choices=tuple(range(len(OPERATORS))),
            labels=OPERATORS,
            default=0,
            description="merge operator: linear (task arithmetic), slerp, ties or dare (then linear)",
        ),
        floating("weight_A", WEIGHT_BOUNDS, weighted, "weight of source A's task vector (linear, TIES, DARE)"),
        floating("weight_B", WEIGHT_BOUNDS, weighted, "weight of source B's task vector (linear, TIES, DARE)"),
        floating("slerp_t", (0.0, 1.0), Condition("operator", ("slerp",)), "SLERP position: 0 = A, 1 = B"),
        floating("ties_density", (0.05, 1.0), Condition("operator", ("ties",)), "TIES: fraction of entries kept"),
        floating("dare_drop", (0.0, 0.9), Condition("operator", ("dare",)), "DARE: probability of dropping an entry"),
    )
    return SearchSpace(
        name=name,
        parameters=params,
        description="choice of merge operator (linear, SLERP, TIES, DARE) and its hyperparameters, for A and B",
        metadata={"kind": "operator", "n_sources": 2},
    )


class OperatorMerger:
    """Merged block parameters of operator-space configurations, for a lab's base, A and B."""

    def __init__(self, lab: LabModels) -> None:
        self.base_net = lab.base
        self._base = lab.base.block_params()
        self._a, self._b = lab.a.block_params(), lab.b.block_params()
        self._taus = task_vectors(lab.base, lab.a, lab.b)
        # Computed once: the fixed per-tensor facts every TIES / DARE merge needs.
        self._magnitudes = sorted_magnitudes(self._taus)
        self._fields = dare_fields(self._taus)
        self._last: tuple[bytes, dict[str, np.ndarray]] | None = None

    def merge(self, row: np.ndarray) -> dict[str, np.ndarray]:
        """Block parameters of one configuration (model-input row of :func:`operator_space`)."""
        code, w_a, w_b, slerp_t, density, drop = (float(v) for v in row)
        if code not in (0, 1, 2, 3):  # also under clip=True, which passes categoricals unchecked
            raise ValueError(
                f"variable 'operator' = {code!r} is not a valid category; allowed: one of "
                + ", ".join(f"{i} ({op})" for i, op in enumerate(OPERATORS))
            )
        op = OPERATORS[int(code)]
        used = {"linear": (w_a, w_b), "slerp": (slerp_t,), "ties": (w_a, w_b, density), "dare": (w_a, w_b, drop)}[op]
        if not all(np.isfinite(used)):
            raise ValueError(f"configuration {list(row)!r} has a non-finite active value for operator {op!r}")
        if op == "linear":
            return linear_merge(self._base, self._taus, (w_a, w_b))
        if op == "slerp":
            return slerp_merge(self._a, self._b, slerp_t)
        if op == "ties":
            return ties_merge(self._base, self._taus, (w_a, w_b), density, magnitudes=self._magnitudes)
        return dare_merge(self._base, self._taus, (w_a, w_b), drop, fields=self._fields)

    def merged_blocks(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Block parameters of each configuration, stacked (L, C, ...) as the batched forward pass takes them."""
        key = rows.tobytes()
        last = self._last  # one read: another thread may replace it
        if last is not None and last[0] == key:  # the same chunk for the next objective
            return last[1]
        merges = [self.merge(row) for row in rows]
        blocks = {k: np.stack([m[k] for m in merges], axis=1) for k in BLOCK_KEYS}
        self._last = (key, blocks)
        return blocks

    def predict(self, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Predicted classes (C, n) of the merged models for inputs ``X`` (n, D_IN)."""
        h = run_blocks_batched(self.base_net.embed(X)[None], **self.merged_blocks(rows))
        return head_predictions(self.base_net, h)


class OperatorTrueBenchmark(_LabBenchmark):
    """Exact operator-space objective: accuracy of the chosen operator's merge of A and B onto the base."""

    name = OP_NAME
    space = operator_space()
    #: Measured interleaved with smm-mini-ps-true (1.02x its CPU time per configuration, docs/operators.md),
    #: scaled to its idle-core 5.2 ms.
    eval_seconds = 0.0053

    def __init__(self, weights: str | os.PathLike[str] | None = None, *, cost_model: Any = None) -> None:
        super().__init__(weights, cost_model=cost_model)
        self._merger = OperatorMerger(self.lab)

    def _predict_classes(self, pts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self._merger.predict(pts, rows)


def operator_references(bench: OperatorTrueBenchmark) -> dict[str, dict[str, Any]]:
    """Reference configurations of the operator space (entry-point group ``smm_plugins.references``).

    The sources alone and the base, as linear merges (the labels of the PS space's references): what a user
    gets without merging, beside the space's default (the average of A and B).
    """
    del bench  # the same for every instance
    return {
        "A alone": {"operator": "linear", "weight_A": 1.0, "weight_B": 0.0},
        "B alone": {"operator": "linear", "weight_A": 0.0, "weight_B": 1.0},
        "base": {"operator": "linear", "weight_A": 0.0, "weight_B": 0.0},
    }


def op_true_benchmark(
    weights: str | os.PathLike[str] | None = None, *, cost_model: Any = None
) -> OperatorTrueBenchmark:
    """The exact operator-space benchmark ``smm-mini-op-true`` (committed weights unless ``weights`` is given).

    ``cost_model``: ``None`` (a real 7B merge, as the other lab benchmarks), ``"lab"`` (the lab's measured
    seconds) or a :class:`smm_plugins.cost.CostModel`.
    """
    return OperatorTrueBenchmark(weights, cost_model=cost_model)


# Registration of the group ``smm_plugins.benchmarks`` (pyproject.toml).
OP_TRUE_ENTRY = BenchmarkEntry(
    OP_NAME,
    f"{__name__}:op_true_benchmark",
    description="the merge lab's exact operator space: linear / SLERP / TIES / DARE with conditional parameters",
    kind="true",
    eval_seconds=OperatorTrueBenchmark.eval_seconds,
)
