"""The data-flow space (DFS): which configurations are DFS, and the inference path a configuration encodes.

A DFS configuration holds ``L`` layer codes in {0, 1, 2}, then ``2L - 1`` hop scales > 0. The inference
path visits the layer indices ``l = 0 .. L-1`` in order; code 0 adds block ``l`` of model A, code 1 adds
block ``l`` of model B, code 2 adds block ``l`` of A, then block ``l`` of B. A path has ``L .. 2L`` hops;
hop ``k`` (1-based) receives ``scale_{k-2} * h`` for ``k >= 2`` (the first hop is never scaled) and scales
with index ``>= hops - 1`` are inactive.

This module is the one home of that rule: the cost model (hops), the feature maps (path layout) and the
merge lab (the path itself) use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from smm_plugins.space import DFS_CHOICES, SearchSpace

__all__ = [
    "PathLayout",
    "check_layer_codes",
    "dfs_hops",
    "dfs_layers",
    "hop_counts",
    "inference_path",
    "is_dfs_space",
    "path_layout",
]

#: Layer codes: model A's block only, model B's block only, both (A's then B's).
_A_ONLY, _B_ONLY, _BOTH = DFS_CHOICES


def is_dfs_space(space: SearchSpace) -> bool:
    """True if ``space`` is a data-flow (DFS) space: metadata kind ``"dfs"``."""
    return str(space.metadata.get("kind", "")).lower() == "dfs"


def dfs_layers(space: SearchSpace) -> int:
    """Number of layers ``L`` of a space laid out as DFS: ``L`` layer codes in {0, 1, 2}, then ``2L - 1`` scales > 0.

    Raises ``ValueError`` naming the space, or the first variable, that does not fit that layout.
    """
    n_layers = space.n_categorical
    params = space.parameters
    if n_layers == 0 or space.dim != 3 * n_layers - 1:
        raise ValueError(
            f"search space {space.name!r} ({space.dim} variables, {n_layers} categorical) is not a DFS space; "
            "the dfs-path feature maps need L layer codes in {0, 1, 2} followed by 2L - 1 hop scales"
        )
    for p in params[:n_layers]:
        if p.kind != "categorical" or set(p.choices or ()) != set(DFS_CHOICES):
            raise ValueError(f"variable {p.name!r} must be a layer code with choices {{0, 1, 2}} for dfs-path")
    for p in params[n_layers:]:
        if p.kind != "float" or p.lower is None or p.lower <= 0:
            raise ValueError(f"variable {p.name!r} must be a hop scale with a lower bound > 0 for dfs-path")
    return n_layers


def check_layer_codes(codes: np.ndarray, names: Sequence[str] | None = None) -> None:
    """Raise ``ValueError`` naming the first entry of ``codes`` (n, L) outside {0, 1, 2}, by ``names`` if given."""
    bad = ~np.isin(codes, np.asarray(DFS_CHOICES, dtype=np.float64))
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        where = names[c] if names is not None else f"layer code in column {c}"
        raise ValueError(f"{where} = {float(codes[r, c])!r} in row {r} is not allowed; allowed: 0, 1 or 2")


def _on_path(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(uses_a, uses_b)``, bool arrays shaped like ``codes``: block A_l / B_l is on the path."""
    return codes != _B_ONLY, codes != _A_ONLY


def hop_counts(codes: np.ndarray) -> np.ndarray:
    """Hops ``H`` (``L .. 2L``) of the paths of valid layer codes ``codes`` (n, L): an int64 array (n,)."""
    uses_a, uses_b = _on_path(codes)
    return (uses_a.astype(np.int64) + uses_b).sum(axis=1)


def dfs_hops(X: Any, space: SearchSpace) -> np.ndarray:
    """Number of hops (decoder layers traversed) of each DFS configuration, an int array of shape (n,).

    Per layer index l, choice 0 (model A's layer) or 1 (model B's) is one hop, 2 (both, A's then B's) is
    two hops; so 32 layer variables give 32-64 hops. ``X`` holds rows in model-input order (1-D for one
    configuration) and is validated strictly against ``space``.
    """
    if not is_dfs_space(space):
        raise ValueError(f"search space {space.name!r} is not a DFS space; hops are defined for DFS only")
    return hop_counts(space.validate(X)[:, space.is_categorical])


class PathLayout(NamedTuple):
    """Where each block of DFS rows sits on the inference path (all arrays have n rows)."""

    on_a: np.ndarray  #: (n, L) bool, A_l on the path
    on_b: np.ndarray  #: (n, L) bool, B_l on the path
    hops: np.ndarray  #: (n,) int, path length H
    hop_a: np.ndarray  #: (n, L) int, 0-based hop of A_l (meaningful only where on_a)
    hop_b: np.ndarray  #: (n, L) int, 0-based hop of B_l (meaningful only where on_b)
    prefix: np.ndarray  #: (n, 2L) float, prefix[:, k] = sum of the first k log hop scales


def path_layout(X: np.ndarray, n_layers: int) -> PathLayout:
    """The path layout of DFS rows ``X`` (n, 3L - 1) with valid layer codes (see :func:`check_layer_codes`)."""
    codes = X[:, :n_layers]
    on_a, on_b = _on_path(codes)
    hops_per_layer = on_a.astype(np.int64) + on_b
    hop_a = np.cumsum(hops_per_layer, axis=1) - hops_per_layer  # hops before layer l
    hop_b = hop_a + on_a  # B_l follows A_l at a layer coded 2
    prefix = np.zeros((X.shape[0], 2 * n_layers), dtype=np.float64)
    np.cumsum(np.log(X[:, n_layers : 3 * n_layers - 1]), axis=1, out=prefix[:, 1:])
    return PathLayout(on_a, on_b, hops_per_layer.sum(axis=1), hop_a, hop_b, prefix)


def inference_path(codes: np.ndarray) -> list[tuple[int, int]]:
    """The inference path of one DFS configuration: ``[(model, layer), ...]`` in hop order, model 0 = A, 1 = B.

    ``codes``: the ``L`` layer codes in {0, 1, 2} (2 = A's block then B's block at that layer index).
    Raises ``ValueError`` naming the first layer whose code is not allowed.
    """
    layer_codes = np.asarray(codes).astype(np.int64)
    for layer, c in enumerate(layer_codes.tolist()):
        if c not in DFS_CHOICES:
            raise ValueError(f"layer_{layer:02d} = {c!r} is not a valid DFS choice; allowed: one of {{0, 1, 2}}")
    uses_a, uses_b = _on_path(layer_codes)
    path: list[tuple[int, int]] = []
    for layer in range(layer_codes.shape[0]):
        if uses_a[layer]:
            path.append((0, layer))
        if uses_b[layer]:
            path.append((1, layer))
    return path
