"""The conditional operator space (``smm-mini-op-true``) through HPOBench, as its users call it (and SMAC on it)."""

from __future__ import annotations

import numpy as np
import pytest

ConfigSpace = pytest.importorskip("ConfigSpace")

import hpobench_ext
from smm_plugins.lab.operators import OPERATORS

NAME = "smm-mini-op-true"


def test_objective_function_takes_conditional_configurations() -> None:
    bench = hpobench_ext.get_benchmark(NAME, rng=0)
    assert type(bench) is hpobench_ext.SMMMiniOpTrue and hpobench_ext.CLASS_PATHS[NAME] == "hpobench_ext:SMMMiniOpTrue"
    cs = bench.get_configuration_space(seed=1)
    assert len(cs.conditions) == 5 and list(cs["operator"].choices) == list(OPERATORS)
    core = bench.benchmark
    configs = cs.sample_configuration(12)
    for c in configs:  # Configuration objects hold only the active parameters
        result = bench.objective_function(c)
        x = core.space.to_vector(dict(c))
        assert result["function_value"] == 1.0 - core.evaluate(x) and result["info"]["accuracy"] == core.evaluate(x)
        assert bench.objective_function_test(c)["function_value"] == 1.0 - core.evaluate(x, "test_acc")
    # A dict as HPOBench users write it; inactive values given anyway (a flat tool) change nothing.
    ties = {"operator": "ties", "weight_A": 1.0, "weight_B": 1.0, "ties_density": 0.4}
    value = bench.objective_function(ties)["function_value"]
    assert bench.objective_function({**ties, "slerp_t": 0.9, "dare_drop": 0.1})["function_value"] == value
    low = bench.objective_function(ties, fidelity={"n_problems": 100}, rng=3)
    assert low["info"]["accuracy"] == core.evaluate(core.space.to_vector(ties), n_problems=100, seed=3)
    # The incumbent comes back as a Configuration holds it: labels, active parameters only.
    best, result = bench.full_fidelity_incumbent(configs)
    assert dict(ConfigSpace.Configuration(cs, values=best)) == best and result == bench.objective_function(best)
    with pytest.raises(ValueError, match=r"missing 1 active parameter\(s\).*\['ties_density'\]"):
        bench.objective_function({"operator": "ties", "weight_A": 1.0, "weight_B": 1.0})
    with pytest.raises(ValueError, match=r"'operator' = 'average' is not a valid category; allowed: one of \{'linear'"):
        bench.objective_function({"operator": "average"})


@pytest.mark.slow
def test_smac_searches_the_conditional_space_through_hpobench(tmp_path) -> None:
    smac = pytest.importorskip("smac")
    bench = hpobench_ext.get_benchmark(NAME, rng=0)
    seen: list[dict] = []

    def train(config, seed: int = 0) -> float:
        seen.append(dict(config))
        return bench.objective_function(config)["function_value"]

    scenario = smac.Scenario(
        bench.get_configuration_space(seed=0), deterministic=True, n_trials=30, output_directory=tmp_path, seed=0
    )
    facade = smac.HyperparameterOptimizationFacade(scenario, train, overwrite=True, logging_level=False)
    incumbent = facade.optimize()
    assert {c["operator"] for c in seen} == set(OPERATORS)  # SMAC's random forest sees every operator
    assert all("slerp_t" not in c for c in seen if c["operator"] != "slerp")  # inactive: never sampled
    core = bench.benchmark
    random_values = 1.0 - core.evaluate(core.space.sample(50, rng=1))
    assert bench.objective_function(incumbent)["function_value"] < np.quantile(random_values, 0.1)
