"""SearchSpace -> Optuna distributions: kinds, order, the CMA-ES integer encoding, the missing extra."""

from __future__ import annotations

import sys

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from smm_plugins._optuna import optuna_distributions
from smm_plugins.space import Parameter, SearchSpace, dfs_space


def _space() -> SearchSpace:
    return SearchSpace(
        "mixed",
        [
            Parameter("x", "float", lower=-1.0, upper=2.0, default=0.0),
            Parameter("gap", "categorical", choices=(3, 0, 7), default=0),
            Parameter("run", "categorical", choices=(2, 0, 1), default=1),
        ],
    )


def test_kinds_order_and_codes():
    d = optuna_distributions(_space())
    assert list(d) == ["x", "gap", "run"]
    assert d["x"] == optuna.distributions.FloatDistribution(-1.0, 2.0)
    assert d["gap"] == optuna.distributions.CategoricalDistribution([3, 0, 7])
    assert d["run"] == optuna.distributions.CategoricalDistribution([2, 0, 1])


def test_integer_categoricals_only_for_contiguous_codes():
    d = optuna_distributions(_space(), integer_categoricals=True)
    assert d["run"] == optuna.distributions.IntDistribution(0, 2)
    assert d["gap"] == optuna.distributions.CategoricalDistribution([3, 0, 7])


def test_ask_with_them_gives_valid_rows():
    space = dfs_space("tiny-dfs", n_layers=2)
    for integer in (False, True):
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        trial = study.ask(optuna_distributions(space, integer_categoricals=integer))
        row = np.array([float(trial.params[n]) for n in space.names])
        space.validate(row)


def test_missing_optuna_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna.distributions", None)
    with pytest.raises(ImportError, match=r'pip install "smm-plugins\[optuna\]"'):
        optuna_distributions(_space())
