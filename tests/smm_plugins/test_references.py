"""Reference configurations: the sources alone, the base model and the default, for PS and DFS spaces."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins import load_benchmark
from smm_plugins.references import reference_configs
from smm_plugins.space import Parameter, SearchSpace, dfs_space, ps_space


def test_ps_references_are_the_sources_the_base_and_the_default() -> None:
    space = ps_space(n_layers=4)
    refs = reference_configs(space)
    assert list(refs) == ["A alone", "B alone", "base", "default"]
    np.testing.assert_array_equal(refs["A alone"], [1, 1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(refs["B alone"], [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(refs["base"], np.zeros(8))
    np.testing.assert_array_equal(refs["default"], np.full(8, 0.5))  # the uniform merge


def test_ps_space_of_three_models_names_each_source() -> None:
    refs = reference_configs(ps_space(n_layers=2, n_models=3))
    assert list(refs) == ["A alone", "B alone", "C alone", "base", "default"]
    np.testing.assert_array_equal(refs["C alone"], [0, 0, 0, 0, 1, 1])


def test_dfs_references_are_each_sources_path_with_unit_scales() -> None:
    space = dfs_space(n_layers=3)  # 3 layer choices, then 5 scales
    refs = reference_configs(space)
    assert list(refs) == ["A alone", "B alone", "default"]
    np.testing.assert_array_equal(refs["A alone"], [0, 0, 0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(refs["B alone"], [1, 1, 1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(refs["default"], refs["A alone"])  # DFS's default path is A's


def test_other_spaces_get_the_default_only() -> None:
    space = SearchSpace("x", (Parameter("lr", "float", lower=0.0, upper=2.0, default=0.3),))
    refs = reference_configs(space)
    assert list(refs) == ["default"] and refs["default"].tolist() == [0.3]


@pytest.mark.parametrize("name", ["smm-mini-ps-true", "smm-mini-dfs-true"])
def test_source_alone_is_the_source_model_on_the_exact_lab_objective(name: str) -> None:
    # "A alone" must mean model A itself: the exact objective there equals A's own accuracy, likewise B.
    from smm_plugins.lab.objectives import load_lab

    bench = load_benchmark(name)
    refs = reference_configs(bench.space)
    lab = load_lab()
    for label, net in (("A alone", lab.a), ("B alone", lab.b)):
        for objective, (X, y) in lab.splits.items():
            own = float(np.mean(net.predict(X) == y))
            assert bench.evaluate(refs[label], objective) == pytest.approx(own, abs=1e-12), (label, objective)
    if name == "smm-mini-ps-true":
        X, y = lab.splits["train_acc"]
        assert bench.evaluate(refs["base"]) == pytest.approx(float(np.mean(lab.base.predict(X) == y)), abs=1e-12)
