"""Data collection: columns, exact values, strategies, resumability, the CLI and the docs table."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pandas as pd
import pytest

from smm_plugins.lab import cli as lab_cli
from smm_plugins.lab.collect import PRESETS, CollectPlan, collect, format_table, lab_table, read_collection
from smm_plugins.lab.objectives import dfs_true_benchmark, ps_true_benchmark


def _plan(kind: str) -> CollectPlan:
    return CollectPlan(kind, n_random=20, random_chunk=8, cma_runs=2, cma_evals=10, tpe_runs=1, tpe_trials=6)


def test_full_presets_meet_the_row_targets():
    assert PRESETS["ps"].total_rows >= 100_000 and PRESETS["dfs"].total_rows >= 40_000
    for kind in ("ps", "dfs"):
        strategies = {u.strategy for u in PRESETS[kind].units()}
        assert strategies == {"random", "cmaes", "tpe"}
        assert sum(u.strategy == "cmaes" for u in PRESETS[kind].units()) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ps", "dfs"])
def test_collect_rows_are_exact_evaluations(tmp_path, kind):
    plan = _plan(kind)
    n = collect(plan, tmp_path, progress=False)
    df = read_collection(tmp_path)
    assert n == len(df) == plan.total_rows == 20 + 20 + 6
    bench = ps_true_benchmark() if kind == "ps" else dfs_true_benchmark()
    expected = bench.space.names + ["train_acc", "test_acc", "strategy", "run_id", "step", "eval_seconds"]
    assert list(df.columns) == expected
    assert df.groupby("strategy").size().to_dict() == {"cmaes": 20, "random": 20, "tpe": 6}
    assert set(df.run_id) == {"random-000", "random-001", "random-002", "cmaes-000", "cmaes-001", "tpe-000"}
    assert (df.eval_seconds > 0).all()
    X = df[bench.space.names].to_numpy(dtype=float)
    bench.space.validate(X)  # every stored configuration is valid
    acc = bench.evaluate_all(X)
    np.testing.assert_array_equal(acc["train_acc"], df.train_acc.to_numpy())
    np.testing.assert_array_equal(acc["test_acc"], df.test_acc.to_numpy())
    if kind == "dfs":
        assert df["layer_00"].dtype == np.int64 and set(np.unique(df.filter(like="layer_").to_numpy())) <= {0, 1, 2}
    # Distinct CMA-ES runs explore differently.
    c0 = df[df.run_id == "cmaes-000"][bench.space.names].to_numpy()
    c1 = df[df.run_id == "cmaes-001"][bench.space.names].to_numpy()
    assert not np.allclose(c0, c1)


@pytest.mark.slow
def test_resume_after_interruption_gives_the_same_data(tmp_path):
    plan = _plan("ps")
    collect(plan, tmp_path / "straight", progress=False)

    class Stop(Exception):
        pass

    seen = []

    def stop_after_two(unit):
        seen.append(unit.run_id)
        if len(seen) == 2:
            raise Stop

    with pytest.raises(Stop):
        collect(plan, tmp_path / "resumed", progress=False, on_unit=stop_after_two)
    assert len(list((tmp_path / "resumed").glob("part-*.parquet"))) == 2
    redone = []
    collect(plan, tmp_path / "resumed", progress=False, on_unit=lambda u: redone.append(u.run_id))
    assert not set(redone) & set(seen) and len(redone) == len(plan.units()) - 2
    a = read_collection(tmp_path / "straight").drop(columns="eval_seconds")
    b = read_collection(tmp_path / "resumed").drop(columns="eval_seconds")
    pd.testing.assert_frame_equal(a, b)
    # Resuming with another plan is refused rather than mixed.
    with pytest.raises(ValueError, match="different plan"):
        collect(dataclasses.replace(plan, seed=1), tmp_path / "resumed", progress=False)


@pytest.mark.slow
def test_cli_collect_and_table(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    lab_cli.add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "lab",
            "collect",
            "--kind",
            "dfs",
            "--out",
            str(tmp_path),
            "--preset",
            "tiny",
            "--n-random",
            "10",
            "--cma-evals",
            "8",
            "--tpe-trials",
            "4",
            "--no-progress",
        ]
    )
    assert args.func(args) == 0
    assert len(read_collection(tmp_path)) == 10 + 8 + 4
    assert "22 rows" in capsys.readouterr().out
    args = parser.parse_args(["lab", "table", "--kind", "ps", "--n-random", "20", "--cma-evals", "32"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "| uniform merge (all 0.5) |" in out and "CMA-ES best of 32" in out


@pytest.mark.slow
def test_lab_table_reference_points():
    rows = {r["what"]: r for r in lab_table("ps", n_random=16, cma_evals=32)}
    assert rows["B alone (w_A = 0, w_B = 1)"]["train_acc"] < rows["A alone (w_A = 1, w_B = 0)"]["train_acc"]
    q = [rows[f"random configurations, {p}% quantile"]["train_acc"] for p in (5, 25, 50, 75, 95)]
    assert q == sorted(q)
    assert format_table(list(rows.values())).startswith("| configuration |")


def test_cmaes_uses_each_categoricals_own_choices():
    # Categoricals with 2 and 4 choices and codes other than 0..k-1: CatCMA must get the right
    # category counts and decode to the parameter's own codes (DFS alone would hide a hard-coded 3).
    from smm_plugins.lab.collect import _cma_batches
    from smm_plugins.space import Parameter, SearchSpace
    from smm_plugins.testing import synthetic_accuracy

    space = SearchSpace(
        "mixed",
        (
            Parameter("w0", "float", 0.0, 1.0, default=0.5),
            Parameter("w1", "float", -2.0, 2.0, default=0.0),
            Parameter("pair", "categorical", choices=(5, 7), default=5),
            Parameter("four", "categorical", choices=(0, 1, 2, 3), default=0),
        ),
    )

    class _Bench:
        def __init__(self) -> None:
            self.space = space

        def evaluate_all(self, X):
            return {o: synthetic_accuracy(space, X, o) for o in ("train_acc", "test_acc")}

    X = np.concatenate([b[0] for b in _cma_batches(_Bench(), 400, seed=0, sigma_frac=0.5)])
    assert X.shape == (400, 4)
    space.validate(X, argname="X")  # every decoded row is inside the space
    assert set(np.unique(X[:, 2])) == {5.0, 7.0}
    assert set(np.unique(X[:, 3])) == {0.0, 1.0, 2.0, 3.0}
