"""HPOBench adapter: contract, values, fidelity/cost, validation; on the real base class when installed."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import warnings

import numpy as np
import pytest

ConfigSpace = pytest.importorskip("ConfigSpace")

import hpobench_ext as H
from hpobench_ext._base import _StandInAbstractBenchmark
from hpobench_ext.benchmarks import _SMMLogic

HAVE_HPOBENCH = importlib.util.find_spec("hpobench") is not None


@pytest.fixture(params=["ps", "dfs"])
def bench(request, tiny_ps, tiny_dfs):
    return tiny_ps if request.param == "ps" else tiny_dfs


@pytest.fixture(autouse=True)
def _no_deprecations():
    # ConfigSpace 1.x API only: any DeprecationWarning reaching the user is an error here.
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        yield


def test_base_class_is_real_hpobench_when_installed():
    assert H.HPOBENCH_AVAILABLE is HAVE_HPOBENCH
    if HAVE_HPOBENCH:
        from hpobench.abstract_benchmark import AbstractBenchmark

        assert H.AbstractBenchmark is AbstractBenchmark
    else:
        assert H.AbstractBenchmark is _StandInAbstractBenchmark
    assert issubclass(H.SMMMiniPS, H.AbstractBenchmark)


def test_spaces_translate_the_canonical_space(bench):
    cls = H.benchmark_class(bench)
    cs = cls.get_configuration_space(seed=0)  # callable on the class, like HPOBench's static getters
    assert list(cs.keys()) == bench.space.names
    for p in bench.space.parameters:
        hp = cs[p.name]
        if p.kind == "float":
            assert (hp.lower, hp.upper, hp.default_value) == (p.lower, p.upper, p.default)
        else:
            assert tuple(hp.choices) == p.choices and hp.default_value == p.default
    fs = cls.get_fidelity_space()
    assert list(fs.keys()) == ["n_problems"]
    assert (fs["n_problems"].lower, fs["n_problems"].upper) == (39, 1069)  # the ladder's bottom: 1069 // 27
    assert fs["n_problems"].default_value == 1069
    meta = cls.get_meta_information()
    assert "2509.02555" in " ".join(meta["references"]) and "Akizuki" in meta["citation"]
    assert meta["fidelity"]["range"] == [39, 1069] and meta["fidelity"]["ladder"] == [39, 118, 356, 1069]


def test_meta_information_is_generated_from_the_benchmark():
    for name in ("smm-mini-ps", "smm-mini-dfs-true"):
        meta = H.benchmark_class(name).get_meta_information()
        assert meta["fidelity"]["range"] == [37, 1000] and meta["fidelity"]["ladder"] == [37, 111, 333, 1000]
        assert "Japanese" not in meta["objective"] and "merge lab" not in meta["objective"]
        assert "small source networks" in meta["task"]
        assert "310.0 s" in meta["cost"]  # a real merge: minutes, not the lab's milliseconds
    assert "exact" in H.SMMMiniDFSTrue.get_meta_information()["fidelity"]["low_fidelity"]
    assert "noise model" in H.SMMMiniPS.get_meta_information()["fidelity"]["low_fidelity"]


def test_objective_function_schema_and_values(bench):
    b = H.get_benchmark(bench, rng=1)
    config = b.get_configuration_space(seed=3).sample_configuration()
    x = bench.space.to_vector(dict(config))
    res = b.objective_function(config)
    assert set(res) == {"function_value", "cost", "info"}
    assert res["function_value"] == pytest.approx(1.0 - bench.evaluate(x), abs=1e-12)
    assert res["cost"] == bench.cost(x)
    assert res["info"]["accuracy"] == bench.evaluate(x)
    assert "test_accuracy" not in res["info"]  # only where asked: report_test=True or objective_function_test
    assert res["info"]["fidelity"] == {"n_problems": 1069}
    assert b(dict(config)) == res["function_value"]  # plain dict works too
    test = b.objective_function_test(config)
    assert test["function_value"] == pytest.approx(1.0 - bench.evaluate(x, "test_acc"), abs=1e-12)
    assert test["cost"] == bench.cost(x, "test_acc")
    assert test["info"]["test_accuracy"] == bench.evaluate(x, "test_acc")
    reporting = H.get_benchmark(bench, rng=1, report_test=True).objective_function(config)
    assert reporting["info"]["test_accuracy"] == bench.evaluate(x, "test_acc")


def test_low_fidelity_is_the_cores_fixed_subset_with_proportional_cost(tiny_ps):
    b = H.get_benchmark(tiny_ps, rng=1)
    config = tiny_ps.space.default_config()
    x = tiny_ps.space.default_vector()
    r1 = b.objective_function(config, fidelity={"n_problems": 50}, rng=7)
    assert r1 == b.objective_function(config, fidelity={"n_problems": 50}, rng=7)
    assert r1["info"]["accuracy"] == tiny_ps.evaluate(x, n_problems=50, seed=7)
    assert r1["info"]["subset_seed"] == 7
    assert r1["cost"] == tiny_ps.cost(x, n_problems=50) and r1["cost"] < b.objective_function(config)["cost"]
    # No rng: the instance's subset, fixed (the int it was built with; 0 for None), whatever the call order.
    seq = [b.objective_function(config, fidelity={"n_problems": 50})["info"]["accuracy"] for _ in range(3)]
    assert len(set(seq)) == 1 and seq[0] == tiny_ps.evaluate(x, n_problems=50, seed=1)
    unseeded = H.get_benchmark(tiny_ps).objective_function(config, fidelity={"n_problems": 50})
    assert unseeded["info"]["accuracy"] == tiny_ps.evaluate(x, n_problems=50)
    # Full fidelity is exact whatever the seed.
    assert b.objective_function(config, rng=3) == b.objective_function(config, fidelity={"n_problems": 1069})
    with pytest.raises(ValueError, match="full fidelity"):
        b.objective_function_test(config, fidelity={"n_problems": 50})


def test_float_budgets_in_bounds_are_rounded_to_a_problem_count(tiny_ps):
    b = H.get_benchmark(tiny_ps, rng=1)
    config = tiny_ps.space.default_config()
    for budget, n in ((39.0, 39), (1069 / 27, 40), (118.7, 119), (np.float64(356.3), 356), (1069.0, 1069)):
        res = b.objective_function(config, fidelity={"n_problems": budget})
        assert res["info"]["fidelity"] == {"n_problems": n}
        assert res == b.objective_function(config, fidelity={"n_problems": n})
    for bad in (38.9, 38, 1069.2, float("nan"), float("inf"), True, "100", None):
        with pytest.raises(
            ValueError, match=r"n_problems = .* allowed: n_problems = a number of problems in \[39, 1069\]"
        ):
            b.objective_function(config, fidelity={"n_problems": bad})


def test_overhead_path_keeps_configuration_objects_and_dicts_equal(tiny_dfs):
    b = H.get_benchmark(tiny_dfs, rng=0)
    cs = b.get_configuration_space(seed=5)
    for config in cs.sample_configuration(4):
        assert b.objective_function(config) == b.objective_function(dict(config))
        fid = b.get_fidelity_space(seed=1).sample_configuration()  # a fidelity Configuration works too
        assert b.objective_function(config, fidelity=fid)["info"]["fidelity"] == dict(fid)


def test_full_fidelity_incumbent_rescores_candidates(tiny_ps):
    b = H.get_benchmark(tiny_ps, rng=0)
    candidates = b.get_configuration_space(seed=2).sample_configuration(6)
    best, result = b.full_fidelity_incumbent(candidates)
    values = [b.objective_function(c)["function_value"] for c in candidates]
    assert result["function_value"] == min(values) and result["info"]["fidelity"] == {"n_problems": 1069}
    assert b.objective_function(best) == result
    with pytest.raises(ValueError, match="empty"):
        b.full_fidelity_incumbent([])


def test_bad_input_gets_configspace_errors_not_clipping(tiny_ps, tiny_dfs):
    b = H.get_benchmark(tiny_ps, rng=1)
    config = tiny_ps.space.default_config()
    name = tiny_ps.space.names[0]
    with pytest.raises(ValueError, match=name):  # ConfigSpace's IllegalValueError
        b.objective_function({**config, name: 1.5})
    with pytest.raises(ValueError):
        b.objective_function({**config, "nope": 0.1})
    with pytest.raises(ValueError):
        b.objective_function({k: v for k, v in config.items() if k != name})
    with pytest.raises(TypeError):
        b.objective_function(list(config.values()))
    with pytest.raises(ValueError):
        b.objective_function(config, fidelity={"n_problems": 0})
    with pytest.raises(ValueError):
        b.objective_function(config, n_problems=10)  # fidelity as a loose keyword
    with pytest.raises(ValueError, match="epochs"):
        b.objective_function(config, fidelity={"epochs": 3})
    d = H.get_benchmark(tiny_dfs)
    dconf = tiny_dfs.space.default_config()
    with pytest.raises(ValueError, match="layer_00"):
        d.objective_function({**dconf, "layer_00": 3})


def test_stand_in_base_keeps_the_contract(tiny_ps):
    # Exercised in every environment, so the no-HPOBench path is tested where HPOBench is installed too.
    class StandIn(_SMMLogic, _StandInAbstractBenchmark):
        _core_benchmark = tiny_ps
        objective_function = H.SMMBenchmark.objective_function
        objective_function_test = H.SMMBenchmark.objective_function_test

    b = StandIn(rng=2)
    assert isinstance(b.rng, np.random.RandomState)
    assert b.fidelity_space["n_problems"].lower == 39
    config = tiny_ps.space.default_config()
    # Checked against the core itself (not against another adapter class, which may be this stand-in too).
    x = tiny_ps.space.to_vector(config)
    result = b.objective_function(config)
    assert result["function_value"] == pytest.approx(1.0 - tiny_ps.evaluate(x), abs=1e-12)
    assert result["cost"] == pytest.approx(tiny_ps.cost(x), abs=1e-12)
    assert b(config) == result["function_value"]
    with pytest.raises(ValueError):
        b.objective_function({**config, tiny_ps.space.names[0]: -0.1})
    with pytest.raises(ValueError):
        b.objective_function(config, fidelity={"epochs": 3})
    with pytest.raises(ValueError):
        b.objective_function(config, n_problems=3)
    with pytest.raises(TypeError):
        b.objective_function(config, fidelity=[3])
    # The stand-in's own check_parameters (HPOBench's contract for other benchmarks) still validates.
    checked = _StandInAbstractBenchmark.check_parameters(lambda self, c, f, **kw: (c, f))
    assert checked(b, config) == (config, {"n_problems": 1069})


def test_lookup_paths():
    from smm_plugins.registry import list_benchmarks

    # One class per registered benchmark: the named ones, and one made for each other (e.g. a suite's members).
    assert (
        set(H.BENCHMARK_CLASSES)
        == set(list_benchmarks())
        >= {
            "smm-bench-ps",
            "smm-bench-dfs",
            "smm-mini-ps",
            "smm-mini-dfs",
            "smm-mini-ps-true",
            "smm-mini-dfs-true",
            "smm-mini-op-true",
        }
    )
    for name, path in H.CLASS_PATHS.items():
        module, _, cls_name = path.partition(":")
        cls = getattr(importlib.import_module(module), cls_name)
        assert cls.benchmark_name == name and H.benchmark_class(path) is cls and H.benchmark_class(name) is cls
    with pytest.raises(ValueError, match="not an SMM-Bench HPOBench class"):
        H.benchmark_class("smm_plugins:Benchmark")
    for missing in ("no_such_module_xyz:Bench", "hpobench_ext:NoSuchClass"):
        with pytest.raises(ValueError, match="allowed: hpobench_ext:"):
            H.benchmark_class(missing)
    with pytest.raises(TypeError):
        H.SMMBenchmark()


def test_missing_configspace_is_a_one_line_import_error(monkeypatch):
    for mod in [m for m in sys.modules if m == "hpobench_ext" or m.startswith("hpobench_ext.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "ConfigSpace", None)
    with pytest.raises(ImportError, match=r'pip install "smm-plugins\[hpobench\]"') as info:
        importlib.import_module("hpobench_ext")
    assert "\n" not in str(info.value)
