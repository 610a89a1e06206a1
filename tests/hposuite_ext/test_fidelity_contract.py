"""hposuite's fidelity follows the core's contract: ("epochs", 10) is an error, never 10 problems."""

from __future__ import annotations

import pytest

pytest.importorskip("hposuite")

from hpoglue import Config, Query

from hposuite_ext import COST, benchmark_description
from smm_plugins.fidelity import FidelityError


def _query(bench, fidelity):
    desc = benchmark_description(bench)
    config = Config(config_id="c", values=bench.space.default_config())
    return desc.load(desc).query(Query(config=config, fidelity=fidelity))


@pytest.mark.parametrize(
    "fidelity",
    [("n_problems", 5), {"n_problems": 5}, ("n_problems", 1001), ("epochs", 10), {"epochs": 10}, ("n_problems", "111")],
)
def test_out_of_range_or_unknown_fidelity_is_the_cores_error(lab_sized, fidelity, core_error):
    with pytest.raises(FidelityError) as err:
        _query(lab_sized, fidelity)
    assert str(err.value) == core_error(fidelity)


@pytest.mark.parametrize(
    ("fidelity", "n"),
    [
        (("n_problems", 111.0), 111),
        ({"n_problems": 111.0}, 111),
        (("n_problems", 110.8), 111),
        (("n_problems", 118.5), 119),
    ],
)
def test_float_fidelity_is_evaluated_on_its_problem_count(lab_sized, fidelity, n):
    # Halves go up, as in every adapter (HPOBench made 118.5 119 where hposuite made it 118).
    x = lab_sized.space.default_vector()
    values = _query(lab_sized, fidelity).values
    assert values[COST] == lab_sized.cost(x, n_problems=n)
    assert lab_sized.evaluate(x, n_problems=n, seed=0) in values.values()  # the accuracy on those n
    assert _query(lab_sized, None).values[COST] == lab_sized.cost(x)  # no fidelity: the full split
