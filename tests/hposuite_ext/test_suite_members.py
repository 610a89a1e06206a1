"""Every member of the suite smm-mini by name in hposuite: its description, queries, and one study over all."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("hposuite")

import pandas as pd
from hpoglue import Config, Query

from hposuite_ext import ACCURACY, COST, FIDELITY, METRIC, benchmark_description, value_column
from smm_plugins.fidelity import fidelity_range
from smm_plugins.registry import list_benchmarks, load_benchmark

MEMBERS = list_benchmarks(suite="smm-mini")


@pytest.mark.parametrize("name", MEMBERS)
def test_member_by_name(name: str) -> None:
    core = load_benchmark(name)
    floor, full = fidelity_range(int(core.n_problems_full["train_acc"]))
    desc = benchmark_description(name, subset_seed=2)
    fid = desc.fidelities[FIDELITY]
    assert desc.name == name and (fid.min, fid.max) == (floor, full)
    x = core.space.sample(1, rng=5)[0]
    config = Config(config_id="c", values=core.space.to_config(x))
    problem = desc.load(desc)
    low, exact = (problem.query(Query(config=config, fidelity=f)).values for f in ((FIDELITY, floor), None))
    assert low[ACCURACY] == core.evaluate(x, n_problems=floor, seed=2) and exact[ACCURACY] == core.evaluate(x)
    assert 0 < low[COST] == core.cost(x, n_problems=floor) < exact[COST] == core.cost(x)


def test_one_study_over_the_whole_suite(tmp_path: Path) -> None:
    import hposuite

    study = hposuite.create_study(
        output_dir=tmp_path,
        name="suite",
        optimizers=["RandomSearch"],
        benchmarks=[benchmark_description(name) for name in MEMBERS],
        num_seeds=1,
        budget=2,
        on_error="raise",
    )
    study.optimize()
    runs = pd.concat([pd.read_parquet(f) for f in sorted((tmp_path / "suite").glob("*/*.parquet"))])
    assert sorted(runs["benchmark.name"].unique()) == MEMBERS and (runs.groupby("benchmark.name").size() == 2).all()
    acc, error = runs[value_column(ACCURACY)], runs[value_column(METRIC)]
    assert (acc + error == 1).all() and acc.between(0, 1).all() and (runs[value_column(COST)] > 0).all()
    assert runs["result.objective.1.value"].to_numpy() == pytest.approx(error.to_numpy(), abs=1e-6)  # float32
