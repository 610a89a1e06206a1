"""Syne Tune adapter: SMM-Bench benchmarks as Syne Tune blackboxes, simulated tuning in simulated seconds.

Importing this package registers every benchmark of ``smm_plugins.registry.list_benchmarks()`` with
Syne Tune's blackbox lookup, so that afterwards::

    from syne_tune.blackbox_repository import load_blackbox
    bb = load_blackbox("smm-mini-ps")
    BlackboxRepositoryBackend(blackbox_name="smm-mini-ps", elapsed_time_attr="elapsed_time")

work, also in processes that unpickle such a backend (``Tuner.load``, Ray workers). Each name exposes the
fidelity ladder ``n_problems`` (e.g. [39, 118, 356, 1069]) and simulated seconds of a real evaluation as
``elapsed_time``. ``run_simulated_tuning`` runs a quiet simulation; ``best_full_fidelity`` picks the incumbent
by its full-size accuracy.
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
    register_blackbox,
    registered_blackbox,
    registered_blackboxes,
)
from synetune_ext.results import best_full_fidelity
from synetune_ext.tuning import MULTI_FIDELITY_SCHEDULERS, run_simulated_tuning, tuner_sleep_time

__all__ = [
    "ELAPSED_TIME",
    "FIDELITY",
    "MULTI_FIDELITY_SCHEDULERS",
    "OBJECTIVES",
    "SMMBlackbox",
    "best_full_fidelity",
    "config_space",
    "register_blackbox",
    "registered_blackbox",
    "registered_blackboxes",
    "run_simulated_tuning",
    "tuner_sleep_time",
]


def _register_all() -> None:
    from smm_plugins.registry import list_benchmarks

    for name in list_benchmarks():
        register_blackbox(name)  # lazy: nothing is loaded until the blackbox is used


_register_all()
_backend.install()
