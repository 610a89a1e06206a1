"""Every member of the suite smm-mini by name through Optuna: Problem, study.optimize, OptunaHub's module."""

from __future__ import annotations

import pytest

optuna = pytest.importorskip("optuna")
optunahub = pytest.importorskip("optunahub")

import optuna_ext
from smm_plugins.fidelity import fidelity_range
from smm_plugins.registry import list_benchmarks, load_benchmark

MEMBERS = list_benchmarks(suite="smm-mini")

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize("name", MEMBERS)
def test_member_by_name(name: str) -> None:
    core = load_benchmark(name)
    floor, full = fidelity_range(int(core.n_problems_full["train_acc"]))
    hub = optunahub.load_local_module(optuna_ext.REGISTRY_PACKAGE, registry_root=optuna_ext.REGISTRY_ROOT)
    for problem in (hub.Problem(name), hub.Problem(name, n_problems=floor, seed=4)):
        assert problem.benchmark is core
        study = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.RandomSampler(seed=0))
        study.optimize(problem, n_trials=3)
        n = problem.n_problems
        for t in study.trials:
            x = core.space.to_vector(t.params)
            assert t.value == core.evaluate(x, n_problems=n, seed=problem.seed)
            assert t.user_attrs["n_problems"] == n and t.user_attrs["n_problems_full"] == full
            assert t.user_attrs["cost_seconds"] == core.cost(x, n_problems=n)
            assert t.user_attrs["test_acc"] == core.evaluate(x, "test_acc")
    assert n == floor and t.user_attrs["cost_seconds"] < core.cost(x)
