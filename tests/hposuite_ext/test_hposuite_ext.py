"""hposuite_ext with the real hposuite: the description, its queries and a study with hposuite's optimisers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("hposuite")

import pandas as pd
from hpoglue import BenchmarkDescription, Config, Query

from hposuite_ext import ACCURACY, COST, FIDELITY, METRIC, TEST_METRIC, VALUES, benchmark_description, value_column
from smm_plugins import load_benchmark
from smm_plugins.configspace import configuration_space

ROOT = Path(__file__).resolve().parents[2]


def _query(desc: BenchmarkDescription, values: dict, fidelity=None):
    return desc.load(desc).query(Query(config=Config(config_id="c", values=values), fidelity=fidelity))


def test_description_declares_metrics_cost_and_fidelity():
    desc = benchmark_description("smm-mini-dfs")
    b = load_benchmark("smm-mini-dfs")
    full = b.n_problems_full["train_acc"]
    assert desc.name == "smm-mini-dfs" and desc.config_space == configuration_space(b.space)
    # One minimised metric: hposuite 0.1.3's Optuna wrapper would minimise a maximised one.
    assert set(desc.metrics) == {METRIC} == {"train_error"} and desc.metrics[METRIC].minimize is True
    assert set(desc.test_metrics) == {TEST_METRIC} and set(desc.costs) == {COST}
    fid = desc.fidelities[FIDELITY]
    assert (fid.min, fid.max, fid.kind) == (37, full, int)
    assert dict(desc.predefined_points["default"].values) == b.space.default_config()


def test_queries_are_the_core_benchmark():
    desc = benchmark_description("smm-mini-ps", subset_seed=4)
    b = load_benchmark("smm-mini-ps")
    x = b.space.sample(1, rng=3)[0]
    config = b.space.to_config(x)
    full = _query(desc, config)
    acc = b.evaluate(x)
    assert full.values == {METRIC: 1 - acc, ACCURACY: acc, TEST_METRIC: b.evaluate(x, "test_acc"), COST: b.cost(x)}
    assert list(VALUES) == desc.extra["result_values"] and set(VALUES) == set(full.values)
    assert _query(desc, config, (FIDELITY, b.n_problems_full["train_acc"])).values == full.values
    low = _query(desc, config, (FIDELITY, 111))
    assert low.values[ACCURACY] == b.evaluate(x, n_problems=111, seed=4)  # the fixed subset of seed 4
    assert low.values[COST] == b.cost(x, n_problems=111) < full.values[COST]
    assert _query(desc, config, {FIDELITY: 111.0}).values == low.values  # mapping form, float budget
    with pytest.raises(ValueError, match="n_problems"):
        _query(desc, config, (FIDELITY, 0))


def test_directory_and_instance(ps_dir, tiny_ps):
    assert benchmark_description(ps_dir).name == load_benchmark(ps_dir).name
    desc = benchmark_description(tiny_ps, name="mine")
    x = tiny_ps.space.sample(1, rng=0)[0]
    assert desc.name == "mine" and _query(desc, tiny_ps.space.to_config(x)).values[ACCURACY] == tiny_ps.evaluate(x)


def _study(out: Path) -> tuple[pd.DataFrame, list[Path]]:
    import hposuite

    study = hposuite.create_study(
        output_dir=out,
        name="smm",
        optimizers=["RandomSearch", "Optuna"],  # Optuna: TPE, model-based
        benchmarks=[benchmark_description("smm-mini-ps")],
        num_seeds=2,
        budget=15,
        on_error="raise",
    )
    study.optimize()
    files = sorted((out / "smm").glob("*/*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True), files


def test_study_runs_hposuite_optimisers_and_writes_results(tmp_path):
    runs, files = _study(tmp_path / "a")
    assert len(files) == 4 and (tmp_path / "a" / "smm" / "study_config.yaml").is_file()
    assert runs.groupby(["optimizer.name", "run.seed"]).size().to_dict() == {
        (opt, seed): 15 for opt in ("Optuna", "RandomSearch") for seed in sorted(set(runs["run.seed"]))
    }
    assert set(runs["benchmark.name"]) == {"smm-mini-ps"} and set(runs["problem.objective.1.name"]) == {METRIC}
    assert runs["problem.objective.1.minimize"].all()
    assert runs["result.objective.1.value"].between(0, 1).all()
    # The files keep every value of every evaluation: accuracies, the error optimised, simulated seconds.
    b = load_benchmark("smm-mini-ps")
    acc, error = runs[value_column(ACCURACY)], runs[value_column(METRIC)]
    assert (acc + error == 1).all() and acc.between(0, 1).all() and (runs[value_column(TEST_METRIC)] > 0).all()
    assert runs["result.objective.1.value"].to_numpy() == pytest.approx(error.to_numpy(), abs=1e-6)  # float32
    assert b.cost(b.space.sample(1, rng=0)[0]) == 310.0 and (runs[value_column(COST)] == 310.0).all()  # full PS
    # Same study, same numbers (seeded optimisers, deterministic benchmark).
    again, _ = _study(tmp_path / "b")
    key = ["optimizer.name", "run.seed", "config.id"]
    pd.testing.assert_series_equal(
        runs.sort_values(key)["result.objective.1.value"].reset_index(drop=True),
        again.sort_values(key)["result.objective.1.value"].reset_index(drop=True),
    )


def test_multifidelity_optimiser_uses_the_fidelity(tmp_path, monkeypatch):
    pytest.importorskip("smac")
    import hposuite

    monkeypatch.chdir(tmp_path)  # hposuite's SMAC wrapper writes Optimizers_cache/ into the working directory

    study = hposuite.create_study(
        output_dir=tmp_path,
        name="mf",
        optimizers=["SMAC_Hyperband"],
        benchmarks=[benchmark_description("smm-mini-ps")],
        num_seeds=1,
        budget=5,
        on_error="raise",
    )
    study.optimize()
    (file,) = (tmp_path / "mf").glob("*/*.parquet")
    runs = pd.read_parquet(file)
    assert set(runs["optimizer.name"]) == {"SMAC_Hyperband"} and (runs["query.fidelity.count"] == 1).all()
    assert runs["result.objective.1.value"].between(0, 1).all()


def test_missing_hpoglue_is_one_line_naming_the_extra():
    code = "import sys; sys.modules['hpoglue'] = None\ntry:\n import hposuite_ext\nexcept ImportError as e:\n print(e)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert 'pip install "smm-plugins[hposuite]"' in out.stdout and len(out.stdout.strip().splitlines()) == 1
