"""Fixed LightGBM parameters per objective: a build's ``tuned_params`` given back as ``--params``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.space import ps_space
from smm_plugins.surrogate_tools.build import BuildConfig, build_surrogate
from smm_plugins.testing import synthetic_accuracy

FAST = dict(max_rounds=30, early_stopping_rounds=5)
TRAIN = {"num_leaves": 4, "learning_rate": 0.2, "min_data_in_leaf": 10, "bagging_freq": 0}
TEST = {"num_leaves": 9, "learning_rate": 0.1, "min_data_in_leaf": 5, "bagging_freq": 0}


def _table(n: int = 400) -> pd.DataFrame:
    space = ps_space("tiny-ps", n_layers=2)
    X = space.sample(n, np.random.default_rng(0))
    df = pd.DataFrame(X, columns=space.names)
    for obj in ("train_acc", "test_acc"):
        df[obj] = synthetic_accuracy(space, X, obj)
    return df


def _leaves(path: Path) -> set[int]:
    boosters = json.loads(path.read_text())["boosters"]
    return {int(line.split("=")[1]) for b in boosters for line in b.splitlines() if line.startswith("num_leaves=")}


def test_params_keyed_by_objective_fit_each_objective_with_its_own(tmp_path: Path) -> None:
    space = ps_space("tiny-ps", n_layers=2)
    res = build_surrogate(_table(), space, tmp_path, BuildConfig(params={"train_acc": TRAIN, "test_acc": TEST}, **FAST))
    assert res.build_info["tuned_params"] == {"train_acc": TRAIN, "test_acc": TEST}
    assert res.build_info["tuning"]["train_acc"] == {"n_trials": 0, "fixed_params": True}
    assert max(_leaves(tmp_path / "train_acc_ja_best_model.json")) <= 4
    assert max(_leaves(tmp_path / "test_acc_ja_best_model.json")) > 4


def test_one_params_dict_serves_every_objective(tmp_path: Path) -> None:
    res = build_surrogate(_table(), ps_space("tiny-ps", n_layers=2), tmp_path, BuildConfig(params=TRAIN, **FAST))
    assert res.build_info["tuned_params"] == {"train_acc": TRAIN, "test_acc": TRAIN}


@pytest.mark.parametrize(
    "params",
    [{"train_acc": TRAIN}, {"train_acc": TRAIN, "test_acc": 3}, {"train_acc": TRAIN, "test_acc": TEST, "val": {}}],
)
def test_params_keyed_by_objective_must_cover_each_objective(params: dict) -> None:
    with pytest.raises(ValueError, match=r"params keyed by objective = .* is not allowed; allowed: one LightGBM"):
        BuildConfig(params=params)
