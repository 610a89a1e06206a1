"""smm_plugins.compare.runner: grid rows and budgets, determinism, failure isolation, resume after a kill."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from smm_plugins.compare import optimizers as opt_mod
from smm_plugins.compare.experiment import Experiment
from smm_plugins.compare.optimizers import register_optimizer
from smm_plugins.compare.runner import COLUMNS, plan_runs, read_run_meta, read_runs, run_experiment


def test_serial_grid_rows_budget_and_determinism(toy_modules: Path, tmp_path: Path) -> None:
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


def test_failure_isolation_with_registered_optimizer(toy_modules: Path, tmp_path: Path) -> None:
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


def test_short_optimizer_is_a_failure(toy_modules: Path, tmp_path: Path) -> None:
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
def test_resume_after_kill(toy_modules: Path, toy_env: dict[str, str], tmp_path: Path) -> None:
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
    proc = subprocess.Popen(cmd, env=toy_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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

    res = subprocess.run(cmd, env=toy_env, capture_output=True, text=True, timeout=120)
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


def test_resume_refuses_a_different_budget(toy_modules: Path, tmp_path: Path) -> None:
    exp = Experiment(benchmarks=["cmp_toy:ps"], optimizers=["de"], seeds=1, budget=12, workers=1)
    run_experiment(exp, tmp_path, progress=False)
    with pytest.raises(ValueError, match="budget: 12 there, 13 now"):
        run_experiment(exp.replace(budget=13), tmp_path, progress=False)


def test_without_ray_the_grid_runs_serially(toy_modules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_resume_accepts_a_new_optimizer_with_options_but_not_changed_options(toy_modules: Path, tmp_path: Path) -> None:
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
