"""A :class:`~smm_plugins.space.SearchSpace` as Optuna distributions (Optuna is imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smm_plugins._deps import require
from smm_plugins.space import Parameter, SearchSpace

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

__all__ = ["optuna_distributions"]


def optuna_distributions(space: SearchSpace, *, integer_categoricals: bool = False) -> dict[str, BaseDistribution]:
    """Optuna distributions of ``space``, by parameter name in the space's order.

    Floats become ``FloatDistribution(lower, upper)`` and categoricals ``CategoricalDistribution`` of their
    labels if they have any (e.g. ``"ties"``), else of their integer codes (in the space's order). With
    ``integer_categoricals=True`` an unlabelled categorical whose codes are contiguous integers becomes
    ``IntDistribution(min, max)`` instead: samplers that only handle numbers (CMA-ES) then model it as an
    ordered integer rather than sampling it independently (labelled choices, e.g. merge operators, have no
    order and stay categorical).
    Raises ``ImportError`` naming the extra to install if Optuna is missing.
    """
    dist = require("optuna.distributions", "optuna", who="smm_plugins.optuna_distributions")
    out: dict[str, BaseDistribution] = {}
    for p in space.parameters:
        if p.kind == "float":
            out[p.name] = dist.FloatDistribution(*p.bounds)
        elif integer_categoricals and not p.labels and _contiguous(p):
            out[p.name] = dist.IntDistribution(min(p.codes), max(p.codes))
        else:
            out[p.name] = dist.CategoricalDistribution(list(p.labels or p.codes))
    return out


def _contiguous(p: Parameter) -> bool:
    codes = sorted(p.codes)
    return codes == list(range(codes[0], codes[-1] + 1))
