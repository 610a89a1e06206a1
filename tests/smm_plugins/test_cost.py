"""Cost models and Benchmark.cost: documented constants, proportionality, DFS hops, validation."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins import Benchmark, dfs_space, ps_space
from smm_plugins.cost import (
    MERGE_SECONDS,
    SECONDS_PER_PROBLEM,
    LabCostModel,
    OfficialCostModel,
    cost_model_for,
    default_cost_model,
    dfs_hops,
    fidelity_to_n_problems,
)


class _Const(Benchmark):
    def __init__(self, space, cost_model=None, eval_seconds=None):
        self.space, self.name = space, space.name
        self.cost_model = cost_model
        if eval_seconds is not None:
            self.eval_seconds = eval_seconds

    def _predict(self, X, objective):
        return np.full(X.shape[0], 0.4)


def test_official_ps_full_evaluation_is_merge_plus_generation():
    b = _Const(ps_space())
    x = b.space.default_vector()
    assert b.cost(x) == pytest.approx(MERGE_SECONDS + SECONDS_PER_PROBLEM["train_acc"] * 1069)
    assert b.cost(x, "test_acc") == pytest.approx(MERGE_SECONDS + SECONDS_PER_PROBLEM["test_acc"] * 250)
    assert isinstance(b.cost(x), float)
    assert b.cost(np.vstack([x, x])).shape == (2,)


def test_cost_grows_linearly_with_n_problems():
    b = _Const(ps_space())
    x = b.space.default_vector()
    c = [b.cost(x, n_problems=n) for n in (1, 100, 200, 1069)]
    per = np.diff(c) / np.diff([1, 100, 200, 1069])
    np.testing.assert_allclose(per, SECONDS_PER_PROBLEM["train_acc"])


def test_dfs_hops_and_cost_scale_with_path_length():
    space = dfs_space()
    x = space.default_vector()  # all layer choices 0 -> 32 hops
    assert dfs_hops(x, space).tolist() == [32]
    x2 = x.copy()
    x2[:32] = 2  # both layers everywhere -> 64 hops
    x3 = x.copy()
    x3[[0, 5]] = [2, 1]  # one doubled layer
    assert dfs_hops(np.vstack([x, x2, x3]), space).tolist() == [32, 64, 33]
    b = _Const(space)
    gen = SECONDS_PER_PROBLEM["train_acc"] * 1069
    assert b.cost(x) == pytest.approx(MERGE_SECONDS + gen)
    assert b.cost(x2) == pytest.approx(MERGE_SECONDS + 2 * gen)
    with pytest.raises(ValueError, match="not a DFS space"):
        dfs_hops(np.zeros(64), ps_space())


def test_constants_are_overridable():
    m = OfficialCostModel(fixed_seconds=0.0, seconds_per_problem={"train_acc": 1.0, "test_acc": 2.0})
    b = _Const(ps_space(), cost_model=m)
    x = b.space.default_vector()
    assert b.cost(x, n_problems=10) == 10.0
    assert b.cost(x, "test_acc", n_problems=10) == 20.0
    with pytest.raises(ValueError, match="fixed_seconds"):
        OfficialCostModel(fixed_seconds=-1.0)


def test_lab_cost_model_from_measured_seconds():
    b = _Const(ps_space(), eval_seconds=0.5)
    assert isinstance(default_cost_model(b), OfficialCostModel)  # the lab's seconds are an option only
    b.cost_model = "lab"
    x = b.space.default_vector()
    assert b.cost(x) == pytest.approx(0.5)
    assert isinstance(b.cost_model, LabCostModel)  # resolved once
    assert b.cost(x, "test_acc") == pytest.approx(0.5)
    assert b.cost(x, n_problems=534) == pytest.approx(0.5 * 534 / 1069)
    m = LabCostModel.from_eval_seconds({"train_acc": 2.0, "test_acc": 1.0}, {"train_acc": 1000, "test_acc": 250})
    assert m.seconds_per_problem == {"train_acc": 0.002, "test_acc": 0.004}
    measured = _Const(ps_space())
    measured.meta = {"eval_seconds": 0.25}  # a surrogate built from measured real evaluations
    assert isinstance(default_cost_model(measured), LabCostModel)
    assert measured.cost(measured.space.default_vector()) == pytest.approx(0.25)


def test_cost_model_names_are_checked():
    b = _Const(ps_space())
    assert isinstance(cost_model_for(b, "official"), OfficialCostModel)
    m = OfficialCostModel(fixed_seconds=1.0)
    assert cost_model_for(b, m) is m
    with pytest.raises(ValueError, match="cost_model = 'gpu'.*'official', 'lab'"):
        cost_model_for(b, "gpu")
    with pytest.raises(ValueError, match="has none"):
        cost_model_for(b, "lab")  # no measured lab seconds for an arbitrary benchmark


def test_cost_rejects_bad_input_like_evaluate():
    b = _Const(ps_space())
    x = b.space.default_vector()
    with pytest.raises(ValueError, match="out of range"):
        b.cost(x + 2)
    with pytest.raises(ValueError, match="n_problems"):
        b.cost(x, n_problems=0)
    with pytest.raises(ValueError, match="n_problems"):
        b.cost(x, n_problems=1070)
    with pytest.raises(ValueError, match="objective"):
        b.cost(x, "valid_acc")


def test_fidelity_mapping_is_the_cores_one_contract():
    # cost.fidelity_to_n_problems forwards to the core's (tests/smm_plugins/test_fidelity.py has the table).
    from smm_plugins import fidelity

    assert fidelity_to_n_problems is fidelity.fidelity_to_n_problems
    assert fidelity_to_n_problems(None, 1069) == 1069  # the full split: Benchmark.evaluate's exact value
    with pytest.raises(fidelity.FidelityError, match=r"n_problems = 5000 .* \[39, 1069\]"):
        fidelity_to_n_problems(5000, 1069)


def test_embedded_benchmarks_cost_a_real_merge_by_default_and_the_lab_seconds_on_request():
    from smm_plugins.lab.objectives import DFSTrueBenchmark, PSTrueBenchmark
    from smm_plugins.registry import load_benchmark

    for name, twin in (("smm-mini-ps", PSTrueBenchmark), ("smm-mini-dfs", DFSTrueBenchmark)):
        for bench_name in (name, f"{name}-true"):
            b = load_benchmark(bench_name)
            x = b.space.default_vector()  # DFS default: 32 hops, the reference path length
            assert b.cost(x) == pytest.approx(MERGE_SECONDS + SECONDS_PER_PROBLEM["train_acc"] * 1000)  # minutes
            assert b.cost(x, n_problems=37) == pytest.approx(MERGE_SECONDS + SECONDS_PER_PROBLEM["train_acc"] * 37)
            lab = load_benchmark(bench_name, cost_model="lab")
            assert isinstance(lab.cost_model, LabCostModel) and lab.cost(x) == pytest.approx(twin.eval_seconds)
        with pytest.raises(ValueError, match="cost_model"):
            load_benchmark(name, cost_model="fast")


def test_dfs_hops_agree_with_the_lab_mapping():
    lab = pytest.importorskip("smm_plugins.lab.objectives")
    space = lab.DFSTrueBenchmark.space
    X = space.sample(100, np.random.default_rng(0))
    assert dfs_hops(X, space).tolist() == [lab.DFSTrueBenchmark.n_hops(x) for x in X]
