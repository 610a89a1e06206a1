"""CARP-S's trial budget follows the core's fidelity contract (a CARP-S budget is a bare number: no name)."""

from __future__ import annotations

import pytest

pytest.importorskip("carps")

from carps.utils.trials import TrialInfo
from ConfigSpace import Configuration

from carps_ext import SMMObjectiveFunction
from smm_plugins.fidelity import FidelityError


def _trial(f: SMMObjectiveFunction, **kw) -> TrialInfo:
    return TrialInfo(config=Configuration(f.configspace, values=f.benchmark.space.default_config()), **kw)


@pytest.mark.parametrize("budget", [5, 5.0, 1001, 1000.6, True, "111"])
def test_budget_outside_the_range_is_the_cores_error(lab_sized, budget, core_error):
    f = SMMObjectiveFunction(lab_sized, seed=0)
    with pytest.raises(FidelityError) as err:
        f.evaluate(_trial(f, budget=budget))
    assert str(err.value) == core_error(budget)
    assert f.n_function_calls == 0  # nothing evaluated, nothing logged


def test_integral_float_budget_is_its_problem_count_and_recorded(lab_sized):
    f = SMMObjectiveFunction(lab_sized, seed=2)
    x = lab_sized.space.default_vector()
    value = f.evaluate(_trial(f, budget=111.0))
    assert value.additional_info["n_problems"] == 111
    assert value.cost == 1.0 - lab_sized.evaluate(x, n_problems=111, seed=2)
    assert value.virtual_time == lab_sized.cost(x, n_problems=111)
    # A Hyperband budget (1000 / 27 = 37.04) is rounded to the nearest count, and the count is what is recorded;
    # halves go up, as in every adapter (HPOBench made 118.5 119 where CARP-S made it 118).
    assert f.evaluate(_trial(f, budget=1000 / 27)).additional_info["n_problems"] == 37
    assert f.evaluate(_trial(f, budget=118.5)).additional_info["n_problems"] == 119
