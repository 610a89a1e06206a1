"""Optuna's Problem follows the core's fidelity contract and records the fidelity of every stored value."""

from __future__ import annotations

import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("optunahub")

import optuna_ext
from smm_plugins.fidelity import FidelityError


@pytest.mark.parametrize("n_problems", [5, 1001, True, "111"])
def test_out_of_range_n_problems_is_the_cores_error(lab_sized, n_problems, core_error):
    with pytest.raises(FidelityError) as err:
        optuna_ext.Problem(lab_sized, n_problems=n_problems)
    assert str(err.value) == core_error(n_problems)


def _optimize(problem: optuna_ext.Problem, storage: str, name: str) -> None:
    study = optuna.create_study(
        study_name=name, storage=storage, directions=problem.directions, sampler=optuna.samplers.RandomSampler(0)
    )
    study.optimize(problem, n_trials=3)


@pytest.mark.slow
def test_stored_trials_tell_their_fidelity(lab_sized, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    _optimize(optuna_ext.Problem(lab_sized, n_problems=111.0, seed=7, extras=False), storage, "low")
    _optimize(optuna_ext.Problem(lab_sized), storage, "full")
    low = optuna.load_study(study_name="low", storage=optuna.storages.RDBStorage(storage))  # a fresh load
    full = optuna.load_study(study_name="full", storage=optuna.storages.RDBStorage(storage))
    assert low.best_trial.user_attrs == {"n_problems": 111, "n_problems_full": 1000, "subset_seed": 7}
    assert full.best_trial.user_attrs["n_problems"] == 1000 and full.best_trial.user_attrs["n_problems_full"] == 1000
    for t in low.trials:  # 111.0 ran as 111 problems: the fixed-subset value of seed 7
        assert t.value == lab_sized.evaluate(lab_sized.space.to_vector(t.params), n_problems=111, seed=7)
