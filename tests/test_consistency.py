"""The same configuration gives the same value through the core, HPOBench, Syne Tune and Optuna.

At low fidelity the same (configuration, n_problems, seed) gives the core's fixed-subset value through
HPOBench and Optuna.

Runs over every registered benchmark (the official names on tiny surrogate files installed in a
temporary data directory) and both objectives; a benchmark whose files are absent from this
checkout is skipped with the reason.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

# hpobench is first imported by tests/conftest.py, with its XDG folders in a temporary home.

pytest.importorskip("ConfigSpace")
pytest.importorskip("optuna")
pytest.importorskip("syne_tune")

from syne_tune.blackbox_repository import load_blackbox

import hpobench_ext
import optuna_ext
import synetune_ext  # noqa: F401  (registers the blackboxes with Syne Tune)
from smm_plugins.fidelity import fidelity_ladder
from smm_plugins.registry import list_benchmarks, load_benchmark

EXACT = {"rel": 0.0, "abs": 1e-12}  # 1 - (1 - acc) may differ from acc by an ulp


@pytest.fixture
def installed(data_dir, ps_dir, dfs_dir):
    """Official names resolve to tiny surrogate files in a temporary data directory."""
    shutil.copytree(ps_dir, data_dir / "smm-bench-ps")
    shutil.copytree(dfs_dir, data_dir / "smm-bench-dfs")
    return data_dir


@pytest.mark.parametrize("name", list_benchmarks())
def test_same_value_through_every_framework(installed, name):
    try:
        bench = load_benchmark(name)
    except (FileNotFoundError, ImportError) as exc:
        pytest.skip(f"{name} is not available in this checkout: {exc}")
    X = bench.space.sample(3, np.random.default_rng(7))
    hb = hpobench_ext.get_benchmark(name, rng=0)
    assert type(hb) is hpobench_ext.BENCHMARK_CLASSES[name]
    bb = load_blackbox(name)
    problems = {obj: optuna_ext.Problem(name, objective=obj) for obj in ("train_acc", "test_acc")}
    for x in X:
        config = bench.space.to_config(x)
        core = {obj: bench.evaluate(x, obj) for obj in ("train_acc", "test_acc")}
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            res, res_test = hb.objective_function(config), hb.objective_function_test(config)
        assert 1.0 - res["function_value"] == pytest.approx(core["train_acc"], **EXACT)
        assert res["info"]["accuracy"] == core["train_acc"]
        assert res_test["info"]["test_accuracy"] == core["test_acc"]
        assert 1.0 - res_test["function_value"] == pytest.approx(core["test_acc"], **EXACT)
        assert res["cost"] == bench.cost(x) and res_test["cost"] == bench.cost(x, "test_acc")
        row = bb.objective_function(config)[-1]
        assert (row[0], row[1], row[2]) == (core["train_acc"], core["test_acc"], bench.cost(x))
        for obj, problem in problems.items():
            assert problem.evaluate(config) == core[obj]


@pytest.mark.parametrize("name", ["smm-mini-ps", "smm-mini-dfs", "smm-mini-ps-true", "smm-bench-dfs"])
def test_same_low_fidelity_value_through_every_framework(installed, name):
    # One noise model, in the core: HPOBench and Optuna pass (configuration, n_problems, seed) through.
    bench = load_benchmark(name)
    full = int(bench.n_problems_full["train_acc"])
    X = bench.space.sample(3, np.random.default_rng(11))
    hb = hpobench_ext.get_benchmark(name, rng=4)
    for n in fidelity_ladder(full)[:-1]:
        for seed in (0, 4, 12):
            problem = optuna_ext.Problem(name, n_problems=n, seed=seed)
            core = bench.evaluate(X, n_problems=n, seed=seed)
            for x, value in zip(X, core, strict=True):
                config = bench.space.to_config(x)
                res = hb.objective_function(config, fidelity={"n_problems": n}, rng=seed)
                assert res["info"]["accuracy"] == value
                assert 1.0 - res["function_value"] == pytest.approx(value, **EXACT)
                assert res["cost"] == bench.cost(x, n_problems=n)
                assert problem.evaluate(config) == value
        # The HPOBench instance's own subset (rng=4 at construction) is the core's seed 4.
        x = X[0]
        res = hb.objective_function(bench.space.to_config(x), fidelity={"n_problems": float(n)})
        assert res["info"]["accuracy"] == bench.evaluate(x, n_problems=n, seed=4)
