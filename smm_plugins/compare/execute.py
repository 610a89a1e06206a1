"""One run: an optimiser on a benchmark for a budget of evaluations, turned into arrays or a failure record."""

from __future__ import annotations

import logging
import os
import random
import socket
import sys
import time
import traceback
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from smm_plugins.benchmark import Benchmark
from smm_plugins.compare.optimizers import OptimizerInfo, get_optimizer
from smm_plugins.compare.plan import RunSpec
from smm_plugins.compare.results import RunResult
from smm_plugins.compare.shipping import load_run_benchmark
from smm_plugins.compare.traced import BudgetExhausted, TracedBenchmark, caused_by

__all__ = ["WORKER_ENV", "execute_batch", "execute_run", "failure_record"]

#: Environment of every worker: one inference / BLAS thread per process (many independent runs are
#: fastest that way).
WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "PYTHONWARNINGS": "ignore",
}


def execute_run(spec: RunSpec, opt: OptimizerInfo | None = None, payload: list[Any] | None = None) -> RunResult:
    """Run one optimiser on one benchmark and return its evaluations (plain arrays) or its failure.

    Never raises for a failing optimiser: the result then has ``status == "failed"`` and the traceback.
    """
    _quiet_process()
    where: dict[str, Any] = {"run_seed": spec.run_seed, "host": socket.gethostname(), "pid": os.getpid()}
    try:
        opt = opt or get_optimizer(spec.optimizer)
        t0 = time.perf_counter()
        bench = load_run_benchmark(spec.benchmark, payload)
        _warm_up(bench)
        where["load_seconds"] = time.perf_counter() - t0
        traced, optimise_s, cpu_s = _optimise(spec, opt, bench)
        return _finished(spec, bench, traced, optimise_s, cpu_s, where)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return failure_record(spec, exc, where)


def failure_record(spec: RunSpec, exc: BaseException, where: dict[str, Any] | None = None) -> RunResult:
    """The result of a run that raised ``exc`` (call it in the ``except`` block: it keeps the traceback).

    ``where``: ``run_seed``, ``host`` and ``pid`` when known.
    """
    return RunResult(
        run_id=spec.run_id,
        spec=asdict(spec),
        status="failed",
        finished=time.time(),
        error=f"{type(exc).__name__}: {exc}",
        traceback=traceback.format_exc(),
        **(where or {}),
    )


# Benchmarks this process has warmed up (the registry caches them per process: warm each once).
_WARMED: weakref.WeakSet[Benchmark] = weakref.WeakSet()


def _warm_up(bench: Benchmark) -> None:
    """Evaluate one configuration of every objective, and its cost, before any clock starts; once per object.

    Models load and compile lazily, on their first evaluation: without this the first run of each process
    would pay it inside its per-trial times (seconds, against milliseconds per trial). Surrogates are pure
    functions of the configuration, so the values of the run do not change.
    """
    try:
        if bench in _WARMED:
            return
        _WARMED.add(bench)
    except TypeError:  # an object without weak references: warm it every time
        pass
    x = bench.space.default_vector()
    for objective in bench.objectives:
        bench.evaluate(x, objective)
    bench.cost(x, "train_acc")


def _optimise(spec: RunSpec, opt: OptimizerInfo, bench: Benchmark) -> tuple[TracedBenchmark, float, float]:
    """Let the optimiser spend its budget on a traced copy; returns it, wall and CPU seconds."""
    # Some frameworks draw from the global generators: start every run from the same state.
    random.seed(spec.run_seed)
    np.random.seed(spec.run_seed)  # noqa: NPY002 - frameworks (Syne Tune) read the legacy global state
    traced = TracedBenchmark(bench, spec.objective, budget=spec.budget)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        with warnings.catch_warnings(), _one_thread():
            warnings.simplefilter("ignore")
            opt(traced, spec.run_seed, spec.budget, objective=spec.objective, **spec.options)
    except BaseException as exc:
        if not (caused_by(exc, BudgetExhausted) and traced.n_evaluations >= spec.budget):
            raise
    if traced.n_evaluations < spec.budget:
        raise RuntimeError(
            f"optimizer {spec.optimizer!r} made {traced.n_evaluations} evaluations of {spec.objective!r} through "
            f"the benchmark; the budget is {spec.budget}"
        )
    # optimise seconds - CPU seconds: time the CPU went to other processes.
    return traced, time.perf_counter() - t0, time.process_time() - c0


