"""How the runner executes a grid: serial or Ray chosen by the grid's expected time, short runs batched into
Ray tasks (bit-identical to serial, claimed whole, resumable after a kill), crashed tasks run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from smm_plugins.compare import ray_backend
from smm_plugins.compare.experiment import Experiment
from smm_plugins.compare.plan import RunSpec
from smm_plugins.compare.ray_backend import CRASHES_ALLOWED, TASK_SECONDS, _Batches
from smm_plugins.compare.runner import choose_workers, read_runs, run_experiment

# -- the choice of serial or Ray ------------------------------------------------------------------------


def test_short_grids_run_serially_and_long_ones_on_ray() -> None:
    workers, why = choose_workers([0.25] * 400, 2)  # 100 s of runs: 10 + 50 s on Ray
    assert workers == 2 and "~100 s serially, ~60 s on 2 Ray workers" in why
    workers, why = choose_workers([0.25] * 10, 2)  # 2.5 s of runs: Ray's start-up alone is longer
    assert workers == 1 and why.startswith("auto: serial") and "start-up" in why
    assert choose_workers([0.25] * 400, 8)[0] == 8  # one worker per CPU


def test_the_choice_is_the_faster_side_of_the_break_even() -> None:
    # Serial T against startup + T / W: on 2 CPUs Ray pays off above T = 2 x startup = 20 s.
    assert choose_workers([2.1] * 10, 2)[0] == 2
    assert choose_workers([1.9] * 10, 2)[0] == 1
    assert choose_workers([10.5], 2, startup=5.0)[0] == 1  # one run is not split: 5 + 10.5 s on Ray
    assert choose_workers([60.0, 60.0], 2, startup=5.0)[0] == 2
    assert choose_workers([0.2] * 1000, 2, startup=500.0)[0] == 1


def test_without_ray_or_a_second_cpu_the_grid_runs_serially() -> None:
    assert choose_workers([1.0] * 1000, 2, ray_installed=False) == (1, "auto: serial, Ray is not installed")
    assert choose_workers([1.0] * 1000, 1) == (1, "auto: serial, 1 CPU")


# -- batches of runs --------------------------------------------------------------------------------


def _specs(n: int, budget: int = 10) -> list[RunSpec]:
    return [RunSpec("b", "b", "o", k, budget) for k in range(n)]


def test_batches_last_about_a_task_each_shrink_at_the_end_and_claim_every_run_once() -> None:
    specs = _specs(200)
    seconds = {s.run_id: 0.125 for s in specs}
    claimed: list[str] = []
    refused = {specs[3].run_id}  # held by another process

    def claim(spec: RunSpec) -> bool:
        claimed.append(spec.run_id)
        return spec.run_id not in refused

    batches = _Batches(specs, seconds, slots=2, claim=claim)
    sizes, seen = [], []
    while batches.pending:
        batch = batches.next()
        sizes.append(len(batch))
        seen += [s.run_id for s in batch]
    assert sorted(claimed) == sorted(s.run_id for s in specs)  # each asked once, before its batch left
    assert sorted(seen) == sorted(s.run_id for s in specs if s.run_id not in refused)
    assert sizes[0] == round(TASK_SECONDS / 0.125)  # ~TASK_SECONDS of expected work per task
    assert sizes[-4:] == [1, 1, 1, 1]  # the last tasks are single runs: no worker waits on a long batch


def test_long_runs_are_tasks_of_their_own_longest_first() -> None:
    specs = _specs(6)
    seconds = {s.run_id: float(k + 2) for k, s in enumerate(specs)}
    batches = _Batches(specs, seconds, slots=2, claim=lambda s: True)
    assert [batches.next()[0].seed for _ in range(6)] == [5, 4, 3, 2, 1, 0]


def test_runs_of_a_crashed_task_are_run_again_alone_then_failed() -> None:
    specs = _specs(16)
    claims: list[str] = []

    def claim(spec: RunSpec) -> bool:
        claims.append(spec.run_id)
        return True

    batches = _Batches(specs, {s.run_id: 0.1 for s in specs}, slots=1, claim=claim)
    batch = batches.next()
    assert len(batch) > 1
    assert batches.crashed(batch) == []  # a batch's crash is no one run's own: each runs again, alone
    alone = [batches.next() for _ in batch]
    assert alone == [[s] for s in batch]
    first = alone[0]
    for _ in range(CRASHES_ALLOWED):
        assert batches.crashed(first) == []
        assert batches.next() == first
    assert batches.crashed(first) == first  # crashed once more, alone: recorded as failed
    assert len(claims) == len(batch)  # runs handed back stay claimed: never claimed twice


# -- Ray: batched tasks ------------------------------------------------------------------------------


@pytest.fixture()
def toy(toy_modules: Path, toy_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``cmp_toy`` (conftest) importable here, in subprocesses and in the Ray workers they start; their env."""
    monkeypatch.setenv("PYTHONPATH", toy_env["PYTHONPATH"])  # workers of a local Ray inherit the driver's environment
    return toy_env


