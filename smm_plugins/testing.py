"""Make small surrogate directories in the official SMM-Bench file format (for tests and examples).

The official files cannot be downloaded everywhere; these helpers train tiny LightGBM CV boosters on a
synthetic accuracy landscape over a search space and write them exactly as LightGBM's
``CVBooster.save_model`` does, next to a ``label.json``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from smm_plugins._io import atomic_write_text
from smm_plugins.benchmark import Benchmark
from smm_plugins.model_files import LABEL_FILE, OFFICIAL_FILES
from smm_plugins.space import SearchSpace

__all__ = [
    "SyntheticBenchmark",
    "logged_random_search",
    "synthetic_accuracy",
    "write_cv_booster_dir",
    "OFFICIAL_FILES",
]


def synthetic_accuracy(space: SearchSpace, X: np.ndarray, objective: str = "train_acc") -> np.ndarray:
    """A smooth, non-separable accuracy-like landscape in about [0.05, 0.6] (deterministic)."""
    lo, hi = space.lower, space.upper
    Z = (np.asarray(X, dtype=np.float64) - lo) / np.where(hi > lo, hi - lo, 1.0)
    d = Z.shape[1]
    w = np.cos(np.arange(d) * 0.7) + (0.15 if objective == "test_acc" else 0.0)
    lin = Z @ w / d
    inter = np.mean(Z[:, : d // 2] * Z[:, d - d // 2 :], axis=1)
    return 0.05 + 0.5 / (1.0 + np.exp(-4.0 * (lin + inter - 0.4)))


class SyntheticBenchmark(Benchmark):
    """An in-memory benchmark on :func:`synthetic_accuracy` (stands in for a surrogate in tests)."""

    def __init__(self, space: SearchSpace) -> None:
        self.space, self.name = space, space.name

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        return synthetic_accuracy(self.space, X, objective)


def logged_random_search(
    benchmark: Benchmark, seed: int, budget: int, *, objective: str = "train_acc", log: str, delay: float = 0.0
) -> None:
    """Random search that appends ``"<pid> <seed>"`` to the file ``log`` as it starts: the log counts executions.

    An optimiser of ``smm-bench compare`` (``smm_plugins.testing:logged_random_search``); ``delay``: seconds
    slept before each evaluation, to stand in for a slow optimiser.
    """
    with open(log, "a", encoding="utf-8") as fh:  # one short append: whole lines even with several writers
        fh.write(f"{os.getpid()} {seed}\n")
    rng = np.random.default_rng(seed)
    for _ in range(budget):
        time.sleep(delay)
        benchmark.evaluate(benchmark.space.sample(1, rng)[0], objective)


def write_cv_booster_dir(
    path: str | os.PathLike[str],
    space: SearchSpace,
    *,
    n_folds: int = 3,
    n_trees: int = 30,
    num_leaves: int = 15,
    n_samples: int = 3000,
    seed: int = 0,
    categorical: bool = False,
    missing_fraction: float = 0.0,
    objectives: tuple[str, ...] = ("train_acc", "test_acc"),
) -> Path:
    """Train small CV boosters on :func:`synthetic_accuracy` and write them in the official layout.

    ``categorical=True`` declares the space's categorical columns as LightGBM categorical features
    (trees then hold categorical splits). ``missing_fraction`` > 0 puts NaNs in the training data so
    that trees learn missing-value directions. Returns the directory path.
    """
    import lightgbm as lgb

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    X = space.sample(n_samples, rng)
    cat_cols = [int(i) for i in np.flatnonzero(space.is_categorical)] if categorical else []
    for objective in objectives:
        y = synthetic_accuracy(space, X, objective) + rng.normal(0.0, 0.01, size=n_samples)
        X_train = X.copy()
        if missing_fraction > 0:
            X_train[rng.random(X_train.shape) < missing_fraction] = np.nan
        params = {
            "objective": "regression",
            "num_leaves": num_leaves,
            "learning_rate": 0.1,
            "min_data_in_leaf": 5,
            "verbose": -1,
            "num_threads": 1,
            "seed": seed,
            "deterministic": True,
        }
        if cat_cols:
            params["max_cat_to_onehot"] = 1  # force bitset (many-vs-many) categorical splits
        ds = lgb.Dataset(
            X_train, y, feature_name=space.names, categorical_feature=cat_cols or "auto", free_raw_data=False
        )
        result = lgb.cv(
            params, ds, num_boost_round=n_trees, nfold=n_folds, stratified=False, seed=seed, return_cvbooster=True
        )
        cvbooster = result["cvbooster"]
        assert isinstance(cvbooster, lgb.CVBooster)  # return_cvbooster=True
        atomic_write_text(
            out / OFFICIAL_FILES[objective],
            json.dumps(cvbooster._to_dict(num_iteration=None, start_iteration=0, importance_type="split")),
        )
    atomic_write_text(out / LABEL_FILE, json.dumps({"x": space.names}))
    return out
