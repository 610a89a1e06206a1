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
