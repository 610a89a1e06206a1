"""Optimiser runs of a validation: the settings, one seeded run (:func:`run_optimizer`), every (optimiser,
seed, side) run serially or on worker processes, and the exploit rows of a surrogate."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins.benchmark import Benchmark

__all__ = ["OPTIMIZERS", "RunTrace", "ValidateConfig", "exploit_rows", "resolve_pair", "run_all", "run_optimizer"]

logger = logging.getLogger(__name__)

#: Optimisers compared by default (Optuna samplers, then the (1+1)-ES).
OPTIMIZERS: tuple[str, ...] = ("random", "cmaes", "tpe", "es")


@dataclass(frozen=True)
class ValidateConfig:
    """Settings: ``n_seeds`` seeds ``seed0 .. seed0 + n_seeds - 1``, ``n_evals`` evaluations per run."""

    n_seeds: int = 5
    n_evals: int = 500
    seed0: int = 0
    optimizers: tuple[str, ...] = OPTIMIZERS
    objective: str = "train_acc"
    #: Also evaluate ``test_acc`` of each run's returned configuration (on the same benchmark).
    report_test_acc: bool = True
    #: Uniform random configurations (seeded by ``seed0``) on which surrogate and truth are compared
    #: (R², Kendall tau per objective); 0 skips this.
    n_uniform: int = 2000
    #: Processes running the (optimiser, seed, side) runs; results do not depend on it.
    workers: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "optimizers", tuple(self.optimizers))
        if self.workers < 1:
            raise ValueError(f"workers = {self.workers} is not allowed; allowed: an integer >= 1")
        if self.n_uniform < 0 or self.n_uniform == 1:
            raise ValueError(f"n_uniform = {self.n_uniform} is not allowed; allowed: 0 (skip) or an integer >= 2")
        if self.n_seeds < 1 or self.n_evals < 2:
            raise ValueError(f"n_seeds must be >= 1 and n_evals >= 2, got {self.n_seeds} and {self.n_evals}")
        bad = [o for o in self.optimizers if o not in OPTIMIZERS]
        if bad or not self.optimizers:
            raise ValueError(f"optimizers {bad or list(self.optimizers)} not allowed; allowed: {', '.join(OPTIMIZERS)}")


@dataclass
class RunTrace:
    """One optimiser run: every evaluated configuration (rows, model-input order) and its value."""

    optimizer: str
    seed: int
    X: np.ndarray
    values: np.ndarray
    seconds: float = 0.0

    @property
    def best_so_far(self) -> np.ndarray:
        """Best value up to each evaluation."""
        return np.maximum.accumulate(self.values)

    @property
    def best_index(self) -> int:
        """Index of the first best evaluation (the configuration the run returns)."""
        return int(np.argmax(self.values))


# -- loading ----------------------------------------------------------------------------------------


def _load(name_or_bench: str | os.PathLike[str] | Benchmark) -> Benchmark:
    """A benchmark object as is, else the registered name or directory loaded."""
    if isinstance(name_or_bench, Benchmark):
        return name_or_bench
    from smm_plugins.registry import load_benchmark

    return load_benchmark(os.fspath(name_or_bench))


def _bench_label(b: Benchmark, fallback: str) -> str:
    """The benchmark's name for reports (``fallback`` if it has none)."""
    return str(getattr(b, "name", None) or fallback)


# -- one run ----------------------------------------------------------------------------------------


#: Validation optimiser -> the comparison runner's optimiser it runs. ``cmaes`` is CMA-ES with margin
#: searching the DFS layer choices as integers, as the published validations and exploit rows did (the
#: runner's ``cmaes`` samples categoricals independently, as Optuna does); ``es`` is the runner's (1+1)-ES.
_RUNNER_OPTIMIZERS: Mapping[str, str] = {"random": "random", "tpe": "tpe", "cmaes": "cmaes-margin", "es": "es"}


def _compare_optimizer(bench: Benchmark, optimizer: str, seed: int, n_evals: int, objective: str) -> RunTrace:
    """One run of the comparison runner's optimiser for ``optimizer``, recorded by a traced benchmark."""
    from smm_plugins.compare.optimizers import get_optimizer
    from smm_plugins.compare.traced import TracedBenchmark

    opt = get_optimizer(_RUNNER_OPTIMIZERS[optimizer])
    traced = TracedBenchmark(bench, objective, budget=n_evals)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt(traced, seed, n_evals, objective=objective)
    X, values, _ = traced.trace()
    return RunTrace(optimizer, seed, X, values, time.perf_counter() - t0)


