"""Named, versioned feature maps: raw configurations -> the inputs a surrogate's boosters were trained on.

A benchmark directory may declare one in ``features.json`` (``{"name": "dfs-path", "version": 1}``); the
benchmark then applies it to every validated raw configuration before its boosters predict. Users,
optimisers, validation and every adapter keep passing raw configurations. Maps are built-in functions
looked up by name and version (nothing is unpickled); a directory naming an unknown map is an error
naming it and the maps that exist.

Built-in maps (DFS spaces: ``L`` layer codes in {0, 1, 2}, then ``2L - 1`` hop scales > 0):

``dfs-path``
    the raw inputs, then for each of the ``2L`` blocks (A_l, B_l) the log of its weight in the final
    residual stream, ``log w_k = sum_{i=k-1}^{H-2} log scale_i`` for the block at hop ``k`` of a path of
    ``H`` hops (0 for the last hop, NaN for a block off the path), then ``H``, the total log-scale
    (the embedding's weight) and ``logsumexp`` of the blocks' log-weights. Which scale multiplies which
    block depends on every earlier layer code; the raw encoding hides that from the trees.
``dfs-path-rel``
    ``dfs-path`` plus each block's relative log-weight ``log w_k - logsumexp_j log w_j`` (the head reads
    a normalised stream, so only relative weights matter).
``dfs-path-ctx``
    ``dfs-path-rel`` plus what each block reads: a block normalises its input stream, which holds the
    embedding and every earlier block's update, each multiplied by the scales applied since. For the block
    at hop ``k`` (``P_k = sum_{i<k} log scale_i``, ``Z_k = logsumexp(0, -P_0, ..., -P_{k-1})``): the
    log-share of the embedding in its input, ``-Z_k``, and of the previous block's update,
    ``-P_{k-1} - Z_k`` (NaN at hop 0 and off the path); then the embedding's log-share in the final
    stream, ``-Z_H``. Shares count every update with the same norm.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from smm_plugins.dfs import PathLayout, check_layer_codes, dfs_layers, path_layout
from smm_plugins.space import SearchSpace

__all__ = ["FeatureMap", "get_feature_map", "list_feature_maps", "dfs_path_log_weights", "dfs_input_shares"]

_MODELS = ("A", "B")


@dataclass(frozen=True)
class FeatureMap:
    """A named, versioned map from raw configurations (validated rows of a space) to model inputs."""

    name: str
    version: int
    description: str
    _check: Callable[[SearchSpace], None]
    _names: Callable[[SearchSpace], list[str]]
    _apply: Callable[[np.ndarray, SearchSpace], np.ndarray]

    @property
    def key(self) -> str:
        """``"name@version"``, as listed in errors and ``build_info.json``."""
        return f"{self.name}@{self.version}"

    def check_space(self, space: SearchSpace) -> None:
        """Raise ``ValueError`` naming the first variable of ``space`` this map cannot take."""
        self._check(space)

    def output_names(self, space: SearchSpace) -> list[str]:
        """Names of the model inputs, in column order (raw names first where the map keeps them)."""
        self._check(space)
        return self._names(space)

    def categorical_outputs(self, space: SearchSpace) -> list[int]:
        """Output columns that are the space's categorical variables passed through (LightGBM categoricals)."""
        outputs = {n: i for i, n in enumerate(self.output_names(space))}
        return [outputs[p.name] for p in space.parameters if p.kind == "categorical" and p.name in outputs]

    def transform(self, X: np.ndarray, space: SearchSpace) -> np.ndarray:
        """Model inputs (n, n_outputs) float64 of raw rows ``X`` (n, space.dim), already validated."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != space.dim:
            raise ValueError(f"X must have shape (n, {space.dim}) for feature map {self.key}; got {X.shape}")
        # The space check walks every parameter; a surrogate calls this once per evaluation with one space.
        if _CHECKED.get((self.key, id(space))) is not space:
            self._check(space)
            _CHECKED[(self.key, id(space))] = space
        return self._apply(X, space)


#: Spaces each map has checked, by (map key, id); weak, so an entry dies with its space and an id is never reused.
_CHECKED: weakref.WeakValueDictionary[tuple[str, int], SearchSpace] = weakref.WeakValueDictionary()


# -- DFS path features -----------------------------------------------------------------------------


def dfs_path_log_weights(
    X: np.ndarray, n_layers: int, names: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Path structure of DFS rows: (log-weights (n, 2L), hops H (n,), total log-scale (n,)).

    Column ``m * L + l`` is block ``l`` of model ``m`` (A = 0, B = 1); NaN where the block is off the
    path. Hop ``k`` (1-based) of a path receives ``scale_{k-2} * h``, so the update of the block at hop
    ``k`` ends up multiplied by ``scale_{k-1} ... scale_{H-2}``. ``names`` (of X's columns) are used in
    the error for a layer code outside {0, 1, 2}.
    """
    return _log_weights(_checked_layout(X, n_layers, names))


