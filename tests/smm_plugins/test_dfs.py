"""The one home of DFS semantics: the path a configuration encodes, its hop count, its layout, the space test."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins import cost
from smm_plugins.dfs import (
    check_layer_codes,
    dfs_hops,
    dfs_layers,
    hop_counts,
    inference_path,
    is_dfs_space,
    path_layout,
)
from smm_plugins.space import Parameter, SearchSpace, dfs_space, ps_space


def test_inference_path_of_a_small_configuration() -> None:
    # Layer 0 from A, layer 1 from both (A's block, then B's), layer 2 from B.
    assert inference_path(np.array([0, 2, 1])) == [(0, 0), (0, 1), (1, 1), (1, 2)]
    assert inference_path(np.array([2.0, 2.0])) == [(0, 0), (1, 0), (0, 1), (1, 1)]


def test_inference_path_names_the_bad_layer() -> None:
    with pytest.raises(ValueError, match=r"layer_02 = 3 is not a valid DFS choice; allowed: one of \{0, 1, 2\}"):
        inference_path(np.array([0, 1, 3, 0]))


@pytest.mark.parametrize("n_layers", [1, 4, 32])
def test_hops_and_layout_agree_with_the_path(n_layers: int) -> None:
    space = dfs_space(n_layers=n_layers)
    X = space.sample(200, rng=n_layers)
    X[0, :n_layers], X[1, :n_layers] = 0, 2
    layout = path_layout(X, n_layers)
    hops = hop_counts(X[:, :n_layers])
    assert hops.dtype == np.int64 and (hops[0], hops[1]) == (n_layers, 2 * n_layers)
    np.testing.assert_array_equal(hops, layout.hops)
    np.testing.assert_array_equal(dfs_hops(X, space), hops)
    for r in range(len(X)):
        path = inference_path(X[r, :n_layers])
        assert len(path) == hops[r]
        for k, (model, layer) in enumerate(path):
            on, at = (layout.on_a, layout.hop_a) if model == 0 else (layout.on_b, layout.hop_b)
            assert on[r, layer] and at[r, layer] == k
        assert layout.on_a[r].sum() + layout.on_b[r].sum() == len(path)
        # prefix[:, k] sums the first k log scales: the scale of hop k + 1 is the k-th.
        np.testing.assert_allclose(layout.prefix[r, 1:], np.cumsum(np.log(X[r, n_layers:])), rtol=0, atol=1e-12)


def test_dfs_hops_validates_and_needs_a_dfs_space() -> None:
    space = dfs_space()
    row = space.default_vector()
    assert dfs_hops(row, space).tolist() == [32]
    bad = row.copy()
    bad[3] = 5
    with pytest.raises(ValueError, match="layer_03"):
        dfs_hops(bad, space)
    with pytest.raises(ValueError, match=r"'ps' is not a DFS space; hops are defined for DFS only"):
        dfs_hops(ps_space("ps").default_vector(), ps_space("ps"))


def test_space_tests() -> None:
    assert is_dfs_space(dfs_space()) and not is_dfs_space(ps_space())
    assert dfs_layers(dfs_space(n_layers=5)) == 5
    with pytest.raises(ValueError, match=r"'ps' .* is not a DFS space"):
        dfs_layers(ps_space("ps"))
    odd = SearchSpace(
        "odd",
        [
            Parameter("layer_00", "categorical", choices=(0, 1), default=0),
            Parameter("s", "float", lower=0.4, upper=1, default=1),
        ],
    )
    with pytest.raises(ValueError, match=r"variable 'layer_00' must be a layer code with choices \{0, 1, 2\}"):
        dfs_layers(odd)


def test_check_layer_codes_names_the_column() -> None:
    codes = np.array([[0.0, 1.0], [2.0, 0.5]])
    with pytest.raises(ValueError, match=r"b = 0.5 in row 1 is not allowed; allowed: 0, 1 or 2"):
        check_layer_codes(codes, ["a", "b"])
    with pytest.raises(ValueError, match=r"layer code in column 1 = 0.5 in row 1"):
        check_layer_codes(codes)
    check_layer_codes(np.array([[0.0, 1.0, 2.0]]))


def test_old_import_places_are_the_same_functions() -> None:
    from smm_plugins.lab.merge import dfs_path

    assert cost.dfs_hops is dfs_hops and cost.is_dfs_space is is_dfs_space
    assert dfs_path is inference_path
