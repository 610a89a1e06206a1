"""The conditional operator space (``smm-mini-op-true``) in CARP-S: objective function and generated task config."""

from __future__ import annotations

import pytest

pytest.importorskip("carps")

from carps.utils.trials import TrialInfo
from ConfigSpace import ConfigurationSpace

from carps_ext import SMMObjectiveFunction, task_config

NAME = "smm-mini-op-true"


def test_objective_function_evaluates_conditional_configurations() -> None:
    f = SMMObjectiveFunction(NAME, seed=2)
    b = f.benchmark
    assert len(f.configspace.conditions) == 5
    for config in f.configspace.sample_configuration(6):  # active parameters only, operator by name
        x = b.space.to_vector(dict(config))
        value = f.evaluate(TrialInfo(config=config))
        assert value.cost == 1.0 - b.evaluate(x) and value.additional_info["test_acc"] == b.evaluate(x, "test_acc")
        low = f.evaluate(TrialInfo(config=config, budget=100.0))
        assert low.additional_info["train_acc"] == b.evaluate(x, n_problems=100, seed=2)


def test_task_config_carries_the_conditions() -> None:
    task = task_config(NAME, multifidelity=False)["task"]
    assert task["metadata"]["search_space_has_conditionals"] is True
    cs = ConfigurationSpace.from_serialized_dict(task["input_space"]["configuration_space"]["d"])
    assert cs == SMMObjectiveFunction(NAME).configspace
