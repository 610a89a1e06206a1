"""HPOBench random search as an optimiser of ``smm-bench compare`` (a plugin of ``smm_plugins.compare.optimizers``).

Entry point ``hpobench-random`` of group ``smm_plugins.optimizers``: ConfigSpace samples of
``get_configuration_space(seed)`` evaluated by ``objective_function`` of :func:`hpobench_ext.get_benchmark`.
"""

from __future__ import annotations

from hpobench_ext.benchmarks import get_benchmark
from smm_plugins.benchmark import Benchmark
from smm_plugins.optimizer_api import OptimizerInfo, quiet_output

__all__ = ["RANDOM", "hpobench_random"]


def hpobench_random(benchmark: Benchmark, seed: int, budget: int, *, objective: str = "train_acc") -> None:
    """Random search: ConfigSpace samples evaluated through the HPOBench ``objective_function``."""
    if objective != "train_acc":
        raise ValueError(f"hpobench-random optimises train_acc only (HPOBench's function_value), not {objective!r}")
    # Handed the instance itself, the adapter evaluates this (traced, budgeted) benchmark.
    bench = get_benchmark(benchmark, rng=seed)
    cs = bench.get_configuration_space(seed)
    with quiet_output():
        for _ in range(budget):
            bench.objective_function(dict(cs.sample_configuration()))


RANDOM = OptimizerInfo(
    "hpobench-random",
    hpobench_random,
    framework="hpobench",
    description="ConfigSpace random search through the HPOBench interface",
    requires=("ConfigSpace",),
    cost_hint=3,
)
