"""Optuna / OptunaHub adapter: BaseProblem contract, optimize and ask/tell, multi-objective DFS, registry folder."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")
optunahub = pytest.importorskip("optunahub")

import optuna_ext

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_problem_is_an_optunahub_problem(tiny_ps, tiny_dfs):
    for bench in (tiny_ps, tiny_dfs):
        problem = optuna_ext.Problem(bench)
        assert isinstance(problem, optunahub.benchmarks.BaseProblem)
        assert problem.directions == [optuna.study.StudyDirection.MAXIMIZE]
        space = problem.search_space
        assert list(space) == bench.space.names
        for p in bench.space.parameters:
            d = space[p.name]
            if p.kind == "float":
                assert (d.low, d.high) == (p.lower, p.upper)
            else:
                assert tuple(d.choices) == p.choices


def test_optimize_and_ask_tell_match_the_core(tiny_dfs):
    problem = optuna_ext.Problem(tiny_dfs)
    study = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(problem, n_trials=5)
    for t in study.trials:
        x = tiny_dfs.space.to_vector(t.params)
        assert t.value == pytest.approx(tiny_dfs.evaluate(x))
        assert t.user_attrs["test_acc"] == pytest.approx(tiny_dfs.evaluate(x, "test_acc"))
        assert t.user_attrs["cost_seconds"] == pytest.approx(tiny_dfs.cost(x))
    trial = study.ask(problem.search_space)
    study.tell(trial, problem.evaluate(trial.params))
    assert study.trials[-1].value == pytest.approx(tiny_dfs.evaluate(tiny_dfs.space.to_vector(trial.params)))
    quiet = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.RandomSampler(seed=0))
    quiet.optimize(optuna_ext.Problem(tiny_dfs, extras=False), n_trials=2)
    fidelity_only = {"n_problems": 1069, "n_problems_full": 1069, "subset_seed": 0}  # extras off: the fidelity only
    assert quiet.trials[0].user_attrs == fidelity_only and quiet.trials[0].value == study.trials[0].value
    # Same seed -> same study.
    again = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.RandomSampler(seed=0))
    again.optimize(optuna_ext.Problem(tiny_dfs), n_trials=5)
    assert [t.value for t in again.trials] == [t.value for t in study.trials[:5]]


def test_test_objective_and_noisy_fidelity(tiny_ps):
    params = tiny_ps.space.default_config()
    x = tiny_ps.space.default_vector()
    assert optuna_ext.Problem(tiny_ps, objective="test_acc").evaluate(params) == pytest.approx(
        tiny_ps.evaluate(x, "test_acc")
    )
    assert optuna_ext.Problem(tiny_ps, n_problems=1069, seed=5).evaluate(params) == tiny_ps.evaluate(x)  # exact
    problem = optuna_ext.Problem(tiny_ps, n_problems=40, seed=3)
    a = [problem.evaluate(params) for _ in range(3)]  # the same subset on every call: no stream
    assert len(set(a)) == 1 and a[0] == tiny_ps.evaluate(x, n_problems=40, seed=3)
    assert a[0] * 40 == pytest.approx(round(a[0] * 40))
    assert optuna_ext.Problem(tiny_ps, n_problems=40).evaluate(params) == tiny_ps.evaluate(x, n_problems=40, seed=0)
    with pytest.raises(ValueError, match="seed"):
        optuna_ext.Problem(tiny_ps, n_problems=40, seed=-1)
    with pytest.raises(ValueError, match="n_problems"):
        optuna_ext.Problem(tiny_ps, n_problems=0)
    with pytest.raises(ValueError, match="objective"):
        optuna_ext.Problem(tiny_ps, objective="acc")


def test_bad_params_raise_value_error_not_clip(tiny_ps, tiny_dfs):
    problem = optuna_ext.Problem(tiny_ps)
    params = tiny_ps.space.default_config()
    name = tiny_ps.space.names[0]
    with pytest.raises(ValueError, match=name):
        problem.evaluate({**params, name: 1.01})
    with pytest.raises(ValueError, match="missing"):
        problem.evaluate({k: v for k, v in params.items() if k != name})
    with pytest.raises(ValueError, match="unknown"):
        problem.evaluate({**params, "z": 0.0})
    with pytest.raises(ValueError, match="layer_03"):
        optuna_ext.Problem(tiny_dfs).evaluate({**tiny_dfs.space.default_config(), "layer_03": 5})
    with pytest.raises(TypeError):
        optuna_ext.Problem(3.0)


def test_hops_problem_is_multi_objective(tiny_dfs, tiny_ps):
    problem = optuna_ext.HopsProblem(tiny_dfs)
    assert problem.directions == [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
    params = tiny_dfs.space.default_config()
    params["layer_00"] = 2
    acc, hops = problem.evaluate(params)
    assert hops == 33 and acc == pytest.approx(tiny_dfs.evaluate(tiny_dfs.space.to_vector(params)))
    study = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.NSGAIISampler(seed=0))
    study.optimize(problem, n_trials=6)
    assert len(study.best_trials) >= 1 and all(32 <= t.values[1] <= 64 for t in study.trials)
    with pytest.raises(ValueError, match="DFS"):
        optuna_ext.HopsProblem(tiny_ps)


def test_registry_folder_loads_with_optunahub(tiny_ps):
    import yaml

    folder = Path(optuna_ext.REGISTRY_ROOT) / optuna_ext.REGISTRY_PACKAGE
    text = (folder / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert {"author", "title", "description", "tags", "optuna_versions", "license"} <= set(front)
    assert "benchmark" in front["tags"]
    assert (folder / "LICENSE").is_file() and (folder / "requirements.txt").is_file()
    module = optunahub.load_local_module(optuna_ext.REGISTRY_PACKAGE, registry_root=optuna_ext.REGISTRY_ROOT)
    assert module.Problem is optuna_ext.Problem and module.HopsProblem is optuna_ext.HopsProblem
    assert module.Problem(tiny_ps).evaluate(tiny_ps.space.default_config()) == tiny_ps.evaluate(
        tiny_ps.space.default_vector()
    )


@pytest.mark.parametrize("missing", ["optuna", "optunahub"])
def test_missing_optuna_is_a_one_line_import_error(monkeypatch, missing):
    for mod in [m for m in sys.modules if m == "optuna_ext" or m.startswith("optuna_ext.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(ImportError, match=r'pip install "smm-plugins\[optuna\]"') as info:
        importlib.import_module("optuna_ext")
    assert "\n" not in str(info.value)
