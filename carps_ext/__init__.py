"""CARP-S adapter: SMM-Bench benchmarks as CARP-S objective functions and tasks.

    from carps_ext import SMMObjectiveFunction
    f = SMMObjectiveFunction("smm-mini-ps")          # a registered name or a surrogate directory
    f.configspace                                    # ConfigSpace space (smm_plugins.configspace)

Task configs for every registered benchmark ship in ``carps_ext/configs/task/SMM/{blackbox,multifidelity}``
(made by ``python -m carps_ext.generate_tasks``); CARP-S's runner finds them through Hydra's search path::

    python -m carps.run +task/SMM/blackbox=smm-mini-ps +optimizer/randomsearch=config \\
        'hydra.searchpath=[pkg://carps_ext.configs]'

Needs CARP-S: ``pip install "smm-plugins[carps]"``.
"""

from __future__ import annotations

from carps_ext.objective_function import SMMObjectiveFunction
from carps_ext.tasks import BENCHMARK_ID, CONFIG_DIR, SEARCH_PATH, default_n_trials, task_config, write_task_configs

__all__ = [
    "BENCHMARK_ID",
    "CONFIG_DIR",
    "SEARCH_PATH",
    "SMMObjectiveFunction",
    "default_n_trials",
    "task_config",
    "write_task_configs",
]
