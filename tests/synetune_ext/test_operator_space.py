"""The operator space (``smm-mini-op-true``) in Syne Tune: a flat space, by name, in a simulated Tuner run."""

from __future__ import annotations

import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")

from syne_tune.blackbox_repository import load_blackbox

from smm_plugins.lab.operators import OPERATORS

NAME = "smm-mini-op-true"


def test_blackbox_by_name_shows_operator_names_and_ignores_inactive_values() -> None:
    bb = load_blackbox(NAME)
    cs = bb.configuration_space
    assert list(cs) == bb.benchmark.space.names and tuple(cs["operator"].categories) == OPERATORS
    bench = bb.benchmark
    full = bb.full_fidelity
    ties = {"operator": "ties", "weight_A": 1.0, "weight_B": 1.0, "ties_density": 0.4}
    # Syne Tune samples every parameter: the values of the inactive ones do not matter.
    a = bb.objective_function({**ties, "slerp_t": 0.1, "dare_drop": 0.2}, fidelity={"n_problems": full})
    b = bb.objective_function({**ties, "slerp_t": 0.9, "dare_drop": 0.7}, fidelity={"n_problems": full})
    assert a == b and a["train_acc"] == bench.evaluate(bench.space.to_vector(ties))


def test_simulated_tuning_by_name_on_the_operator_space(simulated_tuning) -> None:
    bb = load_blackbox(NAME)
    df = simulated_tuning(NAME, trials=16, workers=2)
    full = df[df["n_problems"] == bb.full_fidelity]
    assert len(set(full["trial_id"])) >= 16 and set(full["config_operator"]) <= set(OPERATORS)
    bench = bb.benchmark
    for _, row in full.iterrows():
        config = {n: row[f"config_{n}"] for n in bench.space.names}  # flat: every parameter present
        assert row["train_acc"] == bench.evaluate(bench.space.to_vector(config))
