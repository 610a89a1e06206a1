"""Reference configurations: the sources alone, the base model and the default, for PS and DFS spaces."""

from __future__ import annotations

from typing import Any

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


# -- a benchmark's own references (Benchmark.reference_configs, the entry-point group smm_plugins.references) --


def _with_plugins(monkeypatch: pytest.MonkeyPatch, targets: dict[str, str]) -> None:
    # The installed entry points of the group, replaced by these (name -> "module:function").
    import importlib.metadata

    from smm_plugins import plugins
    from smm_plugins.references import REFERENCES_GROUP

    eps = {n: importlib.metadata.EntryPoint(n, t, REFERENCES_GROUP) for n, t in targets.items()}
    real = plugins.entry_points
    monkeypatch.setattr(plugins, "entry_points", lambda group: eps if group == REFERENCES_GROUP else real(group))


def test_a_benchmark_without_its_own_references_has_the_spaces() -> None:
    from smm_plugins.testing import SyntheticBenchmark

    bench = SyntheticBenchmark(ps_space(name="toy-ps", n_layers=3))
    refs = bench.reference_configs()
    assert list(refs) == list(reference_configs(bench.space))
    for label, x in reference_configs(bench.space).items():
        np.testing.assert_array_equal(refs[label], x)


def test_a_subclass_adds_its_own_after_the_spaces_and_bad_ones_are_refused() -> None:
    from smm_plugins.testing import SyntheticBenchmark

    class Own(SyntheticBenchmark):
        extra: dict[str, Any] = {"hand-made": np.array([0.2, 0.4, 0.6, 0.8])}

        def benchmark_references(self) -> dict[str, Any]:
            return self.extra

    bench = Own(ps_space(name="toy-ps", n_layers=2))
    refs = bench.reference_configs()
    assert list(refs) == ["A alone", "B alone", "base", "default", "hand-made"]
    np.testing.assert_array_equal(refs["hand-made"], [0.2, 0.4, 0.6, 0.8])
    bench.extra = {"by name": {"w_A_00": 0.1, "w_A_01": 0.2, "w_B_00": 0.3, "w_B_01": 0.4}}  # a config mapping
    np.testing.assert_array_equal(bench.reference_configs()["by name"], [0.1, 0.2, 0.3, 0.4])
    bench.extra = {"base": np.zeros(4)}
    with pytest.raises(ValueError, match="label = 'base' of 'toy-ps' repeats one of the space's"):
        bench.reference_configs()
    bench.extra = {"too big": np.array([0.2, 0.4, 0.6, 1.8])}
    with pytest.raises(ValueError, match="reference 'too big'"):
        bench.reference_configs()


def test_a_plugin_gives_a_benchmark_references_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # The lab's provider, registered for one name: it answers for that benchmark and no other.
    from smm_plugins.lab.qp import QP_LABEL, load_qp_file

    _with_plugins(monkeypatch, {"smm-mini-ps-true": "smm_plugins.lab.qp:qp_references"})
    bench = load_benchmark("smm-mini-ps-true")
    assert list(bench.benchmark_references()) == [QP_LABEL]
    np.testing.assert_array_equal(
        bench.benchmark_references()[QP_LABEL], list(load_qp_file()["merges"][0]["config"].values())
    )
    assert load_benchmark("smm-mini-ps").benchmark_references() == {}  # not registered in this patched group


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("no_such_module_for_references:refs", "ModuleNotFoundError"),  # cannot be imported
        ("smm_plugins.lab.qp:qp_references", "has no QP merge in qp_ps.json"),  # raises for this benchmark
        ("smm_plugins.space:ps_space", "AttributeError"),  # gives something that is not {label: config}
    ],
)
def test_a_failing_plugin_is_named_in_the_log_and_the_spaces_references_stay(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, target: str, logged: str
) -> None:
    import logging

    from smm_plugins.testing import SyntheticBenchmark

    _with_plugins(monkeypatch, {"toy-ps": target})
    bench = SyntheticBenchmark(ps_space(name="toy-ps", n_layers=2))
    with caplog.at_level(logging.INFO, logger="smm_plugins.plugins"):
        refs = bench.reference_configs()
    assert list(refs) == ["A alone", "B alone", "base", "default"]
    assert logged in caplog.text and target in caplog.text and "reference plugin" in caplog.text
