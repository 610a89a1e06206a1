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


def configuration_space(space: SearchSpace, seed: int | None = None) -> ConfigSpace.ConfigurationSpace:
    """Translate a canonical :class:`SearchSpace` into a ``ConfigSpace.ConfigurationSpace`` (same names, order, bounds).

    Floats become ``Float(lower, upper, default)``; categorical codes become ``Categorical`` over the integer
    codes. ``seed`` seeds the space's own sampler. Needs ConfigSpace (``pip install "smm-plugins[hpobench]"``).
    """
    cs_mod = require("ConfigSpace", "hpobench", who="smm_plugins.configspace")
    cs = cs_mod.ConfigurationSpace(name=space.name, seed=seed)
    hps = []
    for p in space.parameters:
        meta = {"description": p.description} if p.description else None
        if p.kind == "float":
            hps.append(cs_mod.Float(p.name, p.bounds, default=float(p.default), meta=meta))
        else:
            hps.append(cs_mod.Categorical(p.name, list(p.codes), default=int(p.default), meta=meta))
    cs.add(hps)
    return cs