def run_optimizer(
    bench: Benchmark, optimizer: str, seed: int, n_evals: int, *, objective: str = "train_acc"
) -> RunTrace:
    """Maximise ``objective`` of ``bench`` for ``n_evals`` evaluations with one seeded optimiser.

    ``optimizer``: ``random``, ``tpe`` or ``cmaes`` (the optimisers ``random``, ``tpe`` and ``cmaes-margin``
    of ``smm-bench compare``) or ``es`` (the (1+1)-ES ``es`` of ``smm-bench compare``).
    """
    if optimizer in _RUNNER_OPTIMIZERS:
        return _compare_optimizer(bench, optimizer, seed, n_evals, objective)
    raise ValueError(f"optimizer = {optimizer!r} is not known; allowed: {', '.join(OPTIMIZERS)}")


def resolve_pair(
    surrogate: str | os.PathLike[str] | Benchmark, truth: str | os.PathLike[str] | Benchmark | None
) -> tuple[dict[str, Benchmark], dict[str, str]]:
    """The truth and surrogate benchmarks (same search space) and their labels, keyed ``truth``/``surrogate``."""
    if truth is None:
        if isinstance(surrogate, Benchmark) or Path(os.fspath(surrogate)).exists():
            raise ValueError(
                "truth is required when the surrogate is a directory or an object (e.g. --truth smm-mini-ps-true)"
            )
        truth = os.fspath(surrogate) + "-true"
    benches = {"truth": _load(truth), "surrogate": _load(surrogate)}
    labels = {
        "truth": _bench_label(benches["truth"], str(truth)),
        "surrogate": _bench_label(benches["surrogate"], str(surrogate)),
    }
    if benches["truth"].space.names != benches["surrogate"].space.names:
        raise ValueError(
            f"{labels['truth']} and {labels['surrogate']} have different search spaces "
            f"({benches['truth'].space.dim} vs {benches['surrogate'].space.dim} parameters); pass the matching --truth"
        )
    return benches, labels


def exploit_rows(
    surrogate: str | os.PathLike[str] | Benchmark,
    truth: str | os.PathLike[str] | Benchmark,
    *,
    optimizers: Sequence[str] = ("cmaes", "tpe"),
    seeds: Sequence[int] = (100, 101, 102, 103, 104),
    n_evals: int = 500,
    objective: str = "train_acc",
    progress: bool = False,
) -> Any:
    """Configurations optimisers visit on the surrogate, labelled with the truth's accuracies.

    Where an optimiser climbs a surrogate's error (predicted high, truly low) these rows are the
    correction: pass them to ``build_surrogate(..., extra_data=rows)``. Use seeds disjoint from those of
    :func:`~smm_plugins.surrogate_tools.validate.validate_benchmark` so that the validation stays out of
    sample. Returns a pandas DataFrame (parameter columns, one column per truth objective, ``strategy`` =
    ``exploit-<optimizer>``, ``run_id`` = seed).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    sur, tru = _load(surrogate), _load(truth)
    if sur.space.names != tru.space.names:
        raise ValueError("surrogate and truth have different search spaces")
    frames = []
    jobs = [(o, s) for o in optimizers for s in seeds]
    for opt, seed in tqdm(jobs, desc="exploit", unit="run", disable=not progress):
        trace = run_optimizer(sur, opt, seed, n_evals, objective=objective)
        df = pd.DataFrame(trace.X, columns=sur.space.names)
        for obj in tru.objectives:
            df[obj] = np.asarray(tru.evaluate(trace.X, obj), dtype=np.float64)
        df["strategy"] = f"exploit-{opt}"
        df["run_id"] = seed
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def run_all(
    benches: Mapping[str, Benchmark],
    cfg: ValidateConfig,
    seeds: Sequence[int],
    progress: bool,
    on_run: Callable[[str, str, int], None] | None,
) -> dict[str, dict[str, list[RunTrace]]]:
    """Every (optimiser, seed, side) run, serially or on ``cfg.workers`` processes (same traces either way)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    jobs = [(opt, seed, side) for opt in cfg.optimizers for seed in seeds for side in benches]
    traces: dict[str, dict[str, list[RunTrace]]] = {s: {o: [] for o in cfg.optimizers} for s in benches}
    bar = tqdm(total=len(jobs), desc="validate", unit="run", disable=not progress)
    # spawn: a forked child would inherit the parent's OpenMP/numba thread state
    pool = (
        ProcessPoolExecutor(cfg.workers, mp_context=multiprocessing.get_context("spawn")) if cfg.workers > 1 else None
    )
    try:
        if pool is None:
            results = (run_optimizer(benches[side], o, s, cfg.n_evals, objective=cfg.objective) for o, s, side in jobs)
        else:
            futures = [
                pool.submit(run_optimizer, benches[side], o, s, cfg.n_evals, objective=cfg.objective)
                for o, s, side in jobs
            ]
            results = (f.result() for f in futures)
        for (opt, seed, side), trace in zip(jobs, results, strict=True):
            traces[side][opt].append(trace)  # in job order, so seeds stay sorted within each list
            if on_run is not None:
                on_run(side, opt, seed)
            bar.update(1)
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return traces
