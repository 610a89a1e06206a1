"""smm_plugins.compare: runner (resume after a kill, failure isolation, budgets), experiments, report, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.compare import optimizers as opt_mod
from smm_plugins.compare.experiment import (
    Experiment,
    load_experiment,
    preset,
    read_saved_experiment,
    save_experiment,
    toml_dumps,
)
from smm_plugins.compare.optimizers import TracedBenchmark, get_optimizer, register_optimizer
from smm_plugins.compare.runner import COLUMNS, plan_runs, read_run_meta, read_runs, run_experiment

# A pure-numpy benchmark and two optimisers in an importable module: subprocesses and Ray workers load
# them by "module:name", exactly as a user's own benchmark factory or optimiser.
TOY = textwrap.dedent(
    """
    import time
    import numpy as np
    from smm_plugins.space import dfs_space, ps_space
    from smm_plugins.testing import SyntheticBenchmark

    def ps():
        return SyntheticBenchmark(ps_space("toy-ps", n_layers=6))

    def dfs():
        return SyntheticBenchmark(dfs_space("toy-dfs", n_layers=4))

    def slow_random(benchmark, seed, budget, *, objective="train_acc", delay=0.0):
        rng = np.random.default_rng(seed)
        for _ in range(budget):
            time.sleep(delay)
            benchmark.evaluate(benchmark.space.sample(1, rng)[0], objective)
    """
)


@pytest.fixture()
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "cmp_toy.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(mod_dir))
    return mod_dir


def _env(mod_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(mod_dir), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


# -- runner -----------------------------------------------------------------------------------------


def test_serial_grid_rows_budget_and_determinism(toy: Path, tmp_path: Path) -> None:
    exp = Experiment(
        benchmarks=["cmp_toy:ps", "cmp_toy:dfs"],
        optimizers=["de", "cmp_toy:slow_random"],
        seeds=2,
        budget=37,
        workers=1,
        options={"de": {"population_size": 10}},
    )
    s1 = run_experiment(exp, tmp_path / "a", progress=False)
    assert (s1.done, s1.failed, s1.skipped, s1.backend) == (8, 0, 0, "serial")
    df = read_runs(tmp_path / "a")
    assert list(df.columns) == list(COLUMNS)
    sizes = df.groupby(["benchmark", "optimizer", "seed"]).size()
    assert len(sizes) == 8 and (sizes == 37).all()  # DE stops exactly at the budget, mid-generation
    assert df.groupby(["benchmark", "optimizer", "seed"])["trial"].apply(lambda t: list(t) == list(range(37))).all()
    assert df["value"].between(0, 1).all() and df["test_acc"].between(0, 1).all()
    assert (df.groupby(["benchmark", "optimizer", "seed"])["sim_time"].diff().dropna() > 0).all()
    assert (df["wall_time"] >= 0).all()
    meta = read_run_meta(next((tmp_path / "a" / "runs").glob("ps__de__seed0.parquet")))
    assert meta["run_seed"] == plan_runs(exp)[0].run_seed and "best_config" in meta
    # Same command again: nothing to do. A fresh directory: bit-identical values.
    s2 = run_experiment(exp, tmp_path / "a", progress=False)
    assert (s2.done, s2.skipped) == (0, 8)
    run_experiment(exp, tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(
        read_runs(tmp_path / "a", reproducible=True), read_runs(tmp_path / "b", reproducible=True)
    )


def test_failure_isolation_with_registered_optimizer(toy: Path, tmp_path: Path) -> None:
    calls = {"n": 0}

    def flaky(benchmark, seed, budget, *, objective="train_acc"):
        calls["n"] += 1
        benchmark.evaluate(benchmark.space.default_vector(), objective)
        raise RuntimeError(f"flaky optimiser broke on seed {seed}")

    register_optimizer("test-flaky", flaky, framework="test", description="always raises", overwrite=True)
    try:
        exp = Experiment(
            benchmarks=["cmp_toy:ps"], optimizers=["cmp_toy:slow_random", "test-flaky"], seeds=3, budget=10, workers=1
        )
        s = run_experiment(exp, tmp_path, progress=False)
        assert (s.done, s.failed) == (3, 3)
        fails = sorted((tmp_path / "failures").glob("*.json"))
        assert [f.stem for f in fails] == [f"ps__test-flaky__seed{k}" for k in range(3)]
        rec = json.loads(fails[0].read_text())
        assert "flaky optimiser broke" in rec["error"] and "Traceback" in rec["traceback"]
        assert "flaky" in rec["traceback"]
        assert len(list((tmp_path / "runs").glob("*.parquet"))) == 3
        # Failed runs are tried again by the next invocation (and fail again here); finished ones are not.
        s2 = run_experiment(exp, tmp_path, progress=False)
        assert (s2.skipped, s2.failed, calls["n"]) == (3, 3, 6)
    finally:
        opt_mod._REGISTRY.pop("test-flaky", None)


def test_short_optimizer_is_a_failure(toy: Path, tmp_path: Path) -> None:
    def lazy(benchmark, seed, budget, *, objective="train_acc"):
        benchmark.evaluate(benchmark.space.default_vector(), objective)

    register_optimizer("test-lazy", lazy, framework="test", description="one evaluation", overwrite=True)
    try:
        s = run_experiment(
            Experiment(benchmarks=["cmp_toy:ps"], optimizers=["test-lazy"], seeds=1, budget=5, workers=1),
            tmp_path,
            progress=False,
        )
        assert s.failed == 1
        err = json.loads(next((tmp_path / "failures").glob("*.json")).read_text())["error"]
        assert "made 1 evaluations" in err and "budget is 5" in err
    finally:
        opt_mod._REGISTRY.pop("test-lazy", None)


@pytest.mark.slow
def test_resume_after_kill(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "smm_plugins.compare.cli",
        "compare",
        "--benchmarks",
        "cmp_toy:ps",
        "--optimizers",
        "cmp_toy:slow_random",
        "--seeds",
        "6",
        "--budget",
        "20",
        "--workers",
        "1",
        "--option",
        "cmp_toy:slow_random.delay=0.03",
        "--no-progress",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, env=_env(toy), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    runs = out / "runs"
    while time.time() < deadline and len(list(runs.glob("*.parquet"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up: the worst case
    proc.wait(timeout=10)
    before = {p.name: p.read_bytes() for p in runs.glob("*.parquet")}
    assert 2 <= len(before) < 6, "the kill should land mid-grid"
    for name in before:  # every visible run file is complete (written atomically), never a torn one
        assert len(pd.read_parquet(runs / name)) == 20, name
    # Only the temp files of atomic writes may be left over, and they are hidden from the reader.
    assert all(p.name.startswith(".") and p.name.endswith(".tmp") for p in runs.iterdir() if p.suffix != ".parquet")

    res = subprocess.run(cmd, env=_env(toy), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert f"{len(before)} skipped" in res.stderr
    files = sorted(runs.glob("*.parquet"))
    assert [p.name for p in files] == [f"ps__cmp_toy-slow_random__seed{k}.parquet" for k in range(6)]
    for p in files:  # finished runs untouched, none duplicated
        if p.name in before:
            assert p.read_bytes() == before[p.name]
    df = read_runs(out)
    assert len(df) == 6 * 20 and not df.duplicated(["seed", "trial"]).any()
    # The resumed grid equals an uninterrupted one (values do not depend on the interruption).
    exp = Experiment(
        benchmarks=["cmp_toy:ps"],
        optimizers=["cmp_toy:slow_random"],
        seeds=6,
        budget=20,
        workers=1,
        options={"cmp_toy:slow_random": {"delay": 0.0}},
    )
    run_experiment(exp, tmp_path / "ref", progress=False)
    pd.testing.assert_frame_equal(read_runs(out, reproducible=True), read_runs(tmp_path / "ref", reproducible=True))


def test_resume_refuses_a_different_budget(toy: Path, tmp_path: Path) -> None:
    exp = Experiment(benchmarks=["cmp_toy:ps"], optimizers=["de"], seeds=1, budget=12, workers=1)
    run_experiment(exp, tmp_path, progress=False)
    with pytest.raises(ValueError, match="budget: 12 there, 13 now"):
        run_experiment(exp.replace(budget=13), tmp_path, progress=False)


def test_traced_benchmark_records_and_caps(toy: Path) -> None:
    import cmp_toy

    bench = cmp_toy.ps()
    t = TracedBenchmark(bench, budget=3)
    X = bench.space.sample(2, 0)
    assert np.allclose(t.evaluate(X), bench.evaluate(X))
    t.evaluate(bench.space.sample(2, 1))  # crosses the budget: only one row is recorded
    t.evaluate(X, "test_acc")  # another objective: not traced, not capped
    Xr, v, w = t.trace()
    assert Xr.shape == (3, bench.space.dim) and v.shape == (3,) and np.all(np.diff(w) >= 0)
    with pytest.raises(opt_mod.BudgetExhausted):
        t.evaluate(X[0])
    assert t.cost(X).shape == (2,)  # attributes of the wrapped benchmark stay reachable


# -- optimisers ---------------------------------------------------------------------------------------


def test_unknown_optimizer_lists_known_names(toy: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError) as err:
        get_optimizer("simulated-annealing")
    msg = str(err.value)
    assert "simulated-annealing" in msg and all(n in msg for n in ("random", "tpe", "cmaes", "sep-cmaes", "de"))
    exp = Experiment(benchmarks=["cmp_toy:ps"], optimizers=["random", "nope"], seeds=1, budget=3, workers=1)
    with pytest.raises(ValueError, match="unknown optimizer 'nope'"):
        run_experiment(exp, tmp_path, progress=False)
    assert not (tmp_path / "runs").exists()
    with pytest.raises(ValueError, match="module"):
        get_optimizer("no_such_module_xyz:fn")
    with pytest.raises(ValueError, match="unknown benchmark 'smm-nope'; known: .*smm-mini-ps"):
        run_experiment(exp.replace(benchmarks=["smm-nope"], optimizers=["random"]), tmp_path, progress=False)


def test_registry_contents_and_validation() -> None:
    # Every built-in optimiser is listed, or reported with the reason its plugin cannot load here.
    names = {i.name for i in opt_mod.list_optimizers()} | set(opt_mod.optimizer_plugin_errors())
    assert {
        "random",
        "tpe",
        "cmaes",
        "sep-cmaes",
        "qmc",
        "gp",
        "nsga2",
        "de",
        "hpobench-random",
        "synetune-random",
        "synetune-rea",
        "synetune-kde",
        "synetune-bore",
    } <= names
    with pytest.raises(ValueError, match="already registered"):
        register_optimizer("random", lambda *a, **k: None, framework="x", description="x")
    with pytest.raises(ValueError, match="without spaces"):
        register_optimizer("my opt", lambda *a, **k: None, framework="x", description="x")


# -- experiment files -------------------------------------------------------------------------------


def test_experiment_file_round_trip(tmp_path: Path) -> None:
    toml_text = textwrap.dedent(
        """
        name = "rt"
        benchmarks = ["smm-mini-ps", "smm-mini-dfs"]
        optimizers = ["random", "tpe", "de"]
        seeds = 3
        budget = 40
        base_seed = 7
        workers = 2
        ray_address = "auto"
        plugins = ["my.plugin"]

        [options.de]
        population_size = 12
        mutation = [0.4, 0.9]
        """
    )
    (tmp_path / "e.toml").write_text(toml_text)
    yaml = pytest.importorskip("yaml")
    exp = load_experiment(tmp_path / "e.toml")
    assert exp.seeds == [0, 1, 2] and exp.options == {"de": {"population_size": 12, "mutation": [0.4, 0.9]}}
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(exp.to_dict()))
    assert load_experiment(tmp_path / "e.yaml") == exp
    save_experiment(exp, tmp_path / "out")
    back, meta = read_saved_experiment(tmp_path / "out")
    assert back == exp
    from smm_plugins import __version__

    assert meta["smm_plugins_version"] == __version__
    assert load_experiment(tmp_path / "out" / "experiment.toml") == exp


def test_experiment_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        'benchmarks = ["a"]\noptimizers = ["random"]\nseeds = 2\nbudget = 5\nbugdet = 3\n'
    )
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['bugdet'\]"):
        load_experiment(tmp_path / "bad.toml")
    with pytest.raises(ValueError, match="budget = 0"):
        Experiment(benchmarks=["a"], optimizers=["random"], seeds=1, budget=0)
    with pytest.raises(ValueError, match="seeds"):
        Experiment(benchmarks=["a"], optimizers=["random"], seeds=[1, 1], budget=3)
    with pytest.raises(ValueError, match="unknown preset 'nope'; known: demo"):
        preset("nope")
    with pytest.raises(ValueError, match="extension"):
        (tmp_path / "e.ini").write_text("x")
        load_experiment(tmp_path / "e.ini")


def test_demo_preset_is_the_readme_promise() -> None:
    demo = preset("demo")
    assert set(demo.benchmarks) == {"smm-mini-ps", "smm-mini-dfs"}
    assert len(demo.optimizers) >= 4 and len(demo.seeds) >= 10 and demo.budget >= 200
    # Every demo optimiser must run with what `make demo` installs (no optional extra missing).
    assert all(get_optimizer(o).available for o in demo.optimizers)


def test_toml_writer_quotes_and_nests() -> None:
    from smm_plugins.compare.experiment import _toml_loads

    data = {"a": 'quote " and \\ back', "b": [1, 2.5, True], "t": {"x": {"y": 1}, "z": "w"}}
    assert _toml_loads(toml_dumps(data)) == data


# -- report --------------------------------------------------------------------------------------------


def test_incumbent_curves_ties_keep_first() -> None:
    from smm_plugins.compare.report import incumbent_curves

    df = pd.DataFrame(
        {
            "benchmark": "b",
            "optimizer": "o",
            "seed": 0,
            "trial": range(5),
            "value": [0.1, 0.3, 0.3, 0.2, 0.4],
            "test_acc": [0.5, 0.6, 0.9, 0.1, 0.2],
            "sim_time": np.arange(1, 6.0),
            "wall_time": np.zeros(5),
        }
    )
    out = incumbent_curves(df)
    assert out["best_train"].tolist() == [0.1, 0.3, 0.3, 0.3, 0.4]
    assert out["inc_test"].tolist() == [0.5, 0.6, 0.6, 0.6, 0.2]


@pytest.mark.slow
def test_report_contents(toy: Path, tmp_path: Path) -> None:
    from smm_plugins.compare.report import make_report

    exp = Experiment(
        benchmarks=["cmp_toy:ps", "cmp_toy:dfs"],
        optimizers=["de", "cmp_toy:slow_random"],
        seeds=4,
        budget=30,
        workers=1,
    )
    run_experiment(exp, tmp_path, progress=False)
    res = make_report(tmp_path)
    for p in res.pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 20_000
    table = pd.read_csv(tmp_path / "report" / "final_table.csv")
    assert len(table) == 4 and set(table["seeds"]) == {4}
    df = read_runs(tmp_path)
    g = df[(df.benchmark == "ps") & (df.optimizer == "de")]
    finals = g.groupby("seed")["value"].max()
    row = table[(table.benchmark == "ps") & (table.optimizer == "de")].iloc[0]
    assert row["train_mean"] == pytest.approx(finals.mean(), rel=1e-5)
    assert row["train_std"] == pytest.approx(finals.std(ddof=1), rel=1e-4)
    # Gains over random search only when random ran; here it did not.
    assert table["train_gain"].isna().all()
    # Average ranks of two optimisers over the same seeds sum to 3.
    assert table.groupby("benchmark")["avg_rank"].sum().tolist() == pytest.approx([3.0, 3.0])
    wil = pd.read_csv(tmp_path / "report" / "wilcoxon.csv")
    assert len(wil) == 2 * 2  # 2 benchmarks x 2 metrics x 1 pair
    assert wil["p_value"].between(0, 1).all() and (wil["p_holm"] >= wil["p_value"]).all()
    curves = pd.read_csv(tmp_path / "report" / "curves.csv")
    assert len(curves) == 4 * 30
    assert (curves.groupby(["benchmark", "optimizer"])["best_train_median"].diff().dropna() >= 0).all()
    md = res.markdown.read_text()
    for needle in (
        "## Final results",
        "| optimizer | best train_acc",
        "curves_evaluations.png",
        "curves_simulated_time.png",
        "Wilcoxon",
        "± ",
        "avg rank",
        "## Cost of the runs",
    ):
        assert needle in md


@pytest.mark.slow
def test_cli_compare_and_report(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    env = _env(toy)
    base = [sys.executable, "-m", "smm_plugins.compare.cli"]
    bad = subprocess.run(
        base
        + [
            "compare",
            "--benchmarks",
            "cmp_toy:ps",
            "--optimizers",
            "random,bogus",
            "--seeds",
            "1",
            "--budget",
            "2",
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "unknown optimizer 'bogus'" in bad.stderr and "sep-cmaes" in bad.stderr
    exp_file = tmp_path / "exp.yaml"
    exp_file.write_text("benchmarks: [cmp_toy:ps]\noptimizers: [de]\nseeds: 2\nbudget: 15\nworkers: 1\n")
    ok = subprocess.run(
        base + ["compare", "--experiment", str(exp_file), "--no-progress", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert (out / "experiment.toml").is_file()
    rep = subprocess.run(base + ["report", str(out)], env=env, capture_output=True, text=True, timeout=60)
    assert rep.returncode == 0, rep.stderr
    assert "| de |" in rep.stdout and (out / "report" / "report.md").is_file()
    lst = subprocess.run(base + ["compare", "--list-optimizers"], env=env, capture_output=True, text=True, timeout=60)
    assert lst.returncode == 0 and "sep-cmaes" in lst.stdout and "synetune-bore" in lst.stdout


def test_final_table_gain_rank_and_wilcoxon_on_known_numbers() -> None:
    from smm_plugins.compare.report import final_table, incumbent_curves, pairwise_wilcoxon

    rows = []
    for seed in range(6):
        for opt, final in (("random", 0.30 + 0.01 * seed), ("tpe", 0.35 + 0.01 * seed)):
            for trial, v in enumerate((0.1, final)):
                rows.append(
                    {
                        "benchmark": "b",
                        "optimizer": opt,
                        "seed": seed,
                        "trial": trial,
                        "value": v,
                        "test_acc": v - 0.05,
                        "sim_time": trial + 1.0,
                        "wall_time": 0.0,
                    }
                )
    df = incumbent_curves(pd.DataFrame(rows))
    table = final_table(df).set_index("optimizer")
    assert table.loc["tpe", "train_gain"] == pytest.approx(0.05)
    assert table.loc["tpe", "test_gain"] == pytest.approx(0.05)
    assert table.loc["random", "train_gain"] == 0.0
    assert table.loc["tpe", "avg_rank"] == 1.0 and table.loc["random", "avg_rank"] == 2.0
    w = pairwise_wilcoxon(df)
    row = w[(w.metric == "best_train")].iloc[0]
    assert (row["a"], row["b"], row["wins_a"], row["wins_b"]) == ("random", "tpe", 0, 6)
    assert row["p_value"] == pytest.approx(2 / 2**6)  # exact two-sided test, all 6 seeds agree


def test_without_ray_the_grid_runs_serially(toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smm_plugins.compare import runner

    def no_ray(workers: int, address: str | None) -> None:
        raise ImportError('smm-bench compare with --workers > 1 needs ray: pip install "smm-plugins[ray]"')

    monkeypatch.setattr(runner, "start_ray", no_ray)
    exp = Experiment(benchmarks=["cmp_toy:ps"], optimizers=["de"], seeds=2, budget=9, workers=2)
    s = run_experiment(exp, tmp_path / "a", progress=False)
    assert (s.backend, s.done) == ("serial", 2)
    run_experiment(exp, tmp_path / "b", workers=1, progress=False)
    pd.testing.assert_frame_equal(
        read_runs(tmp_path / "a", reproducible=True), read_runs(tmp_path / "b", reproducible=True)
    )


def test_resume_accepts_a_new_optimizer_with_options_but_not_changed_options(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "grow"
    run_experiment(
        Experiment(benchmarks=["cmp_toy:ps"], optimizers=["random"], seeds=1, budget=6, workers=1), out, progress=False
    )
    grown = Experiment(
        benchmarks=["cmp_toy:ps"],
        optimizers=["random", "tpe"],
        seeds=1,
        budget=6,
        workers=1,
        options={"tpe": {"n_startup_trials": 3}},
    )
    s = run_experiment(grown, out, progress=False)
    assert (s.skipped, s.done) == (1, 1)
    changed = Experiment(
        benchmarks=["cmp_toy:ps"],
        optimizers=["tpe"],
        seeds=1,
        budget=6,
        workers=1,
        options={"tpe": {"n_startup_trials": 4}},
    )
    with pytest.raises(ValueError, match="options"):
        run_experiment(changed, out, progress=False)


def test_holm_adjustment_matches_hand_computed_values() -> None:
    from smm_plugins.compare.report import _holm

    # m = 4: sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, 2*0.03, max(1*0.04, 0.06) (monotone)
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert _holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert _holm(np.array([0.5, 0.6])) == pytest.approx([1.0, 1.0])  # capped at 1


def test_pairwise_wilcoxon_uses_scipy_per_pair_and_holm_per_block() -> None:
    from scipy.stats import wilcoxon

    from smm_plugins.compare.report import _holm, pairwise_wilcoxon

    rng = np.random.default_rng(0)
    finals = {"a": rng.uniform(0.6, 0.7, 8), "b": rng.uniform(0.5, 0.6, 8), "c": rng.uniform(0.55, 0.65, 8)}
    rows = [
        {
            "benchmark": "x",
            "optimizer": o,
            "seed": s,
            "trial": 1,
            "best_train": v[s],
            "inc_test": v[s],
            "sim_time": 1.0,
            "wall_time": 1.0,
        }
        for o, v in finals.items()
        for s in range(8)
    ]
    df = pd.DataFrame(rows)
    wil = pairwise_wilcoxon(df)
    block = wil[wil["metric"] == wil["metric"].iloc[0]]
    assert list(zip(block["a"], block["b"], strict=True)) == [("a", "b"), ("a", "c"), ("b", "c")]
    for _, r in block.iterrows():
        assert r["p_value"] == pytest.approx(wilcoxon(finals[r["a"]], finals[r["b"]]).pvalue)
    assert block["p_holm"].to_numpy() == pytest.approx(_holm(block["p_value"].to_numpy()))


def test_materialise_is_safe_when_workers_unpack_the_same_directory_at_once(tmp_path, monkeypatch) -> None:
    # Two Ray workers on one node unpack the same shipped directory: neither may see it half-written.
    import tempfile
    import threading

    from smm_plugins.compare import shipping

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    files = {f"part{k:02d}.json": bytes([k]) * 200_000 for k in range(40)}
    files["label.json"] = b'{"x": ["a"]}'
    n = 6
    barrier = threading.Barrier(n)
    seen: list[tuple[str, bool]] = []

    def worker() -> None:
        barrier.wait()
        target = shipping.materialise("some/bench", files)
        complete = all(
            (os.path.isfile(os.path.join(target, rel)) and open(os.path.join(target, rel), "rb").read() == data)
            for rel, data in files.items()
        )
        seen.append((target, complete))

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == n and len({t for t, _ in seen}) == 1
    assert all(ok for _, ok in seen), "a worker got a directory before all its files were written"
    leftovers = [p.name for p in os.scandir(os.path.dirname(seen[0][0])) if p.name != os.path.basename(seen[0][0])]
    assert leftovers == []  # losers of the race clean up their staging copies
