"""The conditional operator space (``smm-mini-op-true``) in Optuna, as Optuna users search it: define-by-run."""

from __future__ import annotations

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("optunahub")

from optuna_ext import Problem
from optuna_ext.optimizers import CMAES, CMAES_MARGIN, TPE
from smm_plugins.lab.operator_objective import OP_NAME, OperatorTrueBenchmark
from smm_plugins.lab.operators import OPERATORS
from smm_plugins.registry import load_benchmark


def _study(seed: int, n_trials: int = 30) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(Problem(OP_NAME), n_trials=n_trials)
    return study


def test_tpe_suggests_only_active_parameters_and_finds_a_merge_better_than_the_sources() -> None:
    study = _study(seed=0)
    bench = load_benchmark(OP_NAME)
    space = bench.space
    for trial in study.trials:
        # Define-by-run: the operator by name, then exactly the parameters that operator uses.
        assert trial.params["operator"] in OPERATORS
        x = space.to_vector(trial.params)
        active = {n for n, on in zip(space.names, space.active_mask(x)[0], strict=True) if on}
        assert set(trial.params) == active
        assert trial.value == bench.evaluate(x) and trial.user_attrs["test_acc"] == bench.evaluate(x, "test_acc")
    assert {t.params["operator"] for t in study.trials} == set(OPERATORS)
    best_source = max(bench.evaluate(space.to_vector({"operator": "slerp", "slerp_t": t})) for t in (0.0, 1.0))
    assert study.best_value > best_source  # TPE finds a merge better than A or B alone
    # The same seed gives the same trials.
    again = _study(seed=0)
    assert [t.params for t in again.trials] == [t.params for t in study.trials]


def test_problem_evaluate_takes_labels_and_leaves_inactive_parameters_out() -> None:
    problem = Problem(OP_NAME)
    bench = problem.benchmark
    value = problem.evaluate({"operator": "ties", "weight_A": 1.0, "weight_B": 1.0, "ties_density": 0.4})
    assert value == bench.evaluate([2, 1.0, 1.0, 0.5, 0.4, 0.5])
    assert problem.search_space["operator"].choices == OPERATORS
    with pytest.raises(ValueError, match=r"missing 1 active parameter\(s\).*\['slerp_t'\]"):
        problem.evaluate({"operator": "slerp"})
    with pytest.raises(ValueError, match=r"variable 'operator' = 'mean' is not a valid category; allowed: one of"):
        problem.evaluate({"operator": "mean"})


@pytest.mark.parametrize("info", [TPE, CMAES, CMAES_MARGIN], ids=["tpe", "cmaes", "cmaes-margin"])
def test_compare_optimisers_run_define_by_run_on_the_operator_space(info, monkeypatch) -> None:
    bench = OperatorTrueBenchmark()  # its own instance: evaluate is recorded below
    rows: list[np.ndarray] = []
    evaluate = bench.evaluate

    def recording(X, *args, **kwargs):
        rows.append(np.asarray(X, dtype=float))
        return evaluate(X, *args, **kwargs)

    monkeypatch.setattr(bench, "evaluate", recording)
    info.fn(bench, seed=1, budget=12, **info.defaults)
    X = np.vstack(rows)
    assert len(X) == 12 and len(set(X[:, 0])) >= 2
    bench.space.validate(X)
    # Inactive columns hold the defaults (never suggested), active ones what the sampler chose.
    inactive = ~bench.space.active_mask(X)
    np.testing.assert_array_equal(X[inactive], np.broadcast_to(bench.space.default_vector(), X.shape)[inactive])
