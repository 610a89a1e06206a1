"""The exact lab benchmarks: contract, determinism, BLAS threads and the non-trivial merge problem."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from smm_plugins.benchmark import Benchmark
from smm_plugins.lab.objectives import (
    DFSTrueBenchmark,
    PSTrueBenchmark,
    dfs_space,
    dfs_true_benchmark,
    load_lab,
    ps_space,
    ps_true_benchmark,
)

L = 32


@pytest.fixture(scope="module")
def ps():
    return ps_true_benchmark()


@pytest.fixture(scope="module")
def dfs():
    return dfs_true_benchmark()


def test_contract(ps, dfs):
    assert isinstance(ps, Benchmark) and isinstance(ps, PSTrueBenchmark)
    assert isinstance(dfs, DFSTrueBenchmark)
    assert ps.name == "smm-mini-ps-true" and dfs.name == "smm-mini-dfs-true"
    assert ps.space.dim == 64 and ps.space.names[0] == "w_A_00" and ps.space.names[32] == "w_B_00"
    assert dfs.space.dim == 95 and dfs.space.names[32] == "scale_00"
    assert ps_space().names == ps.space.names and dfs_space().names == dfs.space.names
    assert dict(ps.n_problems_full) == {"train_acc": 1000, "test_acc": 1000}
    assert 0 < ps.eval_seconds < 0.02 and 0 < dfs.eval_seconds < 0.02


def test_splits_are_disjoint(ps):
    tr, te = ps.lab.splits["train_acc"][0], ps.lab.splits["test_acc"][0]
    assert not (tr[:, None, :] == te[None, :, :]).all(-1).any()


def test_values_deterministic_and_batch_invariant(ps, dfs):
    for bench, seed in ((ps, 0), (dfs, 1)):
        X = bench.space.sample(6, seed)
        a = bench.evaluate(X)
        assert a.shape == (6,) and np.all((a >= 0) & (a <= 1))
        assert np.array_equal(a, bench.evaluate(X))
        assert bench.evaluate(X[2]) == a[2]  # a single row gives a float, the same one
        both = bench.evaluate_all(X)
        assert np.array_equal(both["train_acc"], a)
        assert np.array_equal(both["test_acc"], bench.evaluate(X, "test_acc"))
        # accuracies are counts out of 1,000 problems
        assert np.allclose(a * 1000, np.round(a * 1000))


def test_invalid_configurations_raise(ps, dfs):
    with pytest.raises(ValueError, match="w_A_00"):
        ps.evaluate(np.r_[1.5, np.zeros(63)])
    bad = np.r_[np.full(L, 7), np.ones(63)]
    with pytest.raises(ValueError, match="layer_00"):
        dfs.evaluate(bad)
    with pytest.raises(ValueError, match="layer_00"):  # clip mode passes categoricals on: still no silent answer
        dfs.evaluate(bad, clip=True)


def test_missing_weights_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="lab train-sources"):
        load_lab(tmp_path / "nope.npz")


def test_merging_is_worth_optimising(ps):
    """The merge beats both sources and the uniform merge on the test split by >= 5 points."""

    def row(wa, wb):
        return np.r_[wa, wb]

    a_early = np.r_[np.ones(12), np.zeros(L - 12)]
    X = np.stack(
        [
            row(np.ones(L), np.zeros(L)),  # A
            row(np.zeros(L), np.ones(L)),  # B
            row(np.full(L, 0.5), np.full(L, 0.5)),  # uniform
            row(a_early, 1 - a_early),  # A's translator blocks, B's later blocks
        ]
    )
    acc = ps.evaluate(X, "test_acc")
    assert acc[3] >= max(acc[:3]) + 0.05
    assert acc[1] < 0.3  # B alone cannot read the foreign language


def test_random_configurations_spread(ps, dfs):
    for bench, lo_spread in ((ps, 0.10), (dfs, 0.10)):
        y = bench.evaluate(bench.space.sample(40, 3))
        assert np.quantile(y, 0.9) - np.quantile(y, 0.1) > lo_spread


def test_evaluation_uses_one_blas_thread_and_restores_the_callers(ps, monkeypatch):
    # Time per configuration and the cost of default BLAS threads: benchmarks/bench_lab_objectives.py.
    seen = []
    predict = PSTrueBenchmark._predict_classes

    def recording(self, pts, rows):
        seen.append(_blas_threads())
        return predict(self, pts, rows)

    monkeypatch.setattr(PSTrueBenchmark, "_predict_classes", recording)
    X = ps.space.sample(40, 4)
    with threadpool_limits(limits=2, user_api="blas"):
        assert _blas_threads() == {2}
        y = ps.evaluate(X)
        assert _blas_threads() == {2}
    assert seen == [{1}, {1}]  # two chunks of at most 32 configurations
    np.testing.assert_array_equal(y, ps.evaluate(X))


def _blas_threads():
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
