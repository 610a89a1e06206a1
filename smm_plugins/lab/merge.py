"""The two merge operators of the lab: parameter space (PS) and data-flow space (DFS).

PS, layer-wise task arithmetic (64 weights in [0, 1], model-major: ``w_A_00..w_A_31, w_B_00..w_B_31``)::

    theta_l = theta_base,l + w_A,l * (theta_A,l - theta_base,l) + w_B,l * (theta_B,l - theta_base,l)

for every block parameter (w1, b1, w2, b2) of block l; embedding and head are the base's (A and B never
changed them).

DFS (32 layer choices in {0, 1, 2}, then 63 hop scales in [0.4, 1.5]): the inference path visits the
layer indices l = 0..31 in order; choice 0 adds block l of A, 1 adds block l of B, 2 adds block l of A
then block l of B. The path has 32..64 hops. Hop k (k = 1, 2, ... in path order) receives the residual
stream ``h``; hops k >= 2 receive ``scale_{k-2} * h`` instead (scale_00 scales the input of the second
hop). Scales beyond the path's length (index >= hops - 1) are inactive. Embedding and head are the base's.
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
    """Layer-wise task arithmetic of ``a`` and ``b`` onto ``base``, batched over configurations."""

    def __init__(self, base: LabNet, a: LabNet, b: LabNet) -> None:
        self.base = base
        self._theta = base.block_params()
        self._tau_a = {k: (getattr(a, k) - self._theta[k]).astype(np.float32) for k in BLOCK_KEYS}
        self._tau_b = {k: (getattr(b, k) - self._theta[k]).astype(np.float32) for k in BLOCK_KEYS}

    def merged_blocks(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Block parameters of each configuration, stacked (L, C, ...), float32.

        ``weights``: (C, 2 * N_BLOCKS), model-major (all of A's layer weights, then B's), in [0, 1].
        """
        w = np.asarray(weights, dtype=np.float32)
        if w.ndim != 2 or w.shape[1] != 2 * N_BLOCKS:
            raise ValueError(f"weights must have shape (C, {2 * N_BLOCKS}); got {w.shape}")
        w_a = np.ascontiguousarray(w[:, :N_BLOCKS].T)  # (L, C)
        w_b = np.ascontiguousarray(w[:, N_BLOCKS:].T)
        out = {}
        for k in BLOCK_KEYS:
            extra = (None,) * (self._theta[k].ndim - 1)
            base = self._theta[k][:, None]
            ta, tb = self._tau_a[k][:, None], self._tau_b[k][:, None]
            out[k] = base + w_a[(...,) + extra] * ta + w_b[(...,) + extra] * tb
        return out

    def predict(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Predicted classes (C, n) of the merged models for inputs ``X`` (n, D_IN)."""
        blocks = self.merged_blocks(weights)
        h = run_blocks_batched(self.base.embed(X)[None], **blocks)
        return head_predictions(self.base, h)


def dfs_predict(base: LabNet, a: LabNet, b: LabNet, X: np.ndarray, configs: np.ndarray) -> np.ndarray:
    """Predicted classes (C, n) of the DFS merges ``configs`` (C, 32 + 63) for inputs ``X`` (n, D_IN)."""
    configs = np.asarray(configs, dtype=np.float64)
    if configs.ndim != 2 or configs.shape[1] != N_BLOCKS + N_SCALES:
        raise ValueError(f"configs must have shape (C, {N_BLOCKS + N_SCALES}); got {configs.shape}")
    blocks = [m.block_params() for m in (a, b)]
    h0 = base.embed(X)
    out = np.empty((configs.shape[0], h0.shape[0]), dtype=np.int64)
    for c, row in enumerate(configs):
        scales = row[N_BLOCKS:].astype(np.float32)
        h = h0
        for hop, (model, layer) in enumerate(dfs_path(row[:N_BLOCKS])):
            if hop > 0:
                h = h * scales[hop - 1]
            p = blocks[model]
            h = apply_block(h, p["w1"][layer], p["b1"][layer][None], p["w2"][layer], p["b2"][layer][None])
        out[c] = head_predictions(base, h)
    return out