def _log_weights(layout: PathLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, n_layers = layout.on_a.shape
    rows = np.arange(n)[:, None]
    total = layout.prefix[np.arange(n), layout.hops - 1]
    log_w = np.full((n, 2 * n_layers), np.nan)
    log_w[:, :n_layers] = np.where(layout.on_a, total[:, None] - layout.prefix[rows, layout.hop_a], np.nan)
    log_w[:, n_layers:] = np.where(layout.on_b, total[:, None] - layout.prefix[rows, layout.hop_b], np.nan)
    return log_w, layout.hops, total


def _checked_layout(X: np.ndarray, n_layers: int, names: Sequence[str] | None) -> PathLayout:
    """The path layout of rows whose layer codes are checked first (the error names the column)."""
    check_layer_codes(X[:, :n_layers], names)
    return path_layout(X, n_layers)


def _logsumexp_rows(log_w: np.ndarray) -> np.ndarray:
    top = np.nanmax(log_w, axis=1)
    return top + np.log(np.nansum(np.exp(log_w - top[:, None]), axis=1))


def _dfs_block_names(space: SearchSpace, prefix: str) -> list[str]:
    n_layers = dfs_layers(space)
    return [f"{prefix}_{m}_{layer:02d}" for m in _MODELS for layer in range(n_layers)]


def _dfs_path_names(space: SearchSpace) -> list[str]:
    return space.names + _dfs_block_names(space, "logw") + ["n_hops", "log_scale_total", "log_weight_lse"]


def _dfs_path(X: np.ndarray, space: SearchSpace) -> np.ndarray:
    log_w, hops, total = dfs_path_log_weights(X, space.n_categorical, space.names)
    return np.column_stack([X, log_w, hops.astype(np.float64), total, _logsumexp_rows(log_w)])


def _dfs_path_rel_names(space: SearchSpace) -> list[str]:
    return _dfs_path_names(space) + _dfs_block_names(space, "relw")


def _dfs_path_rel(X: np.ndarray, space: SearchSpace) -> np.ndarray:
    return _path_rel_columns(X, _checked_layout(X, space.n_categorical, space.names))


def _path_rel_columns(X: np.ndarray, layout: PathLayout) -> np.ndarray:
    log_w, hops, total = _log_weights(layout)
    lse = _logsumexp_rows(log_w)
    return np.column_stack([X, log_w, hops.astype(np.float64), total, lse, log_w - lse[:, None]])


def dfs_input_shares(X: np.ndarray, n_layers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What each block of DFS rows reads: (embedding log-share (n, 2L), previous-update log-share (n, 2L),
    embedding log-share of the final stream (n,)).

    Columns as in :func:`dfs_path_log_weights` (``m * L + l``: block ``l`` of model ``m``), NaN off the path;
    the previous-update share is NaN at hop 0. ``X`` must hold valid layer codes (see
    :func:`dfs_path_log_weights`).
    """
    return _input_shares(path_layout(X, n_layers))


def _input_shares(layout: PathLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, n_layers = layout.on_a.shape
    prefix = layout.prefix
    # Z[:, k] = logsumexp(0, -P_0, ..., -P_{k-1}): the normaliser of hop k's input, k = 0 .. 2L.
    z = np.logaddexp.accumulate(np.column_stack([np.zeros(n), -prefix]), axis=1)
    emb = -z[:, :-1]
    prev = np.full_like(emb, np.nan)
    prev[:, 1:] = -prefix[:, :-1] - z[:, 1:-1]
    rows = np.arange(n)[:, None]
    hop_b = np.minimum(layout.hop_b, 2 * n_layers - 1)
    emb_share = np.column_stack(
        [np.where(layout.on_a, emb[rows, layout.hop_a], np.nan), np.where(layout.on_b, emb[rows, hop_b], np.nan)]
    )
    prev_share = np.column_stack(
        [np.where(layout.on_a, prev[rows, layout.hop_a], np.nan), np.where(layout.on_b, prev[rows, hop_b], np.nan)]
    )
    return emb_share, prev_share, -z[np.arange(n), layout.hops]


def _dfs_path_ctx_names(space: SearchSpace) -> list[str]:
    return (
        _dfs_path_rel_names(space)
        + _dfs_block_names(space, "inemb")
        + _dfs_block_names(space, "inprev")
        + ["final_embedding_share"]
    )


def _dfs_path_ctx(X: np.ndarray, space: SearchSpace) -> np.ndarray:
    layout = _checked_layout(X, space.n_categorical, space.names)
    emb_share, prev_share, final = _input_shares(layout)
    return np.column_stack([_path_rel_columns(X, layout), emb_share, prev_share, final])


def _check_dfs(space: SearchSpace) -> None:
    dfs_layers(space)


_MAPS: dict[tuple[str, int], FeatureMap] = {
    (m.name, m.version): m
    for m in (
        FeatureMap(
            "dfs-path",
            1,
            "raw DFS inputs + per-block log-weights on the inference path, hop count, total and logsumexp",
            _check_dfs,
            _dfs_path_names,
            _dfs_path,
        ),
        FeatureMap(
            "dfs-path-rel",
            1,
            "dfs-path + per-block log-weights relative to the path's logsumexp",
            _check_dfs,
            _dfs_path_rel_names,
            _dfs_path_rel,
        ),
        FeatureMap(
            "dfs-path-ctx",
            1,
            "dfs-path-rel + each block's input mix: log-shares of the embedding and of the previous update",
            _check_dfs,
            _dfs_path_ctx_names,
            _dfs_path_ctx,
        ),
    )
}


def list_feature_maps() -> list[str]:
    """Every built-in feature map as ``"name@version"``."""
    return [_MAPS[k].key for k in sorted(_MAPS)]


def get_feature_map(name: str, version: int | None = None) -> FeatureMap:
    """The built-in feature map ``name`` (its newest version unless ``version`` is given).

    Raises ``ValueError`` naming the unknown name or version and the maps that exist.
    """
    versions = sorted(v for n, v in _MAPS if n == name)
    if not versions:
        raise ValueError(f"feature map {name!r} is not known; allowed: {', '.join(list_feature_maps())}")
    if version is None:
        version = versions[-1]
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)) or int(version) not in versions:
        raise ValueError(
            f"feature map {name!r} has no version {version!r}; allowed: {', '.join(map(str, versions))} "
            "(a newer smm-plugins may know it)"
        )
    return _MAPS[(name, int(version))]
