"""The fidelity ladder and the fixed-subset noise model: purity, exactness at full, FPC variance, correlation."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from smm_plugins import ps_space
from smm_plugins.fidelity import (
    DEFAULT_SUBSET_SEED,
    FidelityError,
    SubsetNoiseModel,
    fidelity_ladder,
    fidelity_range,
    fidelity_summary,
    fidelity_to_n_problems,
    problem_subset,
    subset_seed,
)
from smm_plugins.registry import load_benchmark

N_FULL = 1000


@pytest.fixture(scope="module")
def mini_ps():
    return load_benchmark("smm-mini-ps")


@pytest.fixture(scope="module")
def configs(mini_ps):
    return mini_ps.space.sample(12, rng=3)


def test_ladder_is_geometric_and_ends_at_full():
    assert fidelity_ladder(1000) == [37, 111, 333, 1000]
    assert fidelity_ladder(1069) == [39, 118, 356, 1069]
    assert fidelity_ladder(5) == [1, 5]
    with pytest.raises(ValueError, match="reduction_factor"):
        fidelity_ladder(100, reduction_factor=1)


def test_subsets_are_nested_seeded_and_cover_the_split():
    a = problem_subset(N_FULL, 111, seed=4)
    assert len(set(a.tolist())) == 111 and a.min() >= 0 and a.max() < N_FULL
    assert np.array_equal(problem_subset(N_FULL, 333, seed=4)[:111], a)  # nested
    assert not np.array_equal(problem_subset(N_FULL, 111, seed=5), a)
    assert sorted(problem_subset(N_FULL, N_FULL, seed=4).tolist()) == list(range(N_FULL))
    assert np.array_equal(problem_subset(N_FULL, 50), problem_subset(N_FULL, 50, DEFAULT_SUBSET_SEED))
    with pytest.raises(ValueError, match="n_problems = 0"):
        problem_subset(N_FULL, 0)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "0", [0]])
def test_bad_seeds_are_named(bad, mini_ps, configs):
    with pytest.raises(ValueError, match=r"seed = .*allowed"):
        subset_seed(bad)
    with pytest.raises(ValueError, match="seed"):
        mini_ps.evaluate(configs, n_problems=37, seed=bad)
    with pytest.raises(ValueError, match="seed"):
        mini_ps.evaluate(configs, seed=bad)  # checked at full fidelity too


def test_exact_at_full_whatever_the_seed(mini_ps, configs):
    full = mini_ps.evaluate(configs)
    for seed in (None, 0, 7, np.random.default_rng(1)):
        assert np.array_equal(mini_ps.evaluate(configs, n_problems=N_FULL, seed=seed), full)
        assert np.array_equal(mini_ps.evaluate(configs, n_problems=None, seed=seed), full)


def test_pure_function_of_configuration_fidelity_and_seed(mini_ps, configs):
    batch = mini_ps.evaluate(configs, n_problems=111, seed=3)
    # Row order, batch composition and call history do not matter.
    perm = np.random.default_rng(0).permutation(len(configs))
    assert np.array_equal(mini_ps.evaluate(configs[perm], n_problems=111, seed=3), batch[perm])
    singles = []
    for x in configs[::-1]:
        mini_ps.evaluate(x, n_problems=37, seed=9)  # an unrelated call in between
        singles.append(mini_ps.evaluate(x, n_problems=111, seed=3))
    assert np.array_equal(np.array(singles[::-1]), batch)
    assert np.array_equal(
        mini_ps.evaluate(np.vstack([configs, configs]), n_problems=111, seed=3)[: len(configs)], batch
    )
    # Seed None is subset 0; another seed is another subset.
    assert np.array_equal(mini_ps.evaluate(configs, n_problems=111), mini_ps.evaluate(configs, n_problems=111, seed=0))
    assert not np.array_equal(mini_ps.evaluate(configs, n_problems=111, seed=4), batch)
    config = mini_ps.space.to_config(configs[0])
    assert mini_ps.evaluate_config(config, n_problems=111, seed=3) == batch[0]
    # An accuracy on n problems: a count out of n, in [0, 1].
    assert np.allclose(batch * 111, np.rint(batch * 111)) and ((batch >= 0) & (batch <= 1)).all()


def test_last_bit_differences_from_another_encoding_do_not_change_the_subset_outcome(mini_ps, configs):
    # A configuration that went through ConfigSpace's normalised vector and back differs in its last bits.
    nudged = np.nextafter(configs, 2.0)
    assert not np.array_equal(nudged, configs)
    assert np.array_equal(
        mini_ps.evaluate(nudged, n_problems=111, seed=3), mini_ps.evaluate(configs, n_problems=111, seed=3)
    )


@pytest.mark.slow
def test_same_values_in_a_fresh_process(mini_ps, configs):
    code = (
        "import json, numpy as np; from smm_plugins.registry import load_benchmark;"
        "b = load_benchmark('smm-mini-ps'); X = np.array(json.loads(input()));"
        "print(json.dumps(b.evaluate(X, n_problems=111, seed=3).tolist()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(configs.tolist()), capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == mini_ps.evaluate(configs, n_problems=111, seed=3).tolist()


def test_variance_is_sampling_without_replacement_and_the_gap_shrinks():
    rng = np.random.default_rng(0)
    X, p = rng.random((16, 64)), np.full(16, 0.4)
    model = SubsetNoiseModel(1.5)
    gaps = []
    for n in (37, 333, 900, 999):
        vals = np.array([model.subset_accuracy(p, X, "train_acc", n, N_FULL, s) for s in range(150)])
        fpc_var = 0.4 * 0.6 / n * (N_FULL - n) / (N_FULL - 1)
        if n < 999:  # at 999 the rounding to a count of n dominates
            assert vals.var(axis=0).mean() == pytest.approx(fpc_var, rel=0.2)
        assert abs(vals.mean() - 0.4) < 4 * np.sqrt(fpc_var / 150) + 0.5 / n
        gaps.append(np.abs(vals - 0.4).mean())
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 0.002
    assert np.array_equal(model.subset_accuracy(p, X, "train_acc", N_FULL, N_FULL, 1), p)


def test_problem_difficulty_correlates_configurations():
    rng = np.random.default_rng(1)
    X, p = rng.random((20, 64)), np.full(20, 0.45)

    def shared_fraction(spread: float) -> float:
        model = SubsetNoiseModel(spread)
        vals = np.array([model.subset_accuracy(p, X, "train_acc", 111, N_FULL, s) for s in range(120)])
        return float(np.var(vals.mean(axis=1)) / vals.var(axis=0).mean())

    independent, correlated = shared_fraction(0.0), shared_fraction(5.0)
    assert independent < 0.15  # about 1/20: nothing shared but chance
    assert correlated > 0.5  # a hard subset is hard for every configuration


def test_extreme_accuracies_and_objectives():
    X = np.random.default_rng(2).random((3, 64))
    model = SubsetNoiseModel()
    assert np.array_equal(model.subset_accuracy(np.array([0.0, 1.0, 1.0]), X, "train_acc", 37, N_FULL), [0, 1, 1])
    a = model.correctness(np.full(3, 0.5), X, "train_acc", N_FULL)
    b = model.correctness(np.full(3, 0.5), X, "test_acc", N_FULL)
    assert a.shape == (3, N_FULL) and not np.array_equal(a, b)  # each split has its own problems
    zeros = np.zeros((1, 64))
    assert np.array_equal(
        model.correctness([0.5], zeros, "train_acc", N_FULL), model.correctness([0.5], -zeros, "train_acc", N_FULL)
    )
    with pytest.raises(ValueError, match="difficulty_spread"):
        SubsetNoiseModel(-1.0)


def test_default_spread_per_space_kind():
    from smm_plugins import dfs_space

    assert SubsetNoiseModel.for_space(ps_space()).difficulty_spread == 5.0
    assert SubsetNoiseModel.for_space(dfs_space()).difficulty_spread == 1.5


def test_lab_truth_evaluates_the_subset_exactly():
    truth = load_benchmark("smm-mini-ps-true")
    X = truth.space.validate(truth.space.sample(4, rng=0))
    pts, labels = truth.lab.splits["train_acc"]
    subset = problem_subset(N_FULL, 111, seed=2)
    pred = truth._predict_classes(pts[subset], X)
    assert np.array_equal(truth.evaluate(X, n_problems=111, seed=2), (pred == labels[subset]).sum(axis=1) / 111)
    assert np.array_equal(truth.evaluate(X, n_problems=N_FULL, seed=2), truth.evaluate(X))
    assert np.array_equal(
        truth.evaluate(X[::-1], n_problems=111, seed=2), truth.evaluate(X, n_problems=111, seed=2)[::-1]
    )


def test_fidelity_summary_describes_the_benchmark(mini_ps):
    s = fidelity_summary(mini_ps)
    assert s["range"] == [37, 1000] and s["ladder"] == [37, 111, 333, 1000]
    assert "noise model" in s["low_fidelity"]
    assert "exact" in fidelity_summary(load_benchmark("smm-mini-dfs-true"))["low_fidelity"]


def test_fidelity_check_reports_each_level():
    from smm_plugins.lab.fidelity_check import fidelity_check, format_rows

    rows = fidelity_check("ps", n_configs=30, n_seeds=2)
    assert [r.n_problems for r in rows] == [37, 111, 333]
    for r in rows:
        assert set(r.kendall) == {"truth", "model on truth", "surrogate + model"}
        assert all(-1 <= v <= 1 for v in r.kendall.values())
    assert rows[-1].kendall["truth"] > rows[0].kendall["truth"]  # more problems, closer to the full ranking
    table = format_rows(rows)
    assert table.count("\n") == 4 and "| smm-mini-ps | 111 |" in table
    with pytest.raises(ValueError, match="kind"):
        fidelity_check("xs")


# -- the one fidelity contract of every adapter: fidelity_to_n_problems ------------------------------------

#: (fidelity as a framework hands it over, problem count used) on a split of 1000 problems (range [37, 1000]).
ACCEPTED = [
    (None, 1000),  # no fidelity: the full split, the exact accuracy
    ({}, 1000),  # HPOBench: an empty fidelity dict is filled with the default, full
    (1000, 1000),
    (37, 37),  # the floor: the ladder's bottom
    (111, 111),
    (111.0, 111),  # an integral float is its integer
    (np.int64(333), 333),
    (np.float64(333.0), 333),
    (np.float32(111.0), 111),
    (1000 / 27, 37),  # Hyperband/SMAC/DEHB budgets: non-integral floats are rounded to the nearest count
    (111.11, 111),
    (118.5, 119),  # half up
    (999.6, 1000),
    ({"n_problems": 111.0}, 111),  # HPOBench / Syne Tune / hpoglue mapping
    (("n_problems", 111), 111),  # hpoglue (name, value) pair
    (("n_problems", np.float64(36.99 + 0.02)), 37),
]
#: (fidelity, text the error must hold): the same FidelityError in every adapter.
REJECTED = [
    (5, "fidelity n_problems = 5 is not allowed"),
    (36, "n_problems = 36 "),
    (36.9, "n_problems = 36.9 "),  # the range holds before rounding
    (1001, "n_problems = 1001 "),
    (1000.2, "n_problems = 1000.2 "),
    (0, "n_problems = 0 "),
    (-111, "n_problems = -111 "),
    (True, "n_problems = True "),
    (np.bool_(True), "n_problems = "),
    ("111", "n_problems = '111' "),
    (float("nan"), "n_problems = nan "),
    (float("inf"), "n_problems = inf "),
    ([111], "n_problems = [111] "),
    ({"epochs": 10}, "fidelity epochs = 10 is not allowed"),  # another fidelity name: never 10 problems
    (("epochs", 10), "fidelity epochs = 10 is not allowed"),
    ({"n_problems": 111, "epochs": 3}, "fidelity epochs = 3 "),
    ({"n_problems": 5}, "n_problems = 5 "),
    (("n_problems", "111"), "n_problems = '111' "),
]


@pytest.mark.parametrize(("fidelity", "expected"), ACCEPTED)
def test_fidelity_to_n_problems_accepts_counts_in_range_and_rounds_floats(fidelity, expected):
    n = fidelity_to_n_problems(fidelity, N_FULL)
    assert n == expected and type(n) is int


@pytest.mark.parametrize(("fidelity", "message"), REJECTED)
def test_fidelity_to_n_problems_rejects_with_one_error_naming_value_and_range(fidelity, message):
    with pytest.raises(FidelityError) as err:
        fidelity_to_n_problems(fidelity, N_FULL)
    text = str(err.value)
    assert isinstance(err.value, ValueError) and message in text
    assert "allowed: n_problems = a number of problems in [37, 1000]" in text


def test_fidelity_range_is_the_ladders_bottom_to_full_in_every_benchmark(mini_ps):
    assert fidelity_range(1000) == (37, 1000) and fidelity_range(1069) == (39, 1069)
    assert fidelity_summary(mini_ps)["range"] == list(fidelity_range(1000))  # what smm-bench info prints
    with pytest.raises(FidelityError, match=r"\[39, 1069\]"):
        fidelity_to_n_problems(38, 1069)
    assert fidelity_to_n_problems(38, 1000) == 38