def _finished(
    spec: RunSpec, bench: Benchmark, traced: TracedBenchmark, optimise_s: float, cpu_s: float, where: dict[str, Any]
) -> RunResult:
    X, values, wall = traced.trace()
    t1 = time.perf_counter()
    test = (
        np.asarray(bench.evaluate(X, "test_acc"), dtype=np.float64)
        if "test_acc" in bench.objectives
        else np.full(len(values), np.nan)
    )
    test_s = time.perf_counter() - t1
    return RunResult(
        run_id=spec.run_id,
        spec=asdict(spec),
        status="ok",
        finished=time.time(),
        value=values,
        test_acc=test,
        sim_time=_simulated_time(bench, X),
        wall_time=wall,
        # Where the time went: optimise = surrogate inference during the run + the optimiser's own work;
        # the test_acc of every configuration afterwards, and the load before, are outside it.
        optimize_seconds=optimise_s,
        cpu_seconds=cpu_s,
        surrogate_seconds=traced.surrogate_seconds,
        optimizer_seconds=max(0.0, optimise_s - traced.surrogate_seconds),
        test_seconds=test_s,
        best_config=bench.space.to_config(X[int(np.argmax(values))]),
        **where,
    )


def _simulated_time(bench: Benchmark, X: np.ndarray) -> np.ndarray:
    # Cumulative simulated seconds of the real evaluations (Benchmark.cost, smm_plugins.cost); the
    # optimiser's own time is not included, so that the column is deterministic (wall_time has it).
    per_eval = np.asarray(bench.cost(X, "train_acc"), dtype=np.float64).reshape(-1)
    return np.cumsum(np.broadcast_to(per_eval, (len(X),)))


def execute_batch(
    specs: Sequence[RunSpec], opts: dict[str, OptimizerInfo], payloads: dict[str, list[Any] | None]
) -> list[RunResult]:
    """:func:`execute_run` of each of ``specs`` in turn, in a Ray worker: one task, several short runs.

    ``opts``: optimiser name -> info; ``payloads``: benchmark -> shipped files (or None). The whole
    process logs at WARNING (nobody reads a worker's INFO). Each run's values depend on its spec only, so
    a batch gives the same values as the runs one by one.
    """
    logging.getLogger().setLevel(logging.WARNING)
    return [execute_run(s, opts[s.optimizer], payloads.get(s.benchmark)) for s in specs]


def _quiet_process() -> None:
    for name in ("optuna", "syne_tune", "ray", "lightgbm"):
        log = logging.getLogger(name)
        if log.level != logging.WARNING:  # setLevel clears every logger's cache: ~0.5 ms a run
            log.setLevel(logging.WARNING)
    if "optuna" in sys.modules:
        optuna = sys.modules["optuna"]
        if optuna.logging.get_verbosity() != optuna.logging.WARNING:
            optuna.logging.set_verbosity(optuna.logging.WARNING)
    if "torch" in sys.modules:  # GP sampler: one torch thread, like every other library here
        sys.modules["torch"].set_num_threads(1)


# (number of imported modules, controller): finding the loaded thread pools scans the process's shared
# libraries (~7 ms, as much as a short run's optimiser); look again only after new imports.
_POOLS: tuple[int, Any] | None = None


def _one_thread() -> Any:
    # BLAS pools read OMP/OPENBLAS_NUM_THREADS only when numpy loads, which may be before the CLI set
    # them; threadpoolctl (a core dependency) limits already-loaded pools too.
    global _POOLS
    from threadpoolctl import ThreadpoolController

    if _POOLS is None or _POOLS[0] != len(sys.modules):
        _POOLS = (len(sys.modules), ThreadpoolController())
    return _POOLS[1].limit(limits=1)
