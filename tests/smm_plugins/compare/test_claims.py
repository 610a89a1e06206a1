"""Run claims: two comparisons on one folder never execute a run twice; a killed claimant blocks nothing."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from smm_plugins.compare.claims import Claim, RunClaims
from smm_plugins.compare.experiment import Experiment
from smm_plugins.compare.plan import plan_runs
from smm_plugins.compare.results import read_runs, run_path

ENV = dict(os.environ, OMP_NUM_THREADS="1")

OPTIMIZER = "smm_plugins.testing:logged_random_search"  # appends "<pid> <seed>" to its log as a run starts


@pytest.fixture()
def log(tmp_path: Path) -> Path:
    return tmp_path / "exec.log"


def _cmd(out: Path, log: Path, seeds: int, delay: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "smm_plugins.compare.cli",
        "compare",
        *("--benchmarks", "smm-mini-ps", "--optimizers", OPTIMIZER, "--seeds", str(seeds), "--budget", "20"),
        *("--option", f"{OPTIMIZER}.delay={delay}", "--option", f"{OPTIMIZER}.log={json.dumps(str(log))}"),
        *("--workers", "1", "--no-progress", "--out", str(out)),
    ]


def _executions(log: Path) -> list[tuple[int, int]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [(int(pid), int(seed)) for pid, seed in (ln.split() for ln in lines)]


@pytest.mark.slow
def test_two_processes_on_one_folder_execute_each_run_once(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = _cmd(out, log, seeds=8, delay=0.05)  # ~1 s per run: the two processes overlap for several runs
    procs = [subprocess.Popen(cmd, env=ENV, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    runs = _executions(log)
    assert len(runs) == 8, runs  # 8 runs, 8 executions
    assert len({seed for _, seed in runs}) == 8  # each run once
    per_process = collections.Counter(pid for pid, _ in runs)
    assert set(per_process) == {p.pid for p in procs}, "the second process helps instead of waiting or exiting"
    df = read_runs(out)
    assert len(df) == 8 * 20 and not df.duplicated(["seed", "trial"]).any()
    # Whoever ran a run, its values are those of a single uninterrupted process.
    ref = tmp_path / "ref"
    res = subprocess.run(_cmd(ref, tmp_path / "ref.log", 8, 0.0), env=ENV, capture_output=True, timeout=300)
    assert res.returncode == 0
    cols = ["benchmark", "optimizer", "seed", "trial", "value", "test_acc", "sim_time"]
    pd.testing.assert_frame_equal(
        df[cols].sort_values(cols[:4]).reset_index(drop=True),
        read_runs(ref)[cols].sort_values(cols[:4]).reset_index(drop=True),
    )


@pytest.mark.slow
def test_a_killed_claimant_does_not_block_the_resume(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = _cmd(out, log, seeds=4, delay=0.1)
    proc = subprocess.Popen(cmd, env=ENV, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not _executions(log):
        time.sleep(0.05)
    assert _executions(log), "the first process never started a run"
    proc.send_signal(signal.SIGKILL)  # holding the claim on its first run, no chance to clean up
    proc.wait(timeout=10)
    assert (out / ".claims").is_dir() and not list((out / "runs").glob("*.parquet"))
    started = time.perf_counter()
    res = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "4 run(s) done" in res.stderr and "another process" not in res.stderr
    assert len(list((out / "runs").glob("*.parquet"))) == 4
    assert time.perf_counter() - started < 120  # never waited for the dead claimant


def test_claims_in_one_process(tmp_path: Path) -> None:
    exp = Experiment(benchmarks=["smm-mini-ps"], optimizers=["de"], seeds=2, budget=5)
    first, second = plan_runs(exp)
    a, b = RunClaims(tmp_path), RunClaims(tmp_path)
    assert a.claim(first) is Claim.TAKEN
    assert b.claim(first) is Claim.BUSY  # another holder (a process, here another object) has it
    assert b.claim(second) is Claim.TAKEN
    a.release(first)
    assert b.claim(first) is Claim.TAKEN
    b.release_all()
    # A run finished by someone else since this process planned its grid is not run again.
    run_path(tmp_path, first).parent.mkdir(parents=True)
    run_path(tmp_path, first).write_bytes(b"done elsewhere")
    assert RunClaims(tmp_path).claim(first) is Claim.SETTLED
    # So is a run that failed since then; an older failure is tried again.
    failed = tmp_path / "failures" / f"{second.run_id}.json"
    failed.parent.mkdir()
    failed.write_text("{}")
    assert RunClaims(tmp_path, since=time.time() - 60).claim(second) is Claim.SETTLED
    os.utime(failed, (time.time() - 3600, time.time() - 3600))
    with RunClaims(tmp_path, since=time.time() - 60) as claims:
        assert claims.claim(second) is Claim.TAKEN
    assert RunClaims(tmp_path).claim(second) is Claim.TAKEN  # released on leaving the block
