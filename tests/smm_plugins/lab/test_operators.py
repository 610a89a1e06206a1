"""The merge operators (hand-worked) and the operator-space benchmark ``smm-mini-op-true``."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins.lab.network import BLOCK_KEYS
from smm_plugins.lab.operator_objective import OP_NAME, OperatorTrueBenchmark, operator_space
from smm_plugins.lab.operators import (
    OPERATORS,
    dare_fields,
    dare_merge,
    linear_merge,
    slerp_merge,
    sorted_magnitudes,
    ties_merge,
)
from smm_plugins.registry import load_benchmark


def _blocks(w1: list[float], fill: float = 0.0) -> dict[str, np.ndarray]:
    """Block parameters of one 'block' whose w1 is the given vector (other keys constant)."""
    return {k: np.array([w1], dtype=np.float32) if k == "w1" else np.full((1, 2), fill, np.float32) for k in BLOCK_KEYS}


# -- the operators, hand-worked ------------------------------------------------------------------


def test_linear_is_task_arithmetic() -> None:
    base, t1, t2 = _blocks([1, 1, 1]), _blocks([1, 0, -2]), _blocks([0, 4, 2])
    out = linear_merge(base, [t1, t2], [0.5, 0.25])
    np.testing.assert_array_equal(out["w1"], [[1.5, 2.0, 0.5]])
    assert out["w1"].dtype == np.float32
    with pytest.raises(ValueError, match="weights has 1 entries for 2 task vectors"):
        linear_merge(base, [t1, t2], [1.0])


def test_slerp_is_spherical_between_orthogonal_tensors_and_linear_when_colinear() -> None:
    a, b = _blocks([1, 0, 0], fill=1.0), _blocks([0, 1, 0], fill=2.0)
    np.testing.assert_array_equal(slerp_merge(a, b, 0.0)["w1"], a["w1"])
    np.testing.assert_array_equal(slerp_merge(a, b, 1.0)["w1"], b["w1"])
    half = slerp_merge(a, b, 0.5)["w1"]
    np.testing.assert_allclose(half, [[2**-0.5, 2**-0.5, 0]], rtol=1e-6)  # on the circle, not the chord
    third = slerp_merge(a, b, 1 / 3)["w1"][0]
    assert np.degrees(np.arctan2(third[1], third[0])) == pytest.approx(30.0, abs=1e-4)  # a third of the angle
    # The biases here are colinear (constant vectors): linear interpolation, 1 + 0.5 * (2 - 1).
    np.testing.assert_allclose(slerp_merge(a, b, 0.5)["b1"], [[1.5, 1.5]])
    with pytest.raises(ValueError, match=r"t = 1.5; allowed: a number in \[0, 1\]"):
        slerp_merge(a, b, 1.5)


def test_ties_trims_elects_signs_and_takes_the_disjoint_mean() -> None:
    base = _blocks([0, 0, 0, 0])
    t1, t2 = _blocks([3, -1, 2, 0.5]), _blocks([-1, -2, 4, 0.25])
    # density 0.5: t1 keeps 3 and 2, t2 keeps -2 and 4. Summed signs: +, -, +, 0.
    # Entry 0: only t1 (3) agrees -> 3; entry 1: only t2 (-2) -> -2; entry 2: both -> (2 + 4) / 2 = 3.
    out = ties_merge(base, [t1, t2], [1.0, 1.0], 0.5)
    np.testing.assert_array_equal(out["w1"], [[3, -2, 3, 0]])
    # Weights scale the trimmed vectors before the election: 1 * 3 vs 4 * -1 at entry 0 (density 1).
    out = ties_merge(base, [t1, t2], [1.0, 4.0], 1.0)
    np.testing.assert_array_equal(out["w1"], [[-4, (-1 - 8) / 2, (2 + 16) / 2, (0.5 + 1) / 2]])
    # Precomputed magnitudes give the same merge.
    again = ties_merge(base, [t1, t2], [1.0, 4.0], 1.0, magnitudes=sorted_magnitudes([t1, t2]))
    np.testing.assert_array_equal(again["w1"], out["w1"])
    with pytest.raises(ValueError, match=r"density = 0.0; allowed: a number in \(0, 1\]"):
        ties_merge(base, [t1, t2], [1.0, 1.0], 0.0)


def test_dare_drops_with_a_fixed_nested_mask_and_rescales() -> None:
    rng = np.random.default_rng(5)
    base = {k: np.zeros((2, 300), np.float32) for k in BLOCK_KEYS}
    taus = [{k: rng.normal(size=(2, 300)).astype(np.float32) for k in BLOCK_KEYS} for _ in range(2)]
    np.testing.assert_array_equal(
        dare_merge(base, taus, [1.0, 0.5], 0.0)["w1"], linear_merge(base, taus, [1.0, 0.5])["w1"]
    )
    low, high = (dare_merge(base, taus[:1], [1.0], p)["w1"] for p in (0.3, 0.6))
    kept_low, kept_high = low != 0, high != 0
    assert np.all(kept_low >= kept_high)  # the entries kept at 0.6 are among those kept at 0.3
    assert kept_high.mean() == pytest.approx(0.4, abs=0.05)
    np.testing.assert_allclose(high[kept_high], taus[0]["w1"][kept_high] / 0.4, rtol=1e-6)
    np.testing.assert_array_equal(high, dare_merge(base, taus[:1], [1.0], 0.6, fields=dare_fields(taus[:1]))["w1"])
    with pytest.raises(ValueError, match=r"drop = 1.0; allowed: a number in \[0, 1\)"):
        dare_merge(base, taus, [1.0, 1.0], 1.0)


# -- the benchmark ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def op() -> OperatorTrueBenchmark:
    bench = load_benchmark(OP_NAME)
    assert isinstance(bench, OperatorTrueBenchmark)
    return bench


def _row(operator: str, **values: float) -> np.ndarray:
    return operator_space().to_vector({"operator": operator, **values})


def test_registered_as_an_exact_benchmark(op: OperatorTrueBenchmark) -> None:
    from smm_plugins.registry import benchmark_entry, list_benchmarks

    entry = benchmark_entry(OP_NAME)
    assert OP_NAME in list_benchmarks()
    assert entry.kind == "true" and entry.eval_seconds == op.eval_seconds > 0
    assert op.space.names == ["operator", "weight_A", "weight_B", "slerp_t", "ties_density", "dare_drop"]
    assert op.space["operator"].labels == OPERATORS and op.space.conditional
    assert op.meta["kind"] == "operator" and op.meta["source_kind"] == "true"
    assert op.n_problems_full == {"train_acc": 1000, "test_acc": 1000}
    lab = load_benchmark(OP_NAME, cost_model="lab")
    assert lab.cost(op.space.default_vector()) == pytest.approx(op.eval_seconds)


def test_operators_reduce_to_the_sources_and_to_ps(op: OperatorTrueBenchmark) -> None:
    ps = load_benchmark("smm-mini-ps-true")
    X, y = op.lab.splits["train_acc"]
    a_alone = float((op.lab.a.predict(X) == y).mean())
    assert op.evaluate(_row("slerp", slerp_t=0.0)) == a_alone
    # Linear with weights (w_A, w_B) is PS with those weights at every layer, bit for bit; so are DARE with
    # nothing dropped and TIES keeping everything of one source.
    for w_a, w_b in ((1.0, 0.0), (0.75, 0.5), (0.3, 0.9)):
        linear = op.evaluate(_row("linear", weight_A=w_a, weight_B=w_b))
        assert linear == ps.evaluate(np.r_[np.full(32, w_a), np.full(32, w_b)])
        assert op.evaluate(_row("dare", weight_A=w_a, weight_B=w_b, dare_drop=0.0)) == linear
    ties_a = op.evaluate(_row("ties", weight_A=1.0, weight_B=0.0, ties_density=1.0))
    assert ties_a == op.evaluate(_row("linear", weight_A=1.0, weight_B=0.0)) == a_alone


def test_merging_beats_every_source_alone(op: OperatorTrueBenchmark) -> None:
    # Guards the benchmark's point: the best merge is better than either source (a real merging problem).
    sources = op.evaluate_all(np.vstack([_row("slerp", slerp_t=0.0), _row("slerp", slerp_t=1.0)]))
    X = op.space.sample(48, rng=0)
    values = op.evaluate_all(X)
    best = int(np.argmax(values["train_acc"]))
    for obj in ("train_acc", "test_acc"):
        assert values[obj][best] > sources[obj].max() + 0.03
    assert values["train_acc"].max() - values["train_acc"].min() > 0.2  # not flat


def test_values_do_not_depend_on_batch_order_or_inactive_values(op: OperatorTrueBenchmark) -> None:
    X = op.space.sample(24, rng=3)  # all four operators, mixed in the batch
    full = op.evaluate(X)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(op.evaluate(X[perm]), full[perm])
    np.testing.assert_array_equal([op.evaluate(x) for x in X[:6]], full[:6])
    np.testing.assert_array_equal(op.evaluate(X), full)  # twice, the same
    assert set(X[:, 0]) == {0, 1, 2, 3}
    # Inactive columns are ignored: re-drawing them changes no value.
    active = op.space.active_mask(X)
    other = np.where(active, X, op.space.sample(len(X), rng=9))
    np.testing.assert_array_equal(op.evaluate(other), full)
    # A configuration without its inactive parameters is the same configuration.
    configs = [op.space.to_active_config(x) for x in X[:8]]
    np.testing.assert_array_equal(op.evaluate(np.vstack([op.space.to_vector(c) for c in configs])), full[:8])


def test_lower_fidelity_is_the_exact_accuracy_on_the_seeds_subset(op: OperatorTrueBenchmark) -> None:
    from smm_plugins.fidelity import problem_subset

    x = _row("ties", weight_A=1.0, weight_B=1.0, ties_density=0.4)
    X, y = op.lab.splits["train_acc"]
    subset = problem_subset(1000, 100, 7)
    pred = op._merger.predict(X[subset], x[None])[0]
    assert op.evaluate(x, n_problems=100, seed=7) == (pred == y[subset]).sum() / 100


@pytest.mark.parametrize(
    "col, value, match",
    [
        (0, 4.0, r"variable 'operator' = 4\.0 is not a valid category; allowed: one of \{'linear', 'slerp', 'ties'"),
        (1, 1.6, r"variable 'weight_A' = 1\.6 is out of range; allowed: a finite number in \[0, 1\.5\]"),
        (4, 0.0, r"variable 'ties_density' = 0\.0 is out of range; allowed: a finite number in \[0\.05, 1\]"),
    ],
)
def test_bad_configurations_are_refused(op: OperatorTrueBenchmark, col: int, value: float, match: str) -> None:
    x = op.space.default_vector()
    x[col] = value
    with pytest.raises(ValueError, match=match):
        op.evaluate(x)


def test_clip_still_refuses_an_unknown_operator_and_a_missing_active_value(op: OperatorTrueBenchmark) -> None:
    x = op.space.default_vector()
    x[0] = 7
    with pytest.raises(ValueError, match=r"'operator' = 7\.0 is not a valid category; allowed: one of 0 \(linear\)"):
        op.evaluate(x, clip=True)
    x = _row("slerp", slerp_t=0.5)
    x[3] = np.nan
    with pytest.raises(ValueError, match="non-finite active value for operator 'slerp'"):
        op.evaluate(x, clip=True)
    x[1] = np.nan  # weight_A is inactive for slerp: NaN there means "left out"
    x[3] = 0.5
    assert op.evaluate(x, clip=True) == op.evaluate(_row("slerp", slerp_t=0.5))
    with pytest.raises(ValueError, match=r"missing 1 active parameter\(s\).*\['dare_drop'\]"):
        op.space.to_vector({"operator": "dare", "weight_A": 1.0, "weight_B": 1.0})


def test_reference_configurations_are_the_sources_and_the_base(op: OperatorTrueBenchmark) -> None:
    ps = load_benchmark("smm-mini-ps-true")
    refs = op.reference_configs()
    assert {"default", "A alone", "B alone", "base"} <= set(refs)
    ps_refs = ps.reference_configs()
    for label in ("A alone", "B alone", "base"):  # the same merges as the PS space's references
        assert op.evaluate(refs[label]) == ps.evaluate(ps_refs[label])
