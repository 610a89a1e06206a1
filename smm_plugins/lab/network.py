"""The lab's network and its NumPy forward pass (no torch needed to evaluate a merge).

Architecture (the same for the base and both sources)::

    h_0      = x @ emb_w + emb_b                                   (embedding, D_IN -> WIDTH)
    h_{l+1}  = h_l + relu(rms(h_l) @ w1_l + b1_l) @ w2_l + b2_l     (N_BLOCKS pre-norm residual blocks)
    logits   = rms(h_L) @ head_w + head_b                           (head, WIDTH -> N_CLASSES)

with ``rms(h) = h / sqrt(mean(h**2) + EPS)`` (a gain-free RMSNorm, as in Mistral's pre-norm blocks: it
makes a scaled residual stream meaningful, which the DFS hop scales rely on). 32 blocks, as many as
Mistral-7B has decoder layers, in the committed lab; the suite also has 16-block tasks (the block count
``L`` of a :class:`LabNet` is the length of its stacked block arrays).

All arithmetic is float32. Determinism: every matrix product is one BLAS call per configuration with a
shape that does not depend on the batch, so a configuration's accuracy does not depend on what it is
batched with (tests check this bit for bit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from smm_plugins.lab.tasks import D_IN, N_CLASSES

__all__ = [
    "N_BLOCKS",
    "WIDTH",
    "INNER",
    "EPS",
    "BLOCK_KEYS",
    "LabNet",
    "rms_norm",
    "apply_block",
    "run_blocks_batched",
    "head_predictions",
]

#: Residual blocks of the committed lab (the layer count of Mistral-7B).
N_BLOCKS: int = 32
#: Width of the residual stream.
WIDTH: int = 32
#: Inner width of a block.
INNER: int = 64
#: RMSNorm epsilon.
EPS: float = 1e-5
#: Names of the per-block parameters (what merging acts on); embedding and head are never merged.
BLOCK_KEYS: tuple[str, ...] = ("w1", "b1", "w2", "b2")

_EPS32 = np.float32(EPS)


@dataclass(frozen=True)
class LabNet:
    """Parameters of one network, float32. Block arrays are stacked over the ``L`` blocks (``L >= 1``).

    Shapes: ``emb_w`` (D_IN, WIDTH), ``emb_b`` (WIDTH,), ``w1`` (L, WIDTH, INNER), ``b1`` (L, INNER),
    ``w2`` (L, INNER, WIDTH), ``b2`` (L, WIDTH), ``head_w`` (WIDTH, N_CLASSES), ``head_b`` (N_CLASSES,).
    """

    emb_w: np.ndarray
    emb_b: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    head_w: np.ndarray
    head_b: np.ndarray

    def __post_init__(self) -> None:
        n_blocks = int(np.shape(self.w1)[0]) if np.ndim(self.w1) == 3 and np.shape(self.w1)[0] > 0 else N_BLOCKS
        expect = {
            "emb_w": (D_IN, WIDTH),
            "emb_b": (WIDTH,),
            "w1": (n_blocks, WIDTH, INNER),
            "b1": (n_blocks, INNER),
            "w2": (n_blocks, INNER, WIDTH),
            "b2": (n_blocks, WIDTH),
            "head_w": (WIDTH, N_CLASSES),
            "head_b": (N_CLASSES,),
        }
        for key, shape in expect.items():
            arr = np.ascontiguousarray(getattr(self, key), dtype=np.float32)
            if arr.shape != shape:
                raise ValueError(f"LabNet.{key} has shape {arr.shape}; expected {shape} ({n_blocks} blocks, as in w1)")
            if not np.isfinite(arr).all():
                raise ValueError(f"LabNet.{key} holds non-finite values")
            arr.setflags(write=False)
            object.__setattr__(self, key, arr)

    @property
    def n_blocks(self) -> int:
        """Number of residual blocks ``L``."""
        return int(self.w1.shape[0])

    # -- (de)serialisation ----------------------------------------------------------------------
    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """``{prefix + "." + key: array}`` for an ``np.savez`` archive."""
        return {f"{prefix}.{k}": getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> LabNet:
        """Inverse of :meth:`to_arrays`; raises ``KeyError`` naming a missing array."""
        out = {}
        for k in cls.__dataclass_fields__:
            key = f"{prefix}.{k}"
            if key not in arrays:
                raise KeyError(f"array {key!r} missing from the lab weights")
            out[k] = np.asarray(arrays[key])
        return cls(**out)

    def block_params(self) -> dict[str, np.ndarray]:
        """The merged parameters: ``{"w1": ..., "b1": ..., "w2": ..., "b2": ...}`` (stacked over blocks)."""
        return {k: getattr(self, k) for k in BLOCK_KEYS}

    # -- single-network inference ---------------------------------------------------------------
    def embed(self, X: np.ndarray) -> np.ndarray:
        """Residual stream before block 0, (n, WIDTH) float32, for inputs ``X`` (n, D_IN)."""
        return np.asarray(X, dtype=np.float32) @ self.emb_w + self.emb_b

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class of each row of ``X`` (n, D_IN) by this network alone."""
        h = self.embed(X)[None]
        p = self.block_params()
        stacked = {k: v[:, None] for k, v in p.items()}  # one "configuration"
        h = run_blocks_batched(h, **stacked)
        return head_predictions(self, h)[0]


def rms_norm(h: np.ndarray) -> np.ndarray:
    """Gain-free RMSNorm over the last axis (float32 in, float32 out)."""
    ms = np.mean(np.square(h), axis=-1, keepdims=True, dtype=np.float32)
    return h / np.sqrt(ms + _EPS32)


def apply_block(h: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """One pre-norm residual block on ``h`` (..., n, WIDTH); weights broadcast over leading axes.

    ``w1`` (..., WIDTH, INNER), ``b1`` (..., 1, INNER), ``w2`` (..., INNER, WIDTH), ``b2`` (..., 1, WIDTH).
    """
    z = np.matmul(rms_norm(h), w1)
    z += b1
    np.maximum(z, 0.0, out=z)
    out = np.matmul(z, w2)
    out += b2
    out += h
    return out


def run_blocks_batched(h: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Run all blocks for a batch of C configurations.

    ``h``: (C or 1, n, WIDTH) residual stream; block weights stacked as (L, C, ...):
    ``w1`` (L, C, WIDTH, INNER), ``b1`` (L, C, INNER), ``w2`` (L, C, INNER, WIDTH), ``b2`` (L, C, WIDTH).
    Returns the residual stream after the last block, (C, n, WIDTH) float32.
    """
    n_cfg = w1.shape[1]
    h = np.ascontiguousarray(np.broadcast_to(h, (n_cfg,) + h.shape[1:]), dtype=np.float32)
    for layer in range(w1.shape[0]):
        h = apply_block(h, w1[layer], b1[layer][:, None, :], w2[layer], b2[layer][:, None, :])
    return h


def head_predictions(net: LabNet, h: np.ndarray) -> np.ndarray:
    """Predicted classes from the final residual stream ``h`` (..., n, WIDTH) through ``net``'s head."""
    logits = np.matmul(rms_norm(h), net.head_w)
    logits += net.head_b
    return logits.argmax(axis=-1)
