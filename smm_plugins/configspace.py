"""The canonical search space as a ``ConfigSpace.ConfigurationSpace``: the one translation every adapter uses.

ConfigSpace is imported when a space is translated, not when this module is imported, so the core
keeps working without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smm_plugins._deps import require
from smm_plugins.space import SearchSpace

if TYPE_CHECKING:
    import ConfigSpace

__all__ = ["configuration_space"]


def configuration_space(
    space: SearchSpace, seed: int | None = None, *, conditions: bool = True
) -> ConfigSpace.ConfigurationSpace:
    """Translate a canonical :class:`SearchSpace` into a ``ConfigSpace.ConfigurationSpace`` (same names, order, bounds).

    Floats become ``Float(lower, upper, default)``; categoricals become ``Categorical`` over their labels if
    they have any (e.g. ``"ties"``), else over the integer codes. A parameter's condition becomes an
    ``EqualsCondition`` (one parent value) or ``InCondition``, so conditional optimisers (SMAC, ...) see the
    conditional space and its configurations leave inactive parameters out (``SearchSpace.to_vector``
    fills them). ``conditions=False`` leaves the conditions out: a flat space for tools that refuse
    conditional ones (hposuite's Optuna wrapper); every parameter is then sampled, and the objective ignores
    inactive values. ``seed`` seeds the space's own sampler. Needs ConfigSpace
    (``pip install "smm-plugins[hpobench]"``).
    """
    cs_mod = require("ConfigSpace", "hpobench", who="smm_plugins.configspace")
    cs = cs_mod.ConfigurationSpace(name=space.name, seed=seed)
    hps = {}
    for p in space.parameters:
        meta = {"description": p.description} if p.description else None
        if p.kind == "float":
            hps[p.name] = cs_mod.Float(p.name, p.bounds, default=float(p.default), meta=meta)
        else:
            choices = list(p.labels) if p.labels else list(p.codes)
            hps[p.name] = cs_mod.Categorical(p.name, choices, default=p.label(int(p.default)), meta=meta)
    cs.add(list(hps.values()))
    clauses = []
    for p in space.parameters:
        if p.condition is not None and conditions:
            parent = space[p.condition.parent]
            values = [parent.label(int(v)) for v in p.condition.values]  # codes, once in a SearchSpace
            child, parent_hp = hps[p.name], hps[parent.name]
            if len(values) == 1:
                clauses.append(cs_mod.EqualsCondition(child, parent_hp, values[0]))
            else:
                clauses.append(cs_mod.InCondition(child, parent_hp, values))
    if clauses:
        cs.add(clauses)
    return cs
