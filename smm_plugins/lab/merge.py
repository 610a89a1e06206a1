"""The two merge operators of the lab: parameter space (PS) and data-flow space (DFS).

PS, layer-wise task arithmetic (64 weights in [0, 1], model-major: ``w_A_00..w_A_31, w_B_00..w_B_31``)::

    theta_l = theta_base,l + w_A,l * (theta_A,l - theta_base,l) + w_B,l * (theta_B,l - theta_base,l)

for every block parameter (w1, b1, w2, b2) of block l; embedding and head are the base's (A and B never
changed them). With ``n`` sources (the suite's three-source task) the sum runs over all of them and the
weights are model-major over ``n * L`` entries; ``L`` is the networks' block count (16 or 32).

DFS (L = 32 layer choices in {0, 1, 2}, then 2L - 1 = 63 hop scales in [0.4, 1.5]; two models): the
inference path visits the layer indices l = 0..L-1 in order; choice 0 adds block l of A, 1 adds block l
of B, 2 adds block l of A then block l of B. The path has L..2L hops. Hop k (k = 1, 2, ... in path
order) receives the residual stream ``h``; hops k >= 2 receive ``scale_{k-2} * h`` instead (scale_00
scales the input of the second hop). Scales beyond the path's length (index >= hops - 1) are inactive.
Embedding and head are the base's.
The path rule itself is :func:`smm_plugins.dfs.inference_path` (re-exported here as :func:`dfs_path`).
"""

from __future__ import annotations

import numpy as np

from smm_plugins.dfs import inference_path as dfs_path  # re-exported: the path rule lives in smm_plugins.dfs
from smm_plugins.lab.network import BLOCK_KEYS, N_BLOCKS, LabNet, apply_block, head_predictions, run_blocks_batched

__all__ = ["PSMerger", "dfs_path", "dfs_predict", "N_SCALES"]

#: Number of DFS hop scales (a path has at most 2 * N_BLOCKS hops, the first is never scaled).
N_SCALES: int = 2 * N_BLOCKS - 1


class PSMerger:
    """Layer-wise task arithmetic of the sources ``a``, ``b`` (and ``more``) onto ``base``, batched."""

    def __init__(self, base: LabNet, a: LabNet, b: LabNet, *more: LabNet) -> None:
        self.base = base
        self.n_blocks = base.n_blocks
        self._theta = base.block_params()
        self._taus = [
            {k: (getattr(m, k) - self._theta[k]).astype(np.float32) for k in BLOCK_KEYS} for m in (a, b, *more)
        ]
        for i, m in enumerate((a, b, *more)):
            if m.n_blocks != self.n_blocks:
                raise ValueError(f"source {i} has {m.n_blocks} blocks; the base has {self.n_blocks}")

    @property
    def n_sources(self) -> int:
        """Number of merged source models."""
        return len(self._taus)

    def merged_blocks(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Block parameters of each configuration, stacked (L, C, ...), float32.

        ``weights``: (C, n_sources * L), model-major (all of A's layer weights, then B's, ...), in [0, 1].
        """
        w = np.asarray(weights, dtype=np.float32)
        n, L = self.n_sources, self.n_blocks
        if w.ndim != 2 or w.shape[1] != n * L:
            raise ValueError(f"weights must have shape (C, {n * L}); got {w.shape}")
        w_src = [np.ascontiguousarray(w[:, i * L : (i + 1) * L].T) for i in range(n)]  # (L, C) each
        out = {}
        for k in BLOCK_KEYS:
            extra = (None,) * (self._theta[k].ndim - 1)
            merged = self._theta[k][:, None]
            # Left to right, one source at a time: for two sources exactly base + w_A tau_A + w_B tau_B.
            for w_i, tau in zip(w_src, self._taus, strict=True):
                merged = merged + w_i[(...,) + extra] * tau[k][:, None]
            out[k] = merged
        return out

    def predict(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Predicted classes (C, n) of the merged models for inputs ``X`` (n, D_IN)."""
        blocks = self.merged_blocks(weights)
        h = run_blocks_batched(self.base.embed(X)[None], **blocks)
        return head_predictions(self.base, h)


def dfs_predict(base: LabNet, a: LabNet, b: LabNet, X: np.ndarray, configs: np.ndarray) -> np.ndarray:
    """Predicted classes (C, n) of the DFS merges ``configs`` (C, L + 2L - 1) for inputs ``X`` (n, D_IN)."""
    configs = np.asarray(configs, dtype=np.float64)
    L = a.n_blocks
    if configs.ndim != 2 or configs.shape[1] != 3 * L - 1:
        raise ValueError(f"configs must have shape (C, {3 * L - 1}); got {configs.shape}")
    blocks = [m.block_params() for m in (a, b)]
    h0 = base.embed(X)
    out = np.empty((configs.shape[0], h0.shape[0]), dtype=np.int64)
    for c, row in enumerate(configs):
        scales = row[L:].astype(np.float32)
        h = h0
        for hop, (model, layer) in enumerate(dfs_path(row[:L])):
            if hop > 0:
                h = h * scales[hop - 1]
            p = blocks[model]
            h = apply_block(h, p["w1"][layer], p["b1"][layer][None], p["w2"][layer], p["b2"][layer][None])
        out[c] = head_predictions(base, h)
    return out
