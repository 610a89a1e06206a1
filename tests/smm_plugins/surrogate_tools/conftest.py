"""Fixtures of the surrogate-tools tests: merge tables on a synthetic landscape, a cheap exact truth, and a
small surrogate built from that truth (shared by the run and validation tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.benchmark import Benchmark
from smm_plugins.space import SearchSpace, dfs_space
from smm_plugins.surrogate_tools.build import BuildConfig, build_surrogate
from smm_plugins.testing import synthetic_accuracy


def _merge_table(space: SearchSpace, n: int = 1200, seed: int = 0, noise: float = 0.005) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = space.sample(n, rng)
    df = pd.DataFrame(X, columns=space.names)
    for obj in ("train_acc", "test_acc"):
        df[obj] = np.clip(synthetic_accuracy(space, X, obj) + rng.normal(0, noise, n), 0, 1)
    df["strategy"] = rng.choice(["random", "tpe"], n)
    df["run_id"] = rng.integers(0, 5, n)
    return df


@pytest.fixture(scope="session")
def make_table() -> Callable[..., pd.DataFrame]:
    """``make_table(space, n=1200, seed=0, noise=0.005)``: a seeded merge log (parameters, noisy accuracies,
    ``strategy`` and ``run_id`` metadata columns)."""
    return _merge_table


class Truth(Benchmark):
    """A cheap exact objective over a small DFS-like space (categoricals and floats)."""

    def __init__(self, space: SearchSpace) -> None:
        self.name = "tiny-truth"
        self.space = space

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        return synthetic_accuracy(self.space, X, objective)


@pytest.fixture(scope="session")
def truth_class() -> type[Truth]:
    """The :class:`Truth` benchmark class (a cheap exact objective)."""
    return Truth


@pytest.fixture(scope="session")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Truth, Path]:
    """A 2-layer DFS truth and a surrogate directory built from 1500 of its exact rows."""
    space = dfs_space("tiny-dfs", n_layers=2)
    truth = Truth(space)
    X = space.sample(1500, 0)
    df = pd.DataFrame(X, columns=space.names)
    for obj in ("train_acc", "test_acc"):
        df[obj] = truth.evaluate(X, obj)
    out = tmp_path_factory.mktemp("surrogate")
    build_surrogate(df, space, out, BuildConfig(n_trials=0, max_rounds=150, early_stopping_rounds=20))
    return truth, out
