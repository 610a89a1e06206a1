"""Results folders that check themselves: a damaged or incomplete run file is set aside, run again, and never
enters the report's statistics; the resume says what it did and how it ran."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from smm_plugins.compare.cli import main
from smm_plugins.compare.experiment import Experiment
from smm_plugins.compare.report import make_report
from smm_plugins.compare.results import check_run_files, read_runs

BUDGET = 30


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, ps_dir: Path) -> Path:
    """A finished grid (DE on a surrogate directory, 2 seeds x 30 evaluations); tests work on copies."""
    out = tmp_path_factory.mktemp("grid") / "out"
    exp = Experiment(
        benchmarks=[str(ps_dir)],
        optimizers=["de"],
        seeds=2,
        budget=BUDGET,
        workers=1,
        options={"de": {"population_size": 10}},
    )
    code = main(["compare", "--experiment", _saved(exp, out.parent), "--no-progress", "--out", str(out)])
    assert code == 0
    return out


def _saved(exp: Experiment, folder: Path) -> str:
    from smm_plugins.compare.experiment import save_experiment

    return str(save_experiment(exp, folder))


def _copy(finished: Path, tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "out"
    shutil.copytree(finished, out)
    return out, sorted((out / "runs").glob("*.parquet"))[1]


def _resume(out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code = main(["compare", "--experiment", str(out / "experiment.toml"), "--no-progress", "--out", str(out), *extra])
    assert code == 0
    return capsys.readouterr().err


def _check_repaired(out: Path, finished: Path, damaged_bytes: bytes, name: str) -> None:
    # The damaged file is kept (moved, never deleted); the run is whole again, with the uninterrupted values.
    kept = list((out / "runs" / "damaged").glob("*.parquet"))
    assert len(kept) == 1 and kept[0].name.startswith(Path(name).stem + ".")
    assert kept[0].read_bytes() == damaged_bytes
    assert all(c.usable for c in check_run_files(out))
    pd.testing.assert_frame_equal(read_runs(out, reproducible=True), read_runs(finished, reproducible=True))


def test_truncated_run_file_is_set_aside_and_run_again(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    out, victim = _copy(finished, tmp_path)
    victim.write_bytes(victim.read_bytes()[:1000])  # a copy cut short
    damaged = victim.read_bytes()
    with caplog.at_level(logging.WARNING, logger="smm_plugins"):
        err = _resume(out, capsys)
    assert "1 run(s) done, 1 skipped (already there), 1 unusable run file(s) moved to" in err
    assert any(victim.name in r.getMessage() and "cannot be read" in r.getMessage() for r in caplog.records)
    _check_repaired(out, finished, damaged, victim.name)


def test_incomplete_run_file_is_set_aside_and_run_again(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    out, victim = _copy(finished, tmp_path)
    table = pq.read_table(victim)
    pq.write_table(table.slice(0, 10), victim)  # the first 10 of 30 rows, metadata kept
    damaged = victim.read_bytes()
    with caplog.at_level(logging.WARNING, logger="smm_plugins"):
        err = _resume(out, capsys)
    assert "1 run(s) done, 1 skipped (already there), 1 unusable run file(s)" in err
    assert any("holds 10 of the 30 evaluations" in r.getMessage() for r in caplog.records)
    _check_repaired(out, finished, damaged, victim.name)


def test_a_run_file_of_another_run_is_not_taken_for_this_one(finished: Path, tmp_path: Path) -> None:
    out, victim = _copy(finished, tmp_path)
    shutil.copyfile(sorted((out / "runs").glob("*.parquet"))[0], victim)  # seed 0's run under seed 1's name
    (bad,) = [c for c in check_run_files(out) if not c.usable]
    assert bad.path == victim and "seed=0" in str(bad.problem) and "seed=1" in str(bad.problem)


@pytest.mark.slow
def test_report_names_unusable_files_and_leaves_them_out(
    finished: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out, victim = _copy(finished, tmp_path)
    pq.write_table(pq.read_table(victim).slice(0, 10), victim)
    with caplog.at_level(logging.WARNING, logger="smm_plugins"):
        assert main(["report", str(out), "--no-truth-check"]) == 0
    repair = f"smm-bench compare --experiment {out / 'experiment.toml'} --out {out}"
    assert any(victim.name in r.getMessage() and repair in r.getMessage() for r in caplog.records)
    md = (out / "report" / "report.md").read_text()
    assert f"`runs/{victim.name}`: it holds 10 of the 30 evaluations" in md and repair in md
    assert "1 finished run(s)" in md
    table = pd.read_csv(out / "report" / "final_table.csv")
    assert table["seeds"].tolist() == [1] and table["evaluations"].tolist() == [BUDGET]

    victim.write_bytes(victim.read_bytes()[:200])  # unreadable: named, not a crash
    make_report(out, truth_check=False)
    md = (out / "report" / "report.md").read_text()
    assert f"`runs/{victim.name}`: it cannot be read" in md


def test_resume_says_what_ran(finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, victim = _copy(finished, tmp_path)
    err = _resume(out, capsys, "--workers", "2")  # nothing left to run: no worker ran anything
    assert "(nothing to run)" in err and "worker(s)" not in err
    victim.unlink()
    err = _resume(out, capsys, "--workers", "1")
    assert "1 run(s) done, 1 skipped (already there), 0 failed" in err and "(serial, in this process)" in err
