"""The merge operators of the field on the lab's block parameters: linear, SLERP, TIES and DARE.

Every function is pure: it takes block parameters ``{"w1", "b1", "w2", "b2"}`` stacked over the L blocks
(see :meth:`smm_plugins.lab.network.LabNet.block_params`) and returns the merged ones (float32, same
shapes). A *tensor* is one key of one block (``w1`` of block 3, ...); SLERP's angle and TIES' trimming are
per tensor. Task vectors are ``tau_m = theta_m - theta_base``. Definitions (standard; see
docs/operators.md for the sources):

* **linear** (task arithmetic): ``theta = theta_base + sum_m w_m tau_m``.
* **SLERP** (two models): per tensor, the spherical interpolation between the weights of A and B,
  ``t = 0`` is A, ``t = 1`` is B; linear interpolation where the two tensors are nearly colinear
  (cosine above :data:`SLERP_COLINEAR`) or one is zero.
* **TIES**: each task vector trimmed to the ``density`` fraction of its largest magnitudes per tensor
  (at least one entry), scaled by its weight; a sign elected per entry (the sign of the sum); the merged
  update is the mean of the entries that agree with it (the disjoint mean).
* **DARE**: each task vector's entries dropped with probability ``drop`` by a fixed mask (a seeded
  uniform field per source and tensor: the same mask for every call, and the masks of larger ``drop``
  contain those of smaller ones), survivors rescaled by ``1 / (1 - drop)``, then linear.

All element-wise arithmetic is float32, coefficients computed in float64 once per tensor; nothing
depends on other configurations, so a merge is the same whatever it is batched with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from smm_plugins.lab.network import BLOCK_KEYS, LabNet

__all__ = [
    "OPERATORS",
    "SLERP_COLINEAR",
    "DARE_SEED",
    "Blocks",
    "task_vectors",
    "linear_merge",
    "slerp_merge",
    "ties_merge",
    "dare_merge",
    "sorted_magnitudes",
    "dare_fields",
]

#: Operator names, in the order of their codes (0 = linear, 1 = slerp, 2 = ties, 3 = dare).
OPERATORS: tuple[str, ...] = ("linear", "slerp", "ties", "dare")
#: Cosine above which SLERP interpolates linearly (the tensors are nearly colinear), as in common practice.
SLERP_COLINEAR: float = 0.9995
#: Seed of DARE's fixed drop masks.
DARE_SEED: int = 0

#: Block parameters ``{"w1": (L, ...), "b1": ..., "w2": ..., "b2": ...}``, float32.
Blocks = Mapping[str, np.ndarray]


def task_vectors(base: LabNet, *sources: LabNet) -> list[dict[str, np.ndarray]]:
    """The task vectors ``theta_m - theta_base`` of ``sources`` (block parameters, float32)."""
    theta = base.block_params()
    return [{k: (m.block_params()[k] - theta[k]).astype(np.float32) for k in BLOCK_KEYS} for m in sources]


def linear_merge(base: Blocks, taus: Sequence[Blocks], weights: Sequence[float]) -> dict[str, np.ndarray]:
    """Task arithmetic ``base + sum_m weights[m] * taus[m]`` (weights: one number per task vector)."""
    _check_weights(taus, weights)
    out = {}
    for k in BLOCK_KEYS:
        merged = np.array(base[k], dtype=np.float32)
        for w, tau in zip(weights, taus, strict=True):
            merged += np.float32(w) * tau[k]
        out[k] = merged
    return out


def slerp_merge(a: Blocks, b: Blocks, t: float) -> dict[str, np.ndarray]:
    """Per-tensor spherical interpolation between the block parameters ``a`` (t = 0) and ``b`` (t = 1)."""
    t = _check_unit("t", t, low_open=False)
    out = {}
    for k in BLOCK_KEYS:
        c_a, c_b = _slerp_coefficients(_tensor_cosines(a[k], b[k]), t)
        shape = (-1,) + (1,) * (a[k].ndim - 1)
        out[k] = c_a.reshape(shape) * a[k] + c_b.reshape(shape) * b[k]
    return out


def ties_merge(
    base: Blocks,
    taus: Sequence[Blocks],
    weights: Sequence[float],
    density: float,
    *,
    magnitudes: Sequence[Blocks] | None = None,
) -> dict[str, np.ndarray]:
    """TIES merging: trim each task vector to ``density`` (in (0, 1]) per tensor, elect signs, disjoint mean.

    ``magnitudes``: :func:`sorted_magnitudes` of ``taus``, if already computed (saves a sort per call).
    """
    _check_weights(taus, weights)
    density = _check_unit("density", density, low_open=True)
    mags = magnitudes if magnitudes is not None else sorted_magnitudes(taus)
    out = {}
    for k in BLOCK_KEYS:
        shape = (-1,) + (1,) * (taus[0][k].ndim - 1)
        kept = []
        for w, tau, mag in zip(weights, taus, mags, strict=True):
            n = mag[k].shape[1]
            threshold = mag[k][:, min(n, max(1, math.ceil(density * n))) - 1]  # the k-th largest, per tensor
            kept.append(np.where(np.abs(tau[k]) >= threshold.reshape(shape), np.float32(w) * tau[k], np.float32(0)))
        total = np.zeros_like(kept[0])
        for v in kept:
            total += v
        sign = np.sign(total)
        agree_sum = np.zeros_like(total)
        agree_n = np.zeros_like(total)
        for v in kept:
            agree = (np.sign(v) == sign) & (v != 0)
            agree_sum += np.where(agree, v, np.float32(0))
            agree_n += agree
        out[k] = np.asarray(base[k], dtype=np.float32) + agree_sum / np.maximum(agree_n, np.float32(1))
    return out


def dare_merge(
    base: Blocks,
    taus: Sequence[Blocks],
    weights: Sequence[float],
    drop: float,
    *,
    fields: Sequence[Blocks] | None = None,
) -> dict[str, np.ndarray]:
    """DARE then linear: drop entries of each task vector with probability ``drop`` (in [0, 1)), rescale, add.

    ``fields``: :func:`dare_fields` of ``taus`` (default: those of :data:`DARE_SEED`), the fixed masks.
    """
    _check_weights(taus, weights)
    if not (isinstance(drop, (int, float, np.number)) and 0.0 <= float(drop) < 1.0):
        raise ValueError(f"drop = {drop!r}; allowed: a number in [0, 1)")
    u = fields if fields is not None else dare_fields(taus)
    scale = np.float32(1.0 / (1.0 - float(drop)))
    dropped = [
        {k: np.where(field[k] >= np.float32(drop), tau[k] * scale, np.float32(0)) for k in BLOCK_KEYS}
        for tau, field in zip(taus, u, strict=True)
    ]
    return linear_merge(base, dropped, weights)


def sorted_magnitudes(taus: Sequence[Blocks]) -> list[dict[str, np.ndarray]]:
    """Per task vector and key, each tensor's magnitudes sorted in decreasing order: (L, entries) float32."""
    return [{k: -np.sort(-np.abs(tau[k]).reshape(tau[k].shape[0], -1), axis=1) for k in BLOCK_KEYS} for tau in taus]


