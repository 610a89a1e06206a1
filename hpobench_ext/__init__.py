"""HPOBench adapter: SMM-Bench benchmarks as HPOBench benchmarks.

    from hpobench_ext import get_benchmark
    b = get_benchmark("smm-mini-ps", rng=1)
    config = b.get_configuration_space(seed=1).sample_configuration()
    res = b.objective_function(config, fidelity={"n_problems": 111})  # a fixed subset; omit: full, exact
    res["function_value"], res["cost"], res["info"]["accuracy"]
    b.objective_function_test(config)["info"]["test_accuracy"]

Classes (importable paths ``hpobench_ext:<Class>``): SMMBenchPS, SMMBenchDFS, SMMMiniPS, SMMMiniDFS,
SMMMiniPSTrue, SMMMiniDFSTrue, SMMMiniOpTrue, and one per other registered benchmark (``CLASS_PATHS``;
e.g. the members of the suite ``smm-mini``, named by ``class_name``). When HPOBench is installed they subclass its
``AbstractBenchmark``; otherwise a stand-in base class with the same contract (``HPOBENCH_AVAILABLE``).
Needs ConfigSpace: ``pip install "smm-plugins[hpobench]"``.
"""

from __future__ import annotations

from hpobench_ext._base import HPOBENCH_AVAILABLE, AbstractBenchmark
from hpobench_ext.benchmarks import (
    BENCHMARK_CLASSES,
    CLASS_PATHS,
    SMMBenchDFS,
    SMMBenchmark,
    SMMBenchPS,
    SMMMiniDFS,
    SMMMiniDFSTrue,
    SMMMiniOpTrue,
    SMMMiniPS,
    SMMMiniPSTrue,
    benchmark_class,
    class_name,
    configuration_space,
    fidelity_space,
    get_benchmark,
)

__all__ = [
    "AbstractBenchmark",
    "BENCHMARK_CLASSES",
    "CLASS_PATHS",
    "HPOBENCH_AVAILABLE",
    "SMMBenchDFS",
    "SMMBenchPS",
    "SMMBenchmark",
    "SMMMiniDFS",
    "SMMMiniDFSTrue",
    "SMMMiniOpTrue",
    "SMMMiniPS",
    "SMMMiniPSTrue",
    "benchmark_class",
    "class_name",
    "configuration_space",
    "fidelity_space",
    "get_benchmark",
]


def __getattr__(name: str) -> type[SMMBenchmark]:
    # The classes made for registered benchmarks without a named class (hpobench_ext:<Class> paths).
    for cls in BENCHMARK_CLASSES.values():
        if cls.__name__ == name:
            return cls
    raise AttributeError(f"module 'hpobench_ext' has no attribute {name!r}")
