"""Per-adapter overhead: one evaluation through each framework adapter against the core, in one run.

For one configuration at a time (what an optimiser loop does), measures the median time per call of

* core: ``bench.evaluate(x, n_problems=n, seed=0)`` + ``bench.cost(x, n_problems=n)`` (the baseline);
* HPOBench: ``objective_function(Configuration, fidelity={"n_problems": n})`` and with a plain dict;
* Optuna: ``Problem(name, n_problems=n, seed=0).evaluate(params)`` (the sampler's own time, which
  dominates an Optuna trial, is not the adapter's);
* Syne Tune: ``load_blackbox(name).objective_function(config, fidelity={"n_problems": n})``,

at full fidelity and at the second level of the fidelity ladder. Blocks of calls of every candidate are
interleaved and repeated; times are this process's CPU time (robust to other load on the machine); the
ratio is each candidate's median over the core's median. A framework that is not installed is reported as such.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_adapters.py [--benchmarks smm-mini-ps,smm-mini-dfs] [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

from smm_plugins.fidelity import fidelity_ladder
from smm_plugins.registry import load_benchmark

Call = Callable[[], object]


def _candidates(name: str, n: int) -> tuple[dict[str, Call], dict[str, str]]:
    """Callables evaluating one configuration at ``n`` problems, and the frameworks that are missing."""
    bench = load_benchmark(name)
    x = bench.space.sample(1, rng=0)[0]
    params = bench.space.to_config(x)
    calls: dict[str, Call] = {
        "core evaluate + cost": lambda: (bench.evaluate(x, n_problems=n, seed=0), bench.cost(x, n_problems=n)),
    }
    missing: dict[str, str] = {}
    try:
        import hpobench_ext

        hb = hpobench_ext.get_benchmark(name, rng=0)
        config = hb.get_configuration_space().get_default_configuration()
        config = type(config)(hb.configuration_space, values=params)
        calls["HPOBench objective_function(Configuration)"] = lambda: hb.objective_function(
            config, fidelity={"n_problems": n}
        )
        calls["HPOBench objective_function(dict)"] = lambda: hb.objective_function(params, fidelity={"n_problems": n})
    except ImportError as exc:
        missing["HPOBench"] = str(exc)
    try:
        import optuna_ext

        problem = optuna_ext.Problem(name, n_problems=n, seed=0)
        calls["Optuna Problem.evaluate(params)"] = lambda: problem.evaluate(params)
    except ImportError as exc:
        missing["Optuna"] = str(exc)
    try:
        from syne_tune.blackbox_repository import load_blackbox

        import synetune_ext  # noqa: F401  (registers the blackboxes)

        blackbox = load_blackbox(name)
        calls["Syne Tune blackbox objective_function"] = lambda: blackbox.objective_function(
            params, fidelity={"n_problems": n}, seed=0
        )
        blackbox.objective_function(params, fidelity={"n_problems": n}, seed=0)  # may refuse this level
    except ImportError as exc:
        missing["Syne Tune"] = str(exc)
    except ValueError as exc:  # a blackbox whose fidelity values do not include n
        calls.pop("Syne Tune blackbox objective_function", None)
        missing["Syne Tune"] = f"level {n} not offered by the blackbox by name ({exc})"
    for call in calls.values():  # warm up: models loaded, kernels compiled
        call()
    return calls, missing


def _measure(calls: dict[str, Call], repeats: int, block: int) -> dict[str, float]:
    """Median CPU seconds per call of each candidate, blocks of ``block`` calls interleaved ``repeats`` times.

    CPU time of this process, not wall time: other processes on a shared machine do not inflate it.
    """
    times: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(repeats):
        for label, call in calls.items():
            t0 = time.process_time()
            for _ in range(block):
                call()
            times[label].append((time.process_time() - t0) / block)
    return {k: float(np.median(v)) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmarks", default="smm-mini-ps,smm-mini-dfs")
    parser.add_argument("--repeats", type=int, default=15, help="interleaved blocks per candidate")
    parser.add_argument("--block", type=int, default=20, help="calls per block")
    args = parser.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    print("| benchmark | n_problems | adapter | us per call | ratio to core |")
    print("|---|---|---|---|---|")
    for name in args.benchmarks.split(","):
        full = int(load_benchmark(name).n_problems_full["train_acc"])
        for n in (full, fidelity_ladder(full)[1]):
            calls, missing = _candidates(name, n)
            per_call = _measure(calls, args.repeats, args.block)
            base = per_call["core evaluate + cost"]
            for label, seconds in per_call.items():
                print(f"| {name} | {n} | {label} | {seconds * 1e6:.0f} | {seconds / base:.2f} |")
            for framework, why in missing.items():
                print(f"| {name} | {n} | {framework} | n/a | {why} |")


if __name__ == "__main__":
    main()
