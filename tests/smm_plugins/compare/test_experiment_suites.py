"""Suites in experiments: ``suite:NAME`` in files, flags and presets; the saved experiment lists resolved names."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from smm_plugins.cli import main
from smm_plugins.compare.experiment import (
    Experiment,
    load_experiment,
    preset,
    read_saved_experiment,
    resolve_suites,
)
from smm_plugins.compare.optimizers import get_optimizer
from smm_plugins.compare.plan import expected_seconds, plan_runs
from smm_plugins.compare.results import read_runs
from smm_plugins.compare.runner import run_experiment
from smm_plugins.registry import UnknownSuiteError, list_benchmarks, register_benchmark


@pytest.fixture
def toy_suite(scratch_registry, toy_modules: Path) -> list[str]:
    """A suite ``toys`` of two members (the compare conftest's toy benchmarks), registered for this test only."""
    register_benchmark("toy-ps", "cmp_toy:ps", suites=("toys",))
    register_benchmark("toy-dfs", "cmp_toy:dfs", suites=("toys", "other"))
    return ["toy-dfs", "toy-ps"]


def test_suite_resolves_in_place_without_duplicates(toy_suite: list[str]) -> None:
    names, suites = resolve_suites(["cmp_toy:ps", "toy-ps", "suite:toys", "suite:other", "x"])
    assert names == ["cmp_toy:ps", "toy-ps", "toy-dfs", "x"] and suites == {"toys": toy_suite, "other": ["toy-dfs"]}
    exp = Experiment(benchmarks="suite:toys,cmp_toy:dfs", optimizers=["random"], seeds=1, budget=3)
    assert exp.benchmarks == [*toy_suite, "cmp_toy:dfs"] and exp.suites == {"toys": toy_suite}
    assert exp.replace(budget=4).suites == {"toys": toy_suite}  # the record survives flags applied later
    with pytest.raises(ValueError, match=r"lists \['suite:toys'\] more than once"):
        Experiment(benchmarks=["suite:toys", "suite:toys"], optimizers=["random"], seeds=1, budget=3)
    with pytest.raises(UnknownSuiteError, match=r"suite = 'toyz' is not a registered suite; known suites: .*toys"):
        Experiment(benchmarks=["suite:toyz"], optimizers=["random"], seeds=1, budget=3)


def test_experiment_file_with_a_suite_runs_and_records_resolved_names(toy_suite: list[str], tmp_path: Path) -> None:
    (tmp_path / "e.toml").write_text(
        textwrap.dedent(
            """
            benchmarks = ["suite:toys", "toy-ps"]
            optimizers = ["random"]
            seeds = 1
            budget = 4
            workers = 1
            """
        )
    )
    exp = load_experiment(tmp_path / "e.toml")
    assert exp.benchmarks == toy_suite
    out = tmp_path / "out"
    run_experiment(exp, out, progress=False)
    assert sorted(read_runs(out)["benchmark"].unique()) == sorted(toy_suite)
    saved, meta = read_saved_experiment(out)
    assert saved.benchmarks == toy_suite and meta["suites"] == {"toys": toy_suite}
    # The suite grows: the saved grid does not; the file with the suite name resolves to the new member too.
    register_benchmark("toy-new", "cmp_toy:ps", suites=("toys",))
    assert read_saved_experiment(out)[0].benchmarks == toy_suite
    assert load_experiment(out / "experiment.toml").benchmarks == toy_suite
    assert load_experiment(tmp_path / "e.toml").benchmarks == ["toy-dfs", "toy-new", "toy-ps"]
    summary = run_experiment(load_experiment(tmp_path / "e.toml"), out, progress=False)
    assert (summary.skipped, summary.done) == (2, 1)


def test_compare_flag_takes_a_suite(toy_suite: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    args = ["compare", "--optimizers", "random", "--seeds", "1", "--budget", "3", "--workers", "1", "--no-progress"]
    assert main([*args, "--benchmarks", "suite:toys,toy-ps,cmp_toy:ps", "--out", str(out)]) == 0
    assert read_saved_experiment(out)[0].benchmarks == [*toy_suite, "cmp_toy:ps"]
    assert len(list((out / "runs").glob("*.parquet"))) == 3
    assert main([*args, "--benchmarks", "suite:nope", "--out", str(tmp_path / "p")]) == 2
    assert "suite = 'nope' is not a registered suite; known suites:" in capsys.readouterr().err


def test_suite_preset_is_the_demo_over_every_member() -> None:
    exp, demo = preset("suite"), preset("demo")
    members = list_benchmarks(suite="smm-mini")
    assert exp.benchmarks == members and exp.suites == {"smm-mini": members}
    assert exp.optimizers == demo.optimizers and len(exp.seeds) >= 10 and exp.workers == 2
    # The documented estimate: ~110-150 s serial per member (optimisers' ms per trial + the exact objective's).
    per_member = sum(expected_seconds(s, get_optimizer(s.optimizer).cost_hint) for s in plan_runs(exp)) / len(members)
    assert 100 < per_member < 200


def test_a_long_grid_is_announced_by_count_and_suite(scratch_registry, toy_modules: Path) -> None:
    from smm_plugins.compare.cli import _benchmarks_summary

    for k in range(7):
        register_benchmark(f"toy-{k}", "cmp_toy:ps", suites=("many",))
    exp = Experiment(benchmarks="suite:many,cmp_toy:dfs", optimizers="random", seeds=1, budget=2)
    assert _benchmarks_summary(exp) == "8 benchmarks (toy-0, toy-1, toy-2, ..., suite:many = 7)"
    assert _benchmarks_summary(exp.replace(benchmarks=["toy-0", "toy-1"])) == "toy-0, toy-1"
