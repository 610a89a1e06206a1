"""Every member of the suite smm-mini by name through HPOBench: spaces, fidelity ladder, values and cost."""

from __future__ import annotations

import pytest

pytest.importorskip("ConfigSpace")

import hpobench_ext as H
from smm_plugins.fidelity import fidelity_ladder, fidelity_range
from smm_plugins.registry import list_benchmarks, load_benchmark

MEMBERS = list_benchmarks(suite="smm-mini")


@pytest.mark.parametrize("name", MEMBERS)
def test_member_by_name(name: str) -> None:
    core = load_benchmark(name)
    floor, full = fidelity_range(int(core.n_problems_full["train_acc"]))
    bench = H.get_benchmark(name, rng=3)
    fid = bench.get_fidelity_space()["n_problems"]
    assert (fid.lower, fid.upper, fid.default_value) == (floor, full, full)
    meta = bench.get_meta_information()
    assert meta["fidelity"]["ladder"] == fidelity_ladder(full) and meta["fidelity"]["range"] == [floor, full]
    cs = bench.get_configuration_space(seed=0)
    assert set(cs.keys()) == set(core.space.names)
    for config in (cs.sample_configuration(), cs.get_default_configuration()):
        x = core.space.to_vector(dict(config))
        low = bench.objective_function(config, fidelity={"n_problems": floor})
        exact = bench.objective_function(config)
        assert low["function_value"] == 1.0 - core.evaluate(x, n_problems=floor, seed=3)
        assert exact["function_value"] == 1.0 - core.evaluate(x)
        assert 0 < low["cost"] == core.cost(x, n_problems=floor) < exact["cost"] == core.cost(x)
        assert bench.objective_function_test(config)["function_value"] == 1.0 - core.evaluate(x, "test_acc")


def test_a_benchmark_registered_before_the_import_gets_its_class() -> None:
    # As an entry point registers a new member: a class named after it, importable by path, by name.
    import subprocess
    import sys

    code = (
        "from smm_plugins.registry import register_benchmark\n"
        "register_benchmark('smm-mini-extra-ps-true', 'smm_plugins.lab.objectives:ps_true_benchmark', kind='true',"
        " suites=('smm-mini',))\n"
        "import hpobench_ext as H\n"
        "from hpobench_ext import SMMMiniExtraPSTrue\n"
        "cls = H.BENCHMARK_CLASSES['smm-mini-extra-ps-true']\n"
        "assert cls is SMMMiniExtraPSTrue and H.benchmark_class('hpobench_ext:SMMMiniExtraPSTrue') is cls\n"
        "assert H.CLASS_PATHS['smm-mini-extra-ps-true'] == 'hpobench_ext:SMMMiniExtraPSTrue'\n"
        "b = H.get_benchmark('smm-mini-extra-ps-true', rng=0)\n"
        "assert type(b) is cls and cls.benchmark_name == 'smm-mini-extra-ps-true'\n"
        "print(b.objective_function(b.get_configuration_space(seed=0).get_default_configuration())['function_value'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    core = load_benchmark("smm-mini-ps-true")
    assert float(out.stdout) == 1.0 - core.evaluate(core.space.default_vector())
    assert H.class_name("smm-mini-math-ps-true") == "SMMMiniMathPSTrue"
    assert all(H.class_name(name) == cls.__name__ for name, cls in H.BENCHMARK_CLASSES.items())
