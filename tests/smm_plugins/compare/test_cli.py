"""smm_plugins.compare.cli: ``compare`` and ``report`` as a user runs them (subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_cli_compare_and_report(toy_modules: Path, toy_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "o"
    env = toy_env
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