def dare_fields(taus: Sequence[Blocks], seed: int = DARE_SEED) -> list[dict[str, np.ndarray]]:
    """DARE's fixed uniform fields in [0, 1), one per task vector and key (an entry survives if its value >= drop)."""
    out = []
    for m, tau in enumerate(taus):
        rng = np.random.default_rng([seed, m])  # one stream per source: adding a source keeps the others' masks
        out.append({k: rng.random(tau[k].shape, dtype=np.float32) for k in BLOCK_KEYS})
    return out


# -- helpers -----------------------------------------------------------------------------------


def _tensor_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine between ``a[l]`` and ``b[l]`` for each block l (float64; NaN where either is zero)."""
    fa = a.reshape(a.shape[0], -1).astype(np.float64)
    fb = b.reshape(b.shape[0], -1).astype(np.float64)
    norms = np.linalg.norm(fa, axis=1) * np.linalg.norm(fb, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.einsum("ij,ij->i", fa, fb) / norms


def _slerp_coefficients(cos: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients of A and B per tensor (float32): SLERP's, or ``(1 - t, t)`` where nearly colinear."""
    linear = ~(np.abs(cos) <= SLERP_COLINEAR)  # NaN (a zero tensor) included
    theta = np.arccos(np.clip(np.where(linear, 0.0, cos), -1.0, 1.0))
    sin = np.where(linear, 1.0, np.sin(theta))
    c_a = np.where(linear, 1.0 - t, np.sin((1.0 - t) * theta) / sin)
    c_b = np.where(linear, t, np.sin(t * theta) / sin)
    return c_a.astype(np.float32), c_b.astype(np.float32)


def _check_weights(taus: Sequence[Blocks], weights: Sequence[float]) -> None:
    if len(weights) != len(taus) or not taus:
        raise ValueError(f"weights has {len(weights)} entries for {len(taus)} task vectors; give one per task vector")
    if not all(isinstance(w, (int, float, np.number)) and math.isfinite(float(w)) for w in weights):
        raise ValueError(f"weights = {list(weights)!r}; allowed: finite numbers")


def _check_unit(name: str, value: float, *, low_open: bool) -> float:
    ok = isinstance(value, (int, float, np.number)) and (0.0 < float(value) if low_open else 0.0 <= float(value))
    if not (ok and float(value) <= 1.0):
        raise ValueError(f"{name} = {value!r}; allowed: a number in {'(0' if low_open else '[0'}, 1]")
    return float(value)
