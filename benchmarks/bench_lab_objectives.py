"""Time of the lab's exact objectives per configuration, with the library's one BLAS thread vs BLAS defaults.

The exact objectives (``smm-mini-ps-true``, ``smm-mini-dfs-true``) run many small matrix products. The
library runs them with one BLAS thread (:func:`smm_plugins._blas.one_blas_thread`); this script measures
what that saves against the BLAS library's default thread count, in one process, alternating the two
settings so that both see the same machine load. Run it WITHOUT ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``
set (a user script that does not set them is the case the limit is for); the thread counts are printed.

Prints, per benchmark and batch size: median milliseconds per configuration with one BLAS thread (the
library's setting) and with the default, and their ratio (default / one thread).

Usage::

    python benchmarks/bench_lab_objectives.py [--reps 15]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_info

import smm_plugins.lab.objectives as objectives
from smm_plugins.benchmark import Benchmark


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def _time_per_config(bench: Benchmark, X: np.ndarray, limited: bool) -> float:
    """Seconds per configuration of one ``evaluate`` call on ``X`` (one row at a time for a batch of 1)."""
    limit: Callable[[], contextlib.AbstractContextManager[None]] = (
        objectives.one_blas_thread if limited else contextlib.nullcontext
    )
    original = objectives.one_blas_thread
    objectives.one_blas_thread = limit  # the library's own code path, with or without the limit
    try:
        t0 = time.perf_counter()
        bench.evaluate(X if len(X) > 1 else X[0])
        return (time.perf_counter() - t0) / len(X)
    finally:
        objectives.one_blas_thread = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="timed calls per setting (alternating)")
    args = parser.parse_args()
    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, thread variables set: {env or 'none'}")
    print(f"BLAS default threads: {_blas_threads()}")
    print(f"{'benchmark':<20}{'batch':>6}{'1 thread ms/cfg':>17}{'default ms/cfg':>16}{'ratio':>8}")
    for bench in (objectives.ps_true_benchmark(), objectives.dfs_true_benchmark()):
        for batch in (1, 32):
            X = bench.space.sample(batch, 0)
            _time_per_config(bench, X, True), _time_per_config(bench, X, False)  # warm-up
            times: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.reps):
                for limited in (True, False):
                    times[limited].append(_time_per_config(bench, X, limited))
            one, default = (float(np.median(times[k])) * 1e3 for k in (True, False))
            print(f"{bench.name:<20}{batch:>6}{one:>17.2f}{default:>16.2f}{default / one:>8.2f}")


if __name__ == "__main__":
    main()
