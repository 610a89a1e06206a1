"""Fixtures for the HPOBench adapter tests: small in-memory benchmarks (any Benchmark works)."""

from __future__ import annotations

import os

import numpy as np
import pytest

# Importing hpobench writes its config under XDG dirs: keep that out of the user's home.
for _var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
    os.environ.setdefault(_var, os.path.join(os.environ.get("TMPDIR", "/tmp"), f"smm-plugins-tests-{_var.lower()}"))

from smm_plugins import Benchmark, dfs_space, ps_space  # noqa: E402
from smm_plugins.testing import synthetic_accuracy  # noqa: E402


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
