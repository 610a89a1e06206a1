"""Syne Tune adapter: SMM-Bench benchmarks as Syne Tune blackboxes, simulated tuning in simulated seconds.

Importing this package registers every benchmark of ``smm_plugins.registry.list_benchmarks()`` with
Syne Tune's blackbox lookup, so that afterwards::

    from syne_tune.blackbox_repository import load_blackbox
    bb = load_blackbox("smm-mini-ps")
    BlackboxRepositoryBackend(blackbox_name="smm-mini-ps", elapsed_time_attr="elapsed_time")

work, also in processes that unpickle such a backend. ``run_simulated_tuning`` runs a quiet simulation.
Needs Syne Tune: ``pip install "smm-plugins[synetune]"``.
"""

from __future__ import annotations

from synetune_ext import _backend
from synetune_ext.blackbox import (
    ELAPSED_TIME,
    FIDELITY,
    OBJECTIVES,
    SMMBlackbox,
    config_space,
    default_fidelities,
    register_blackbox,
    registered_blackboxes,
)
from synetune_ext.tuning import MULTI_FIDELITY_SCHEDULERS, run_simulated_tuning

__all__ = [
    "ELAPSED_TIME",
    "FIDELITY",
    "MULTI_FIDELITY_SCHEDULERS",
    "OBJECTIVES",
    "SMMBlackbox",
    "config_space",
    "default_fidelities",
    "register_blackbox",
    "registered_blackboxes",
    "run_simulated_tuning",
]


def _register_all() -> None:
    from smm_plugins.registry import list_benchmarks

    for name in list_benchmarks():
        register_blackbox(name)  # lazy: nothing is loaded until the blackbox is used


_register_all()
_backend.install()
