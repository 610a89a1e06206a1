"""HPOBench's fidelity follows the core's one contract: same error as every adapter, 111.0 is 111 problems."""

from __future__ import annotations

import pytest

pytest.importorskip("ConfigSpace")

import hpobench_ext as H
from smm_plugins.fidelity import FidelityError


@pytest.mark.parametrize(
    ("fidelity", "core_fidelity"),
    [
        ({"n_problems": 5}, 5),
        ({"n_problems": 1001}, 1001),
        ({"epochs": 10}, ("epochs", 10)),
        ({"n_problems": "111"}, "111"),
    ],
)
def test_out_of_range_or_unknown_fidelity_is_the_cores_error(lab_sized, fidelity, core_fidelity, core_error):
    bench = H.get_benchmark(lab_sized, rng=0)
    config = lab_sized.space.default_config()
    with pytest.raises(FidelityError) as err:
        bench.objective_function(config, fidelity=fidelity)
    assert str(err.value) == core_error(core_fidelity)


def test_integral_float_is_its_problem_count(lab_sized):
    bench = H.get_benchmark(lab_sized, rng=0)
    config = lab_sized.space.default_config()
    x = lab_sized.space.to_vector(config)
    result = bench.objective_function(config, fidelity={"n_problems": 111.0}, rng=4)
    assert result["info"]["fidelity"] == {"n_problems": 111} and result["info"]["subset_seed"] == 4
    assert result["function_value"] == 1.0 - lab_sized.evaluate(x, n_problems=111, seed=4)
    assert result["cost"] == lab_sized.cost(x, n_problems=111)
    # A fidelity Configuration sampled from the space goes through the same contract.
    fid = bench.get_fidelity_space(seed=3).sample_configuration()
    assert bench.objective_function(config, fidelity=fid)["info"]["fidelity"] == {"n_problems": fid["n_problems"]}
