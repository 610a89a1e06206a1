"""SMAC3's multi-fidelity facade (Hyperband, float budgets) on the HPOBench adapter, as a SMAC user runs it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ConfigSpace")
smac = pytest.importorskip("smac")

import hpobench_ext


@pytest.mark.slow
def test_smac_hyperband_with_float_budgets_and_a_full_fidelity_incumbent(tmp_path):
    bench = hpobench_ext.get_benchmark("smm-mini-ps", rng=0)
    fidelity = bench.get_fidelity_space()["n_problems"]
    budgets: list[float] = []

    def train(config, seed: int = 0, budget: float = fidelity.upper) -> float:
        budgets.append(budget)
        return bench.objective_function(config, fidelity={"n_problems": budget})["function_value"]

    scenario = smac.Scenario(
        bench.get_configuration_space(seed=0),
        deterministic=True,
        n_trials=40,
        min_budget=fidelity.lower,
        max_budget=fidelity.upper,
        output_directory=tmp_path / "smac",
        seed=0,
    )
    facade = smac.MultiFidelityFacade(
        scenario,
        train,
        initial_design=smac.MultiFidelityFacade.get_initial_design(scenario, n_configs=5),
        intensifier=smac.MultiFidelityFacade.get_intensifier(scenario, eta=3),
        overwrite=True,
        logging_level=False,  # SMAC would reconfigure logging (dictConfig disables existing loggers)
    )
    incumbent = facade.optimize()

    # SMAC hands over non-integral float budgets on the ladder (1000 / 27 = 37.04, ...): accepted and rounded.
    assert any(b != int(b) for b in budgets) and min(budgets) >= fidelity.lower
    assert len({round(b) for b in budgets}) >= 3
    # The incumbent re-scored at full fidelity: exact, and better than the median random configuration.
    best, result = bench.full_fidelity_incumbent([incumbent, *facade.runhistory.get_configs()])
    assert result["info"]["fidelity"] == {"n_problems": fidelity.upper}
    assert result["function_value"] == bench.objective_function(best)["function_value"]
    core = bench.benchmark
    random_values = 1.0 - core.evaluate(core.space.sample(50, rng=1))
    assert result["function_value"] < np.median(random_values)
    assert bench.objective_function(incumbent)["function_value"] >= result["function_value"]