@pytest.mark.slow
def test_batched_ray_tasks_give_the_serial_values(toy: dict[str, str], tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("ray")
    sizes: list[int] = []
    real_next = _Batches.next

    def spy(self: _Batches) -> list[RunSpec]:
        batch = real_next(self)
        sizes.append(len(batch))
        return batch

    monkeypatch.setattr(ray_backend._Batches, "next", spy)
    exp = Experiment(benchmarks=["cmp_toy:ps"], optimizers=["cmp_toy:slow_random", "de"], seeds=30, budget=20)
    ray_summary = run_experiment(exp, tmp_path / "ray", workers=2, progress=False)
    assert ray_summary.backend == "ray" and ray_summary.done == exp.n_runs
    assert max(sizes) > 1 and sum(sizes) == exp.n_runs  # several runs per task, each run once
    serial = run_experiment(exp, tmp_path / "serial", workers=1, progress=False)
    assert serial.backend == "serial"
    pd.testing.assert_frame_equal(
        read_runs(tmp_path / "ray", reproducible=True), read_runs(tmp_path / "serial", reproducible=True)
    )


@pytest.mark.slow
def test_batched_ray_grid_resumes_after_a_kill(toy: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("ray")
    out, seeds, budget = tmp_path / "out", 40, 10
    grid = ["--benchmarks", "cmp_toy:ps", "--optimizers", "cmp_toy:slow_random", "--seeds", str(seeds)]
    cmd = [sys.executable, "-m", "smm_plugins.compare.cli", "compare", *grid, "--budget", str(budget)]
    # ~0.1 s per run, expected 0.06 s: tasks of several runs.
    cmd += ["--option", "cmp_toy:slow_random.delay=0.01", "--workers", "2", "--no-progress", "--out", str(out)]
    proc = subprocess.Popen(cmd, env=toy, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs = out / "runs"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(runs.glob("*.parquet"))) < 6 and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    before = {p.name: p.read_bytes() for p in runs.glob("*.parquet")}
    assert 6 <= len(before) < seeds, "the kill should land mid-grid"
    assert all(p.suffix == ".parquet" or p.name.endswith(".tmp") for p in runs.iterdir())

    res = subprocess.run(cmd, env=toy, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"{len(before)} skipped" in res.stderr
    files = sorted(runs.glob("*.parquet"))
    assert len(files) == seeds
    assert all(p.read_bytes() == before[p.name] for p in files if p.name in before)  # finished runs untouched
    df = read_runs(out)
    assert len(df) == seeds * budget and not df.duplicated(["seed", "trial"]).any()
    exp = Experiment(
        benchmarks=["cmp_toy:ps"], optimizers=["cmp_toy:slow_random"], seeds=seeds, budget=budget, workers=1
    )
    run_experiment(exp.replace(options={"cmp_toy:slow_random": {"delay": 0.0}}), tmp_path / "ref", progress=False)
    pd.testing.assert_frame_equal(read_runs(out, reproducible=True), read_runs(tmp_path / "ref", reproducible=True))


@pytest.mark.slow
def test_local_ray_workers_get_the_worker_environment_and_the_driver_keeps_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ray = pytest.importorskip("ray")
    from smm_plugins.compare.execute import WORKER_ENV

    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    driver_env = {key: os.environ.get(key) for key in WORKER_ENV}
    ray_module, started = ray_backend.start_ray(2, None)
    try:
        assert started
        # The worker settings did not leak into the driver (ray.init sets variables of its own there).
        assert {key: os.environ.get(key) for key in WORKER_ENV} == driver_env
        assert driver_env["OMP_NUM_THREADS"] == "7" and driver_env["NUMBA_NUM_THREADS"] is None

        @ray_module.remote(num_cpus=1)
        def worker_env() -> dict[str, str | None]:
            return {key: os.environ.get(key) for key in WORKER_ENV}

        assert ray.get(worker_env.remote()) == WORKER_ENV
    finally:
        ray_module.shutdown()
