"""Syne Tune blackboxes: contract, fidelity ladder by name, fixed-subset values, cumulative simulated time."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")

from syne_tune.blackbox_repository import load_blackbox
from syne_tune.config_space import Categorical, Float

import synetune_ext as S
from smm_plugins.fidelity import fidelity_ladder

REGISTERED = ["smm-bench-dfs", "smm-bench-ps", "smm-mini-dfs", "smm-mini-dfs-true", "smm-mini-ps", "smm-mini-ps-true"]


def test_every_registered_benchmark_is_found_by_load_blackbox():
    from smm_plugins.registry import list_benchmarks

    assert set(REGISTERED) <= set(list_benchmarks()) <= set(S.registered_blackboxes())
    for name in list_benchmarks():
        bb = load_blackbox(name)  # lazy: nothing is loaded yet (official files may be absent)
        assert isinstance(bb, S.SMMBlackbox) and bb.name == name and S.registered_blackbox(name) is bb


def test_by_name_the_ladder_ends_at_the_full_split_with_exact_accuracy():
    bb = load_blackbox("smm-mini-ps")
    bench = bb.benchmark
    full = bench.n_problems_full["train_acc"]
    assert bb.fidelity_values.tolist() == fidelity_ladder(full) and len(bb.fidelity_values) == 4
    assert bb.fidelity_name() == "n_problems" and bb.fidelity_values[-1] == bb.full_fidelity == full
    x = bench.space.sample(1, np.random.default_rng(3))[0]
    table = bb.objective_function(bench.space.to_config(x))
    assert table.shape == (4, 3)
    for row, n in zip(table, bb.fidelity_values, strict=True):
        expected = bench.evaluate(x, n_problems=int(n), seed=0) if n < full else bench.evaluate(x)
        assert row[0] == expected  # the core's fixed-subset value (seed 0); exact at full
        assert row[1] == bench.evaluate(x, "test_acc")
        assert row[2] == bench.cost(x, n_problems=int(n))  # cumulative: the run up to n problems
    assert np.all(np.diff(table[:, 2]) > 0)


def test_blackbox_contract_and_values(tiny_dfs):
    bb = S.SMMBlackbox(tiny_dfs, fidelities=False)
    cs = bb.configuration_space
    assert list(cs) == tiny_dfs.space.names
    for p in tiny_dfs.space.parameters:
        dom = cs[p.name]
        if p.kind == "float":
            assert isinstance(dom, Float) and (dom.lower, dom.upper) == (p.lower, p.upper)
        else:
            assert isinstance(dom, Categorical) and tuple(dom.categories) == p.choices
    assert bb.objectives_names == ["train_acc", "test_acc", "elapsed_time"]
    assert bb.fidelity_values.tolist() == [1069] and list(bb.fidelity_space) == ["n_problems"]
    config = {k: (v.sample() if hasattr(v, "sample") else v) for k, v in cs.items()}
    x = tiny_dfs.space.to_vector(config)
    table = bb.objective_function(config)
    assert table.shape == (1, 3)
    np.testing.assert_allclose(table[0], [tiny_dfs.evaluate(x), tiny_dfs.evaluate(x, "test_acc"), tiny_dfs.cost(x)])
    expected = dict(zip(bb.objectives_names, table[0], strict=True))
    assert bb.objective_function(config, fidelity={"n_problems": 1069}) == expected
    assert bb(config, fidelity=1069)["train_acc"] == table[0, 0]


def test_seed_selects_the_subset_and_the_simulators_seed_overrides_it(tiny_ps):
    config = tiny_ps.space.default_config()
    x = tiny_ps.space.default_vector()
    t1 = S.SMMBlackbox(tiny_ps, seed=1).objective_function(config)
    np.testing.assert_array_equal(t1, S.SMMBlackbox(tiny_ps, seed=1).objective_function(config))
    np.testing.assert_array_equal(t1, S.SMMBlackbox(tiny_ps, seed=4).objective_function(config, seed=1))
    levels = fidelity_ladder(1069)
    assert t1[:, 0].tolist() == [tiny_ps.evaluate(x, n_problems=n, seed=1) for n in levels[:-1]] + [tiny_ps.evaluate(x)]
    for (acc, _, _), n in zip(t1[:3], levels, strict=False):
        assert acc * n == pytest.approx(round(acc * n))  # counts out of n problems
    other = S.SMMBlackbox(tiny_ps, seed=2).objective_function(config)
    assert other[-1, 0] == t1[-1, 0] and not np.array_equal(other[:3, 0], t1[:3, 0])


def test_custom_levels_and_bad_settings(tiny_ps):
    assert S.SMMBlackbox(tiny_ps, fidelities=[500, 40, 500]).fidelity_values.tolist() == [40, 500]
    with pytest.raises(ValueError, match="n_problems"):
        _ = S.SMMBlackbox(tiny_ps, fidelities=[0, 10]).fidelity_values
    with pytest.raises(ValueError, match="fidelities"):
        _ = S.SMMBlackbox(tiny_ps, fidelities=[]).fidelity_values
    for bad in (None, 3, "full"):
        with pytest.raises(ValueError, match="fidelities"):
            S.SMMBlackbox(tiny_ps, fidelities=bad)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="seed"):
            S.SMMBlackbox(tiny_ps, seed=bad)


def test_bad_configurations_raise_value_error(tiny_ps):
    bb = S.SMMBlackbox(tiny_ps)
    config = tiny_ps.space.default_config()
    name = tiny_ps.space.names[1]
    with pytest.raises(ValueError, match=name):
        bb.objective_function({**config, name: 2.0})
    with pytest.raises(ValueError, match="unknown"):
        bb.objective_function({**config, "zzz": 0.5})
    with pytest.raises(ValueError, match="missing"):
        bb.objective_function({k: v for k, v in config.items() if k != name})
    with pytest.raises(ValueError, match="fidelity"):
        bb.objective_function(config, fidelity={"epochs": 3})
    for bad in (0, 1.5, 5000):
        with pytest.raises(ValueError, match="n_problems"):
            bb.objective_function(config, fidelity={"n_problems": bad})


def test_missing_syne_tune_is_a_one_line_import_error(monkeypatch):
    for mod in [m for m in sys.modules if m == "synetune_ext" or m.startswith("synetune_ext.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "syne_tune", None)
    with pytest.raises(ImportError, match=r'pip install "smm-plugins\[synetune\]"') as info:
        importlib.import_module("synetune_ext")
    assert "\n" not in str(info.value)
