"""Syne Tune's fidelity follows the core's one contract, on the blackbox and through a simulated Tuner run."""

from __future__ import annotations

import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")


import synetune_ext as S
from smm_plugins.fidelity import FidelityError


@pytest.mark.parametrize(
    ("fidelity", "core_fidelity"),
    [(5, 5), ({"n_problems": 5}, 5), (1001, 1001), ({"epochs": 10}, ("epochs", 10)), (True, True)],
)
def test_blackbox_rejects_with_the_cores_error(lab_sized, fidelity, core_fidelity, core_error):
    bb = S.SMMBlackbox(lab_sized)
    with pytest.raises(FidelityError) as err:
        bb.objective_function(lab_sized.space.default_config(), fidelity=fidelity)
    assert str(err.value) == core_error(core_fidelity)


def test_blackbox_takes_an_integral_float_as_its_problem_count(lab_sized):
    bb = S.SMMBlackbox(lab_sized, seed=3)
    config = lab_sized.space.default_config()
    x = lab_sized.space.to_vector(config)
    got = bb.objective_function(config, fidelity=111.0)
    assert got["train_acc"] == lab_sized.evaluate(x, n_problems=111, seed=3)
    assert got[S.ELAPSED_TIME] == lab_sized.cost(x, n_problems=111)
    assert bb.objective_function(config, fidelity={"n_problems": 111.0}) == got


def test_custom_levels_outside_the_range_are_the_cores_error(lab_sized, core_error):
    with pytest.raises(FidelityError) as err:
        _ = S.SMMBlackbox(lab_sized, fidelities=[5, 1000]).fidelity_values
    assert str(err.value) == core_error(5)
    assert S.SMMBlackbox(lab_sized, fidelities=[111.0, 1000.0]).fidelity_values.tolist() == [111, 1000]


def test_tuner_on_a_backend_reports_the_counts_used_and_never_runs_below_the_floor(
    lab_sized, core_error, simulated_tuning
):
    # As a user sets levels by hand: floats are problem counts, 5 problems never runs.
    df = simulated_tuning(
        S.register_blackbox(lab_sized, name="lab-sized-111.0-test", fidelities=[111.0, 1000.0]), trials=3
    )
    assert sorted(df["n_problems"].unique().tolist()) == [111, 1000]
    low = df[df["n_problems"] == 111].iloc[0]
    x = lab_sized.space.to_vector({k: low[f"config_{k}"] for k in lab_sized.space.names})
    assert low["train_acc"] == lab_sized.evaluate(x, n_problems=111, seed=0)
    with pytest.raises(FidelityError) as err:
        simulated_tuning(S.register_blackbox(lab_sized, name="lab-sized-5-test", fidelities=[5, 1000]), trials=3)
    assert str(err.value) == core_error(5)
