"""Fixtures for the Syne Tune adapter tests: small in-memory benchmarks (any Benchmark works)."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins import Benchmark, dfs_space, ps_space
from smm_plugins.testing import synthetic_accuracy


class SyntheticBenchmark(Benchmark):
    """A deterministic accuracy landscape over a canonical space (stands in for a surrogate)."""

    def __init__(self, space):
        self.space, self.name = space, space.name

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        return synthetic_accuracy(self.space, X, objective)


@pytest.fixture(scope="session")
def tiny_ps() -> Benchmark:
    return SyntheticBenchmark(ps_space("tiny-ps"))


@pytest.fixture(scope="session")
def tiny_dfs() -> Benchmark:
    return SyntheticBenchmark(dfs_space("tiny-dfs"))
