"""The grid of a comparison: one :class:`RunSpec` per benchmark x optimiser x seed, and the run seeds."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins.compare.experiment import Experiment

__all__ = ["RunSpec", "benchmark_label", "expected_seconds", "objective_ms", "plan_runs", "run_seed"]


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid."""

    benchmark: str  # name, directory or "module:factory" (how to load it)
    label: str  # the benchmark column / file-name part
    optimizer: str
    seed: int
    budget: int
    objective: str = "train_acc"
    base_seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """File stem of this run: ``<benchmark>__<optimizer>__seed<k>``."""
        return f"{_safe(self.label)}__{_safe(self.optimizer)}__seed{self.seed}"

    @property
    def run_seed(self) -> int:
        """Seed handed to the optimiser (the same for every benchmark and optimiser at one seed index)."""
        return run_seed(self.base_seed, self.seed)


def run_seed(base_seed: int, seed: int) -> int:
    """Deterministic 31-bit seed of seed index ``seed``: independent streams via numpy's SeedSequence."""
    return int(np.random.SeedSequence(entropy=base_seed, spawn_key=(seed,)).generate_state(1)[0] & 0x7FFFFFFF)


#: Milliseconds per evaluation added to an optimiser's ``cost_hint`` for the surrogate and the bookkeeping.
SURROGATE_MS = 1.0


def expected_seconds(spec: RunSpec, cost_hint: float) -> float:
    """Expected seconds of one run: ``budget`` x (optimiser ``cost_hint`` ms + the objective's ms per trial).

    The objective's ms: ~1 ms for a surrogate; for a registered benchmark with a measured ``eval_seconds``
    (an exact objective, e.g. the lab's), twice that (each trial's evaluation, then its ``test_acc``).
    """
    return spec.budget * (cost_hint + objective_ms(spec.benchmark)) / 1000.0


def objective_ms(benchmark: str) -> float:
    """Expected milliseconds of the objective per trial of a run on ``benchmark`` (a spec of :class:`RunSpec`)."""
    from smm_plugins.registry import UnknownBenchmarkError, benchmark_entry

    try:
        seconds = benchmark_entry(benchmark).eval_seconds
    except UnknownBenchmarkError:
        seconds = None
    return SURROGATE_MS if seconds is None else 2000.0 * seconds


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def benchmark_label(spec: str) -> str:
    """Column value of a benchmark spec: the name, a directory's base name, or a factory's name."""
    if os.sep in spec or os.path.isdir(spec):
        return Path(spec.rstrip("/\\")).name
    if ":" in spec:
        return spec.rsplit(":", 1)[1]
    return spec


def plan_runs(exp: Experiment) -> list[RunSpec]:
    """Every run of ``exp``, seed-major so that an interrupted grid has all optimisers on early seeds."""
    labels = [benchmark_label(b) for b in exp.benchmarks]
    if len(set(labels)) != len(labels):
        raise ValueError(f"benchmarks {exp.benchmarks} give duplicate labels {labels}; rename a directory")
    return [
        RunSpec(b, lab, o, s, exp.budget, exp.objective, exp.base_seed, dict(exp.options.get(o, {})))
        for s in exp.seeds
        for b, lab in zip(exp.benchmarks, labels, strict=True)
        for o in exp.optimizers
    ]
