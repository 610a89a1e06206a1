"""Syne Tune adapter: blackbox contract, name lookup (also after unpickling elsewhere), quiet simulation."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")

from syne_tune.blackbox_repository import load_blackbox
from syne_tune.blackbox_repository.simulated_tabular_backend import BlackboxRepositoryBackend
from syne_tune.config_space import Categorical, Float

import synetune_ext as S

REGISTERED = ["smm-bench-dfs", "smm-bench-ps", "smm-mini-dfs", "smm-mini-dfs-true", "smm-mini-ps", "smm-mini-ps-true"]


def test_every_registered_benchmark_is_found_by_load_blackbox():
    from smm_plugins.registry import list_benchmarks

    assert set(REGISTERED) <= set(list_benchmarks())
    for name in list_benchmarks():
        bb = load_blackbox(name)  # lazy: nothing is loaded yet (official files may be absent)
        assert isinstance(bb, S.SMMBlackbox) and bb.name == name


def test_blackbox_contract_and_values(tiny_dfs):
    bb = S.SMMBlackbox(tiny_dfs)
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


def test_multi_fidelity_levels_noise_and_cumulative_time(tiny_ps):
    bb = S.SMMBlackbox(tiny_ps, fidelities=True, seed=1)
    assert bb.fidelity_values.tolist() == [39, 118, 356, 1069] == S.default_fidelities(1069)
    config = tiny_ps.space.default_config()
    x = tiny_ps.space.default_vector()
    t1, t2 = bb.objective_function(config), S.SMMBlackbox(tiny_ps, fidelities=True, seed=1).objective_function(config)
    np.testing.assert_array_equal(t1, t2)  # reproducible
    assert np.all(np.diff(t1[:, 2]) > 0)  # elapsed time is cumulative over fidelities
    np.testing.assert_allclose(t1[:, 2], [tiny_ps.cost(x, n_problems=n) for n in (39, 118, 356, 1069)])
    for (acc, _, _), n in zip(t1[:3], (39, 118, 356), strict=True):
        assert acc * n == pytest.approx(round(acc * n))  # counts out of n problems
    assert t1[3, 0] == tiny_ps.evaluate(x)  # full size: the deterministic accuracy
    with pytest.raises(ValueError, match="n_problems"):
        _ = S.SMMBlackbox(tiny_ps, fidelities=[0, 10]).fidelity_values


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


def test_repository_backend_by_name_runs_in_the_simulator(tiny_ps, capfd):
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.optimizer.baselines import RandomSearch

    name = S.register_blackbox(tiny_ps, name="tiny-ps-synetune-test")
    backend = BlackboxRepositoryBackend(blackbox_name=name, elapsed_time_attr=S.ELAPSED_TIME)
    bb = load_blackbox(name)
    callback = SimulatorCallback()
    sched = RandomSearch(bb.configuration_space, metrics=["train_acc"], do_minimize=False, random_seed=0)
    from synetune_ext.tuning import _quiet_experiment, _SilentTunerLogger

    with _quiet_experiment(None):
        Tuner(
            trial_backend=backend,
            scheduler=sched,
            stop_criterion=StoppingCriterion(max_num_trials_finished=3),
            n_workers=1,
            sleep_time=0,
            callbacks=[callback],
            save_tuner=False,
            output_logger=_SilentTunerLogger(),
        ).run()
    df = callback.dataframe()
    assert len(df) >= 3
    row = df.iloc[0]
    x = np.array([row[f"config_{n}"] for n in tiny_ps.space.names])
    assert row["train_acc"] == pytest.approx(tiny_ps.evaluate(x))


def test_backend_unpickles_in_a_fresh_process(tmp_path):
    from smm_plugins.space import ps_space
    from smm_plugins.testing import write_cv_booster_dir

    folder = str(write_cv_booster_dir(tmp_path / "tiny", ps_space("tiny"), n_trees=5, n_samples=200, n_folds=2))
    S.register_blackbox(folder)  # a name any process can resolve: a surrogate directory
    for name in ("smm-mini-ps", folder):
        backend = BlackboxRepositoryBackend(blackbox_name=name, elapsed_time_attr=S.ELAPSED_TIME)
        (tmp_path / "backend.pkl").write_bytes(pickle.dumps(backend))
        code = textwrap.dedent(f"""
            import pickle, sys
            backend = pickle.loads(open({str(tmp_path / "backend.pkl")!r}, "rb").read())
            assert "synetune_ext" in sys.modules  # imported by unpickling, not by this script
            from syne_tune.blackbox_repository import load_blackbox
            bb = load_blackbox({name!r})
            print(type(bb).__name__, bb.name == {name!r})
            if {name!r} == {folder!r}:
                cfg = {{n: 0.5 for n in bb.benchmark.space.names}}
                print(0.0 <= backend.blackbox.objective_function(cfg)[0, 0] <= 1.0)
        """)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "SMMBlackbox True" in out.stdout and "False" not in out.stdout


@pytest.mark.parametrize("scheduler", ["RandomSearch", "ASHA", "BOHB"])
def test_run_simulated_tuning_is_quiet_and_reproducible(tiny_ps, capfd, scheduler):
    df = S.run_simulated_tuning(tiny_ps, scheduler, max_trials=12, seed=3)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert {"train_acc", "test_acc", "elapsed_time", "n_problems", "st_tuner_time", "trial_id"} <= set(df.columns)
    assert df["trial_id"].nunique() >= 12
    assert df["st_tuner_time"].is_monotonic_increasing
    again = S.run_simulated_tuning(tiny_ps, scheduler, max_trials=12, seed=3)
    # Same trials and values; the simulated clock also adds the scheduler's real compute time (ms).
    timing = ["st_tuner_time", "st_tuner_timestamp"]
    assert df.drop(columns=timing, errors="ignore").equals(again.drop(columns=timing, errors="ignore"))
    np.testing.assert_allclose(df["st_tuner_time"], again["st_tuner_time"], atol=5.0)
    if scheduler != "RandomSearch":  # multi-fidelity: some trials stopped at low fidelity
        assert set(df["n_problems"]) <= {39, 118, 356, 1069} and df["n_problems"].min() == 39
        assert (df.groupby("trial_id")["n_problems"].max() < 1069).any()


def test_missing_syne_tune_is_a_one_line_import_error(monkeypatch):
    for mod in [m for m in sys.modules if m == "synetune_ext" or m.startswith("synetune_ext.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "syne_tune", None)
    with pytest.raises(ImportError, match=r'pip install "smm-plugins\[synetune\]"') as info:
        importlib.import_module("synetune_ext")
    assert "\n" not in str(info.value)
