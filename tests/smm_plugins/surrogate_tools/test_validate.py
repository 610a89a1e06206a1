"""Behavioural validation at tiny sizes: runs, report content, files, CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.benchmark import Benchmark
from smm_plugins.space import SearchSpace, dfs_space
from smm_plugins.surrogate_tools.build import BuildConfig, build_surrogate
from smm_plugins.surrogate_tools.validate import ValidateConfig, run_optimizer, validate_benchmark
from smm_plugins.testing import synthetic_accuracy

pytestmark = pytest.mark.slow  # the tests validate surrogates they build (train) first


class _Truth(Benchmark):
    """A cheap exact objective over a small DFS-like space (categoricals and floats)."""

    def __init__(self, space: SearchSpace) -> None:
        self.name = "tiny-truth"
        self.space = space

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        return synthetic_accuracy(self.space, X, objective)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[_Truth, Path]:
    space = dfs_space("tiny-dfs", n_layers=2)
    truth = _Truth(space)
    X = space.sample(1500, 0)
    df = pd.DataFrame(X, columns=space.names)
    for obj in ("train_acc", "test_acc"):
        df[obj] = truth.evaluate(X, obj)
    out = tmp_path_factory.mktemp("surrogate")
    build_surrogate(df, space, out, BuildConfig(n_trials=0, max_rounds=150, early_stopping_rounds=20))
    return truth, out


def test_same_seed_gives_same_random_configurations_on_both(pair) -> None:
    from smm_plugins.registry import load_benchmark

    truth, out = pair
    a = run_optimizer(truth, "random", 3, 12)
    b = run_optimizer(load_benchmark(str(out)), "random", 3, 12)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.X.shape == (12, truth.space.dim)
    assert not np.array_equal(a.values, b.values)  # a surrogate is not the truth
    np.testing.assert_array_equal(a.best_so_far, np.maximum.accumulate(a.values))
    # CMA-ES sees the categoricals as integers: every code it proposes must still be a valid category.
    c = run_optimizer(truth, "cmaes", 0, 20)
    truth.space.validate(c.X)


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


def test_one_plus_one_es_climbs_and_stays_valid(pair) -> None:
    truth, _ = pair
    es = run_optimizer(truth, "es", 5, 150)
    truth.space.validate(es.X)
    assert es.X.shape == (150, truth.space.dim) and es.optimizer == "es"
    np.testing.assert_array_equal(run_optimizer(truth, "es", 5, 150).X, es.X)  # seeded
    rnd = np.mean([run_optimizer(truth, "random", s, 150).values.max() for s in range(3)])
    assert np.mean([run_optimizer(truth, "es", s, 150).values.max() for s in range(3)]) > rnd


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


def test_validate_rejects_mismatched_spaces_and_missing_truth(pair) -> None:
    truth, out = pair
    other = _Truth(dfs_space("other", n_layers=3))
    with pytest.raises(ValueError, match="different search spaces"):
        validate_benchmark(str(out), other, None, ValidateConfig(n_seeds=1, n_evals=2))
    with pytest.raises(ValueError, match="truth is required"):
        validate_benchmark(str(out), None, None, ValidateConfig(n_seeds=1, n_evals=2))
    with pytest.raises(ValueError, match="optimizers"):
        ValidateConfig(optimizers=("random", "nelder-mead"))


def test_exploit_rows_feed_a_rebuild_without_touching_the_test_split(pair, tmp_path: Path) -> None:
    from smm_plugins.surrogate_tools.validate import exploit_rows

    truth, out = pair
    rows = exploit_rows(str(out), truth, optimizers=("cmaes",), seeds=(7,), n_evals=15)
    assert len(rows) == 15 and set(rows["strategy"]) == {"exploit-cmaes"}
    np.testing.assert_allclose(rows["train_acc"], truth.evaluate(rows[truth.space.names].to_numpy(), "train_acc"))
    space = truth.space
    X = space.sample(600, 1)
    df = pd.DataFrame(X, columns=space.names)
    for obj in ("train_acc", "test_acc"):
        df[obj] = truth.evaluate(X, obj)
    cfg = BuildConfig(n_trials=0, max_rounds=30, early_stopping_rounds=5)
    plain = build_surrogate(df, space, tmp_path / "a", cfg)
    aug = build_surrogate(df, space, tmp_path / "b", cfg, extra_data=rows)
    assert aug.build_info["rows"]["extra_train_rows"] == 15
    assert aug.build_info["rows"]["test"] == plain.build_info["rows"]["test"] == 60
    assert aug.report["objectives"]["train_acc"]["n"] == 60
    assert aug.build_info["data_sha256"] != plain.build_info["data_sha256"]


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


@pytest.mark.parametrize("name", ["random", "tpe"])
def test_random_and_tpe_are_the_comparison_runners(name: str) -> None:
    """The same configurations as the Optuna sampler of that name asked on ``optuna_ext.Problem``."""
    optuna = pytest.importorskip("optuna")
    from optuna_ext import Problem

    truth = _Truth(dfs_space("tiny-dfs", n_layers=2))
    trace = run_optimizer(truth, name, 4, 15)
    problem = Problem(truth, extras=False)
    sampler = {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler}[name](seed=4)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(problem, n_trials=15)
    want = np.array([problem.to_vector(t.params) for t in study.trials])
    np.testing.assert_array_equal(trace.X, want)
    np.testing.assert_array_equal(trace.values, [t.value for t in study.trials])
    assert trace.optimizer == name and trace.seed == 4


def test_unknown_optimizer_is_named() -> None:
    truth = _Truth(dfs_space("tiny-dfs", n_layers=2))
    with pytest.raises(ValueError, match=r"optimizer = 'bogus' is not known; allowed: random, cmaes, tpe, es"):
        run_optimizer(truth, "bogus", 0, 5)
