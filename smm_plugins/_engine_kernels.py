"""Numba kernels of the inference engine (private helper of :mod:`smm_plugins.engine`).

The kernels are model-independent (the model is passed as arrays), so ``cache=True`` compiles them
once per machine and dtype, never per model. They never start threads.

Data layout (built in :mod:`smm_plugins.engine`):

* ``slot_*``: one "slot" per distinct way a split reads a feature. Each input row is first turned
  into one small integer per slot (``_bin_row``), such that a split goes left iff
  ``rowbins[slot] <= k``. For a numerical split, the slot's feature thresholds are sorted and
  ``rowbins`` is the number of thresholds strictly below the value, ``k`` the index of the split's
  threshold: ``x <= T[k]`` iff ``#(T < x) <= k``, exactly, with no float comparison in the trees.
  Missing values are folded in: a missing value gets 0 (left of every split) for default-left slots
  and ``big`` (right of every split) for default-right slots. A categorical split gets its own slot
  per distinct category bitset, with 0 = in the set (left) and 1 = not (right), ``k = 0``.
* ``nodes``: (n_nodes, 4) int16 or int32 rows ``[slot, k, left, right]``, 8 or 16 bytes a split;
  children are tree-local, ``< 0`` meaning leaf ``~c`` (LightGBM's own convention).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: LightGBM's kZeroThreshold: dense rows turn |x| <= 1e-35 into 0 before prediction.
ZERO_THRESHOLD = 1e-35
SLOT_NUMERICAL = 0
SLOT_CATEGORICAL = 1


@njit(cache=True, nogil=True)
def _bin_row(x, slot_feat, slot_kind, slot_mtype, slot_dleft, slot_t0, slot_t1, thresholds, slot_c0, slot_c1,
             cat_bits, big, out):
    """Map one input row ``x`` (float64) to per-slot small integers in ``out`` (see module doc)."""
    for s in range(slot_feat.shape[0]):
        v = x[slot_feat[s]]
        if abs(v) <= ZERO_THRESHOLD:
            v = 0.0
        if slot_kind[s] == SLOT_NUMERICAL:
            mt = slot_mtype[s]
            missing = False
            if np.isnan(v):
                if mt == 2:
                    missing = True
                else:
                    v = 0.0
                    missing = mt == 1
            elif mt == 1 and v == 0.0:
                missing = True
            if missing:
                out[s] = 0 if slot_dleft[s] else big
            else:
                lo = slot_t0[s]
                hi = slot_t1[s]
                while lo < hi:  # first threshold >= v
                    mid = (lo + hi) >> 1
                    if thresholds[mid] < v:
                        lo = mid + 1
                    else:
                        hi = mid
                out[s] = lo - slot_t0[s]
        else:
            # LightGBM: NaN -> right; static_cast<int>(v) < 0 -> right (x86 gives INT_MIN for
            # values outside int range); else category bit lookup, absent bits -> right.
            res = 1
            if not np.isnan(v) and v > -1.0 and v < 2147483648.0:
                c = int(v)
                w = c >> 5
                if w < slot_c1[s] - slot_c0[s]:
                    if (cat_bits[slot_c0[s] + w] >> np.uint32(c & 31)) & np.uint32(1):
                        res = 0
            out[s] = res


@njit(cache=True, nogil=True)
def _tree_sum(rowbins, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, t0, t1):
    """Sum over trees ``t0..t1-1`` (in order) of the leaf reached by one binned row."""
    acc = 0.0
    for t in range(t0, t1):
        base = tree_node0[t]
        c = tree_root[t]
        while c >= 0:
            i = base + c
            if rowbins[nodes[i, 0]] <= nodes[i, 1]:
                c = nodes[i, 2]
            else:
                c = nodes[i, 3]
        acc += leaf_value[tree_leaf0[t] + ~c]
    return acc


@njit(cache=True, nogil=True)
def predict_rows(X, slot_feat, slot_kind, slot_mtype, slot_dleft, slot_t0, slot_t1, thresholds, slot_c0,
                 slot_c1, cat_bits, big, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, fold_t0,
                 fold_div, out):
    """Mean over folds of each fold's raw score, row by row; ``out`` (n,) float64."""
    n = X.shape[0]
    n_folds = fold_t0.shape[0] - 1
    rowbins = np.empty(slot_feat.shape[0], dtype=nodes.dtype)
    for r in range(n):
        _bin_row(X[r], slot_feat, slot_kind, slot_mtype, slot_dleft, slot_t0, slot_t1, thresholds, slot_c0,
                 slot_c1, cat_bits, big, rowbins)
        tot = 0.0
        for f in range(n_folds):
            s = _tree_sum(rowbins, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, fold_t0[f],
                          fold_t0[f + 1])
            if fold_div[f] != 1.0:
                s = s / fold_div[f]
            # numpy's mean over axis 0: ((f0 + f1) + f2) ..., then one division
            tot = s if f == 0 else tot + s
        out[r] = tot / n_folds
