"""smm_plugins.configspace: the one ConfigSpace translation of the canonical search space."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

ConfigSpace = pytest.importorskip("ConfigSpace")

from smm_plugins.configspace import configuration_space
from smm_plugins.space import dfs_space, ps_space


@pytest.mark.parametrize("space", [ps_space(), dfs_space()], ids=["ps", "dfs"])
def test_translation_keeps_names_order_bounds_defaults_and_codes(space):
    cs = configuration_space(space, seed=3)
    assert list(cs) == space.names and cs.name == space.name
    for p in space.parameters:
        hp = cs[p.name]
        if p.kind == "float":
            assert isinstance(hp, ConfigSpace.UniformFloatHyperparameter)
            assert (hp.lower, hp.upper, hp.default_value) == (p.lower, p.upper, p.default)
        else:
            assert isinstance(hp, ConfigSpace.CategoricalHyperparameter)
            assert list(hp.choices) == list(p.choices) and hp.default_value == p.default
    # Every sampled configuration is valid in the canonical space, and the seed fixes the samples.
    configs = cs.sample_configuration(20)
    X = np.array([space.to_vector(dict(c)) for c in configs])
    space.validate(X)
    again = configuration_space(space, seed=3).sample_configuration(20)
    assert [dict(c) for c in again] == [dict(c) for c in configs]


def test_core_imports_configspace_only_when_translating():
    code = "import sys, smm_plugins, smm_plugins.configspace; print('ConfigSpace' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_conditions_and_labels_become_configspace_conditions():
    from smm_plugins.lab.operator_objective import operator_space

    space = operator_space()
    cs = configuration_space(space, seed=0)
    assert set(cs) == set(space.names)
    op = cs["operator"]
    assert list(op.choices) == ["linear", "slerp", "ties", "dare"] and op.default_value == "linear"
    conds = {c.child.name: c for c in cs.conditions}
    assert set(conds) == {"weight_A", "weight_B", "slerp_t", "ties_density", "dare_drop"}
    assert isinstance(conds["weight_A"], ConfigSpace.InCondition)
    assert list(conds["weight_A"].values) == ["linear", "ties", "dare"]
    assert isinstance(conds["slerp_t"], ConfigSpace.EqualsCondition) and conds["slerp_t"].value == "slerp"
    # ConfigSpace samples only active parameters; every sample maps to a valid row with those values.
    configs = cs.sample_configuration(200)
    assert {c["operator"] for c in configs} == {"linear", "slerp", "ties", "dare"}
    for c in configs:
        x = space.to_vector(dict(c))
        space.validate(x)
        active = space.active_mask(x)[0]
        assert {n for n, on in zip(space.names, active, strict=True) if on} == set(dict(c))
        assert space.to_active_config(x) == pytest.approx(dict(c))
    # The default configuration is a valid (conditional) Configuration.
    default = ConfigSpace.Configuration(cs, values=space.default_config())
    assert default == cs.get_default_configuration()
    with pytest.raises(ValueError):  # an inactive value is illegal in ConfigSpace's own check
        ConfigSpace.Configuration(cs, values={**space.default_config(), "slerp_t": 0.5})
