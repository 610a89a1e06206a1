"""Optimiser runs of a validation: the comparison runner's optimisers, the (1+1)-ES, exploit rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.space import dfs_space
from smm_plugins.surrogate_tools.build import BuildConfig, build_surrogate
from smm_plugins.surrogate_tools.validate import run_optimizer


@pytest.mark.slow
def test_same_seed_gives_same_random_configurations_on_both(pair) -> None:
    from smm_plugins.registry import load_benchmark

    truth, out = pair
    a = run_optimizer(truth, "random", 3, 12)
    b = run_optimizer(load_benchmark(str(out)), "random", 3, 12)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.X.shape == (12, truth.space.dim)
    assert not np.array_equal(a.values, b.values)  # a surrogate is not the truth
    np.testing.assert_array_equal(a.best_so_far, np.maximum.accumulate(a.values))
    # CMA-ES sees the categoricals as integers: every code it proposes must still be a valid category.
    c = run_optimizer(truth, "cmaes", 0, 20)
    truth.space.validate(c.X)


def test_one_plus_one_es_climbs_and_stays_valid(truth_class) -> None:
    truth = truth_class(dfs_space("tiny-dfs", n_layers=2))
    es = run_optimizer(truth, "es", 5, 150)
    truth.space.validate(es.X)
    assert es.X.shape == (150, truth.space.dim) and es.optimizer == "es"
    np.testing.assert_array_equal(run_optimizer(truth, "es", 5, 150).X, es.X)  # seeded
    rnd = np.mean([run_optimizer(truth, "random", s, 150).values.max() for s in range(3)])
    assert np.mean([run_optimizer(truth, "es", s, 150).values.max() for s in range(3)]) > rnd


@pytest.mark.slow
def test_exploit_rows_feed_a_rebuild_without_touching_the_test_split(pair, tmp_path: Path) -> None:
    from smm_plugins.surrogate_tools.validate import exploit_rows

    truth, out = pair
    rows = exploit_rows(str(out), truth, optimizers=("cmaes",), seeds=(7,), n_evals=15)
    assert len(rows) == 15 and set(rows["strategy"]) == {"exploit-cmaes"}
    np.testing.assert_allclose(rows["train_acc"], truth.evaluate(rows[truth.space.names].to_numpy(), "train_acc"))
    space = truth.space
    X = space.sample(600, 1)
    df = pd.DataFrame(X, columns=space.names)
    for obj in ("train_acc", "test_acc"):
        df[obj] = truth.evaluate(X, obj)
    cfg = BuildConfig(n_trials=0, max_rounds=30, early_stopping_rounds=5)
    plain = build_surrogate(df, space, tmp_path / "a", cfg)
    aug = build_surrogate(df, space, tmp_path / "b", cfg, extra_data=rows)
    assert aug.build_info["rows"]["extra_train_rows"] == 15
    assert aug.build_info["rows"]["test"] == plain.build_info["rows"]["test"] == 60
    assert aug.report["objectives"]["train_acc"]["n"] == 60
    assert aug.build_info["data_sha256"] != plain.build_info["data_sha256"]


@pytest.mark.parametrize("name", ["random", "tpe"])
def test_random_and_tpe_are_the_comparison_runners(truth_class, name: str) -> None:
    """The same configurations as the Optuna sampler of that name asked on ``optuna_ext.Problem``."""
    optuna = pytest.importorskip("optuna")
    from optuna_ext import Problem

    truth = truth_class(dfs_space("tiny-dfs", n_layers=2))
    trace = run_optimizer(truth, name, 4, 15)
    problem = Problem(truth, extras=False)
    sampler = {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler}[name](seed=4)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(problem, n_trials=15)
    want = np.array([problem.to_vector(t.params) for t in study.trials])
    np.testing.assert_array_equal(trace.X, want)
    np.testing.assert_array_equal(trace.values, [t.value for t in study.trials])
    assert trace.optimizer == name and trace.seed == 4


def test_unknown_optimizer_is_named(truth_class) -> None:
    truth = truth_class(dfs_space("tiny-dfs", n_layers=2))
    with pytest.raises(ValueError, match=r"optimizer = 'bogus' is not known; allowed: random, cmaes, tpe, es"):
        run_optimizer(truth, "bogus", 0, 5)
