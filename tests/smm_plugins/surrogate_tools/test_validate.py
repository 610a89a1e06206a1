"""Behavioural validation at tiny sizes: report content, files, CLI, workers."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from smm_plugins.space import dfs_space
from smm_plugins.surrogate_tools.validate import ValidateConfig, validate_benchmark

pytestmark = pytest.mark.slow  # the tests validate a surrogate they build (train) first


def test_validate_report_and_files(pair, tmp_path: Path) -> None:
    truth, out = pair
    cfg = ValidateConfig(n_seeds=2, n_evals=20)
    rep = validate_benchmark(str(out), truth, tmp_path / "v", cfg)
    assert rep["optimizers"] == ["random", "cmaes", "tpe", "es"] and rep["seeds"] == [0, 1]
    for side in ("truth", "surrogate"):
        for opt in rep["optimizers"]:
            entry = rep["final"][side][opt]
            assert len(entry["per_seed"]) == 2
            assert entry["best_train_acc"]["q25"] <= entry["best_train_acc"]["median"] <= entry["best_train_acc"]["q75"]
            assert 0.0 <= entry["test_acc_of_best"]["median"] <= 1.0
        assert sorted(rep["ranking"][side]) == sorted(rep["optimizers"])
    for opt in rep["optimizers"]:
        assert len(rep["final"]["surrogate"][opt]["true_value_per_seed"]) == 2
        assert "true_value_of_best" not in rep["final"]["truth"][opt]
    assert -1.0 <= rep["ranking_kendall_tau"] <= 1.0
    assert rep["ranking_agrees"] == (rep["ranking"]["truth"] == rep["ranking"]["surrogate"])
    unc = rep["ranking_uncertainty"]
    assert len(unc["pairs"]) == 6 and unc["bootstrap"]["n_resamples"] == 2000
    assert unc["bootstrap"]["tau_interval"][0] <= unc["bootstrap"]["tau_median"] <= unc["bootstrap"]["tau_interval"][1]
    assert rep["trajectory_checkpoints"][-1] == 20
    # Truth-side trajectories re-predicted by the surrogate: a well-fit surrogate ranks them well.
    assert rep["surrogate_error_on_truth_trajectories"]["random"]["kendall_tau"] > 0.3
    # ... and judges the steps of those runs mostly as the truth does (2 seeds x 19 steps, ties left out).
    steps = rep["step_agreement"]
    assert set(steps) == set(rep["optimizers"]) and 0 < steps["es"]["steps"] <= 2 * 19
    assert steps["random"]["agreement"] > 0.5
    assert steps["es"]["margin"] == 0.02 and 0 <= steps["es"]["clear_rejections"] <= steps["es"]["steps"]
    saved = json.loads((tmp_path / "v" / "validate_report.json").read_text())
    assert saved["final"]["truth"]["tpe"]["per_seed"] == rep["final"]["truth"]["tpe"]["per_seed"]
    assert (tmp_path / "v" / "trajectories.png").read_bytes()[:4] == b"\x89PNG"
    assert "| cmaes |" in (tmp_path / "v" / "final_values.md").read_text()
    # Picks on the truth: the surrogate's own best value minus the truth's value of that configuration.
    picks = rep["picks_on_truth"]
    every = []
    for opt in rep["optimizers"]:
        sur = rep["final"]["surrogate"][opt]
        want = np.array(sur["per_seed"]) - np.array(sur["true_value_per_seed"])
        np.testing.assert_allclose(picks["by_optimizer"][opt]["per_seed"], want)
        assert picks["by_optimizer"][opt]["max"] == pytest.approx(want.max())
        every += want.tolist()
    assert picks["all_runs"]["median"] == pytest.approx(np.median(every))
    assert -1.0 <= picks["spearman_fold_std_vs_overestimation"] <= 1.0
    assert all(s >= 0 for s in rep["final"]["surrogate"]["tpe"]["fold_std_per_seed"])
    # Uniform configurations: the seeded sample, scored on both sides.
    from smm_plugins.registry import load_benchmark
    from smm_plugins.surrogate_tools.build import fidelity_metrics

    X = truth.space.sample(2000, rng=0)
    want = fidelity_metrics(truth.evaluate(X, "test_acc"), load_benchmark(str(out)).evaluate(X, "test_acc"))
    assert rep["uniform"]["n"] == 2000 and rep["uniform"]["objectives"]["test_acc"] == pytest.approx(want)
    assert rep["uniform"]["objectives"]["train_acc"]["r2"] > 0.5
    with pytest.raises(ValueError, match="n_uniform = 1 is not allowed"):
        ValidateConfig(n_uniform=1)


def test_validate_cli_with_registered_truth(
    pair, tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    from smm_plugins.registry import register_benchmark, unregister_benchmark
    from smm_plugins.surrogate_tools.cli import add_subcommands

    truth, out = pair
    register_benchmark("tiny-truth-for-validate-test", lambda: truth, overwrite=True)
    # Registered names are process-wide: remove it so other tests see only the real benchmarks.
    request.addfinalizer(lambda: unregister_benchmark("tiny-truth-for-validate-test"))
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers())
    args = parser.parse_args(
        [
            "validate",
            str(out),
            "--truth",
            "tiny-truth-for-validate-test",
            "--seeds",
            "1",
            "--evals",
            "8",
            "--optimizers",
            "random,tpe",
            "--out",
            str(tmp_path / "cli"),
            "-q",
        ]
    )
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "Kendall tau of optimiser ranking" in text and "| tpe |" in text
    assert "pairs the truth's runs separate" in text and "bootstrap over runs" not in text  # one seed: no bootstrap
    assert "false improvement where the truth is > 0.02 worse" in text
    assert json.loads((tmp_path / "cli" / "validate_report.json").read_text())["optimizers"] == ["random", "tpe"]


def test_validate_rejects_mismatched_spaces_and_missing_truth(truth_class, pair) -> None:
    truth, out = pair
    other = truth_class(dfs_space("other", n_layers=3))
    with pytest.raises(ValueError, match="different search spaces"):
        validate_benchmark(str(out), other, None, ValidateConfig(n_seeds=1, n_evals=2))
    with pytest.raises(ValueError, match="truth is required"):
        validate_benchmark(str(out), None, None, ValidateConfig(n_seeds=1, n_evals=2))
    with pytest.raises(ValueError, match="optimizers"):
        ValidateConfig(optimizers=("random", "nelder-mead"))


def test_workers_give_the_same_report(pair, tmp_path: Path) -> None:
    from smm_plugins.testing import SyntheticBenchmark

    _, out = pair
    truth = SyntheticBenchmark(dfs_space("tiny-dfs", n_layers=2))  # importable: spawned workers unpickle it
    reps = [
        validate_benchmark(str(out), truth, None, ValidateConfig(n_seeds=2, n_evals=15, n_uniform=0, workers=w))
        for w in (1, 2)
    ]
    for side in ("truth", "surrogate"):
        for opt in reps[0]["optimizers"]:
            a, b = reps[0]["final"][side][opt], reps[1]["final"][side][opt]
            assert a["per_seed"] == b["per_seed"] and a["test_acc_per_seed"] == b["test_acc_per_seed"]
    assert reps[0]["picks_on_truth"] == reps[1]["picks_on_truth"]
    with pytest.raises(ValueError, match="workers = 0 is not allowed"):
        ValidateConfig(workers=0)


def test_without_optuna_and_matplotlib_validate_runs_the_es_and_skips_the_figure(
    pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    truth, out = pair
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "trajectories.png").write_bytes(b"a previous run's figure")
    for name in ("optuna", "matplotlib", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    cfg = ValidateConfig(n_seeds=2, n_evals=12, optimizers=("es",), n_uniform=0)
    rep = validate_benchmark(str(out), truth, tmp_path / "v", cfg)
    assert rep["optimizers"] == ["es"] and len(rep["final"]["surrogate"]["es"]["per_seed"]) == 2
    assert (tmp_path / "v" / "validate_report.json").is_file() and (tmp_path / "v" / "final_values.md").is_file()
    assert not (tmp_path / "v" / "trajectories.png").exists()
