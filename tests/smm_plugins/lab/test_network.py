"""The lab's network and merge operators: shapes, exactness, batch invariance, DFS path semantics."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins.lab.merge import N_SCALES, PSMerger, dfs_path, dfs_predict
from smm_plugins.lab.network import N_BLOCKS, LabNet, rms_norm
from smm_plugins.lab.objectives import load_lab


@pytest.fixture(scope="module")
def lab():
    return load_lab()


@pytest.fixture(scope="module")
def pts(lab):
    X, y = lab.splits["train_acc"]
    return X[:200], y[:200]


def test_labnet_rejects_wrong_shapes_and_round_trips(lab):
    arrays = lab.base.to_arrays("base")
    again = LabNet.from_arrays(arrays, "base")
    assert all(np.array_equal(getattr(again, k), getattr(lab.base, k)) for k in ("w1", "b2", "head_w"))
    bad = dict(arrays)
    bad["base.w1"] = bad["base.w1"][:-1]
    with pytest.raises(ValueError, match="w1"):
        LabNet.from_arrays(bad, "base")
    with pytest.raises(KeyError, match="A.emb_w"):
        LabNet.from_arrays(arrays, "A")
    assert lab.base.w1.dtype == np.float32 and not lab.base.w1.flags.writeable


def test_rms_norm_is_scale_invariant_and_unit_rms():
    h = np.random.default_rng(0).standard_normal((5, 32)).astype(np.float32)
    r = rms_norm(h)
    np.testing.assert_allclose(np.sqrt((r**2).mean(-1)), 1.0, rtol=1e-4)
    np.testing.assert_allclose(rms_norm(3.0 * h), r, rtol=1e-5, atol=1e-6)


def test_ps_endpoints_reproduce_the_networks(lab, pts):
    X, _ = pts
    m = PSMerger(lab.base, lab.a, lab.b)
    W = np.zeros((3, 2 * N_BLOCKS))
    W[1, :N_BLOCKS] = 1.0
    W[2, N_BLOCKS:] = 1.0
    blocks = m.merged_blocks(W)
    # Merged blocks are (L, C, ...): config 1 is A, config 2 is B (up to float32 rounding of base + tau).
    np.testing.assert_array_equal(blocks["w1"][:, 0], lab.base.w1)
    np.testing.assert_allclose(blocks["w1"][:, 1], lab.a.w1, atol=1e-6)
    np.testing.assert_allclose(blocks["b2"][:, 2], lab.b.b2, atol=1e-6)
    pred = m.predict(X, W)
    np.testing.assert_array_equal(pred[0], lab.base.predict(X))
    for got, net in ((pred[1], lab.a), (pred[2], lab.b)):
        assert (got == net.predict(X)).mean() >= 0.99


def test_ps_weights_are_model_major_and_layerwise(lab):
    m = PSMerger(lab.base, lab.a, lab.b)
    W = np.zeros((1, 2 * N_BLOCKS))
    W[0, 5] = 1.0  # w_A_05 only
    blocks = m.merged_blocks(W)
    changed = [b for b in range(N_BLOCKS) if not np.array_equal(blocks["w1"][b, 0], lab.base.w1[b])]
    assert changed == [5]
    with pytest.raises(ValueError, match="shape"):
        m.merged_blocks(np.zeros((2, 63)))


def test_batching_does_not_change_any_prediction(lab, pts):
    X, _ = pts
    m = PSMerger(lab.base, lab.a, lab.b)
    W = np.random.default_rng(1).random((5, 2 * N_BLOCKS))
    together = m.predict(X, W)
    alone = np.stack([m.predict(X, W[i : i + 1])[0] for i in range(5)])
    np.testing.assert_array_equal(together, alone)


def test_dfs_path_mapping():
    codes = np.array([0, 1, 2] + [0] * (N_BLOCKS - 3))
    path = dfs_path(codes)
    assert path[:4] == [(0, 0), (1, 1), (0, 2), (1, 2)] and len(path) == N_BLOCKS + 1
    assert len(dfs_path(np.full(N_BLOCKS, 2))) == 2 * N_BLOCKS == N_SCALES + 1
    with pytest.raises(ValueError, match="layer_04"):
        dfs_path(np.array([0, 0, 0, 0, 7] + [0] * (N_BLOCKS - 5)))


def test_dfs_all_a_path_is_model_a_and_scales_act_only_inside_the_path(lab, pts):
    X, _ = pts
    all_a = np.r_[np.zeros(N_BLOCKS), np.ones(N_SCALES)]
    np.testing.assert_array_equal(dfs_predict(lab.base, lab.a, lab.b, X, all_a[None])[0], lab.a.predict(X))
    # 32 hops: scales 0..30 are active, 31..62 inactive.
    inactive = all_a.copy()
    inactive[N_BLOCKS + 31 :] = 0.4
    active = all_a.copy()
    active[N_BLOCKS : N_BLOCKS + 31] = 0.4
    p = dfs_predict(lab.base, lab.a, lab.b, X, np.stack([all_a, inactive, active]))
    np.testing.assert_array_equal(p[0], p[1])
    assert (p[0] != p[2]).mean() > 0.05
