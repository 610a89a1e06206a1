"""smm-plugins: SMM-Bench model-merging surrogate benchmarks for HPO frameworks.

The core owns the surrogate files, the search spaces, validation and fast LightGBM inference.
Adapters (``hpobench_ext``, ``synetune_ext``, ``optuna_ext``) translate it into each framework.
"""

from __future__ import annotations

import logging

from smm_plugins.benchmark import OBJECTIVES, Benchmark
from smm_plugins.errors import SMMBenchError
from smm_plugins.fidelity import FidelityError, fidelity_to_n_problems
from smm_plugins.registry import list_benchmarks, load_benchmark, register_benchmark, unregister_benchmark
from smm_plugins.space import Parameter, SearchSpace, dfs_space, ps_space
from smm_plugins.surrogate import SurrogateBenchmark

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Benchmark",
    "FidelityError",
    "OBJECTIVES",
    "Parameter",
    "SMMBenchError",
    "SearchSpace",
    "SurrogateBenchmark",
    "list_benchmarks",
    "unregister_benchmark",
    "load_benchmark",
    "register_benchmark",
    "dfs_space",
    "fidelity_to_n_problems",
    "ps_space",
    "__version__",
]
