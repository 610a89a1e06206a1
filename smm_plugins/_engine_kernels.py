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


# ---------------------------------------------------------------------------------------------
# Compact kernels. ``nodes`` is (n_splits + 1, 4) of an unsigned dtype D (uint8 when the model
# allows it: <= 256 slots, <= 254 thresholds per feature, <= 128 leaves per tree; else uint16 or
# uint32): ``[slot, k, left, right]``. A child ``c < lf`` is a tree-local split index, ``c >= lf`` is
# leaf ``c - lf`` (``lf`` = 128, 32768 or 2**31). The extra last row is a harmless dummy split that
# finished lanes keep reading, so lanes need no data-dependent branch.
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _step(rb, nodes, base, c, lf):
    """One branch-free step of a lane: the next child, or ``c`` itself once ``c`` is a leaf."""
    live = c < lf
    i = base + c if live else nodes.shape[0] - 1
    nxt = nodes[i, 2] if rb[nodes[i, 0]] <= nodes[i, 1] else nodes[i, 3]
    return nxt if live else c


@njit(cache=True, nogil=True)
def tree_values_lanes(rb, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals):
    """Leaf value of every tree for one binned row into ``vals`` (T,), walking 4 trees in lockstep.

    Four independent walks per loop iteration let the CPU overlap their memory latencies; the
    caller sums ``vals`` in tree order, so the result is bit-identical to a sequential walk.
    """
    n_trees = tree_root.shape[0]
    t = 0
    while t + 4 <= n_trees:
        b0 = tree_node0[t]
        b1 = tree_node0[t + 1]
        b2 = tree_node0[t + 2]
        b3 = tree_node0[t + 3]
        c0 = tree_root[t]
        c1 = tree_root[t + 1]
        c2 = tree_root[t + 2]
        c3 = tree_root[t + 3]
        while (c0 < lf) | (c1 < lf) | (c2 < lf) | (c3 < lf):
            c0 = _step(rb, nodes, b0, c0, lf)
            c1 = _step(rb, nodes, b1, c1, lf)
            c2 = _step(rb, nodes, b2, c2, lf)
            c3 = _step(rb, nodes, b3, c3, lf)
        vals[t] = leaf_value[tree_leaf0[t] + (c0 - lf)]
        vals[t + 1] = leaf_value[tree_leaf0[t + 1] + (c1 - lf)]
        vals[t + 2] = leaf_value[tree_leaf0[t + 2] + (c2 - lf)]
        vals[t + 3] = leaf_value[tree_leaf0[t + 3] + (c3 - lf)]
        t += 4
    while t < n_trees:
        b0 = tree_node0[t]
        c0 = tree_root[t]
        while c0 < lf:
            c0 = _step(rb, nodes, b0, c0, lf)
        vals[t] = leaf_value[tree_leaf0[t] + (c0 - lf)]
        t += 1


@njit(cache=True, nogil=True)
def _fold_mean(vals, fold_t0, fold_div):
    """Per-fold sums of ``vals`` in tree order (as LightGBM), then numpy's mean over folds."""
    n_folds = fold_t0.shape[0] - 1
    tot = 0.0
    for f in range(n_folds):
        s = 0.0
        for t in range(fold_t0[f], fold_t0[f + 1]):
            s += vals[t]
        if fold_div[f] != 1.0:
            s = s / fold_div[f]
        tot = s if f == 0 else tot + s
    return tot / n_folds


@njit(cache=True, nogil=True)
def bin_rows(X, slot_feat, slot_kind, slot_mtype, slot_dleft, slot_t0, slot_t1, thresholds, slot_c0, slot_c1,
             cat_bits, big, RB):
    """Bin every row of ``X`` into ``RB`` (n, n_slots)."""
    for r in range(X.shape[0]):
        _bin_row(X[r], slot_feat, slot_kind, slot_mtype, slot_dleft, slot_t0, slot_t1, thresholds, slot_c0,
                 slot_c1, cat_bits, big, RB[r])


@njit(cache=True, nogil=True)
def predict_one(x, slot_feat, slot_kind, slot_mtype, slot_dleft, slot_t0, slot_t1, thresholds, slot_c0, slot_c1,
                cat_bits, big, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, fold_t0, fold_div,
                rb, vals):
    """Prediction for one row ``x`` (float64, n_features); ``rb``/``vals`` are scratch buffers."""
    _bin_row(x, slot_feat, slot_kind, slot_mtype, slot_dleft, slot_t0, slot_t1, thresholds, slot_c0, slot_c1,
             cat_bits, big, rb)
    tree_values_lanes(rb, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals)
    return _fold_mean(vals, fold_t0, fold_div)


@njit(cache=True, nogil=True)
def predict_binned(RB, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, tree_fold, fold_div,
                   tree_block, acc, out):
    """Batch prediction of binned rows ``RB`` (n, n_slots) into ``out`` (n,).

    Trees are taken in blocks of ``tree_block`` (kept in cache while every row passes through
    them), four rows walk each tree in lockstep. ``acc`` (n, n_folds) collects each fold's sum in
    tree order, exactly as LightGBM adds tree outputs.
    """
    n = RB.shape[0]
    n_trees = tree_root.shape[0]
    n_folds = acc.shape[1]
    acc[:, :] = 0.0
    for t0 in range(0, n_trees, tree_block):
        t1 = min(n_trees, t0 + tree_block)
        r = 0
        while r + 4 <= n:
            x0 = RB[r]
            x1 = RB[r + 1]
            x2 = RB[r + 2]
            x3 = RB[r + 3]
            for t in range(t0, t1):
                b = tree_node0[t]
                root = tree_root[t]
                c0 = root
                c1 = root
                c2 = root
                c3 = root
                while (c0 < lf) | (c1 < lf) | (c2 < lf) | (c3 < lf):
                    c0 = _step(x0, nodes, b, c0, lf)
                    c1 = _step(x1, nodes, b, c1, lf)
                    c2 = _step(x2, nodes, b, c2, lf)
                    c3 = _step(x3, nodes, b, c3, lf)
                l0 = tree_leaf0[t] - lf
                f = tree_fold[t]
                acc[r, f] += leaf_value[l0 + c0]
                acc[r + 1, f] += leaf_value[l0 + c1]
                acc[r + 2, f] += leaf_value[l0 + c2]
                acc[r + 3, f] += leaf_value[l0 + c3]
            r += 4
        while r < n:
            x0 = RB[r]
            for t in range(t0, t1):
                b = tree_node0[t]
                c0 = tree_root[t]
                while c0 < lf:
                    c0 = _step(x0, nodes, b, c0, lf)
                acc[r, tree_fold[t]] += leaf_value[tree_leaf0[t] - lf + c0]
            r += 1
    for r in range(n):
        tot = 0.0
        for f in range(n_folds):
            s = acc[r, f]
            if fold_div[f] != 1.0:
                s = s / fold_div[f]
            tot = s if f == 0 else tot + s
        out[r] = tot / n_folds


@njit(cache=True, nogil=True)
def tree_values_levels(rb, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals, act, cur):
    """Leaf value of every tree for one binned row into ``vals`` (T,), all trees one level at a time.

    Each pass advances every unfinished tree by one split; iterations are independent (no
    dependency chain across trees), so the CPU overlaps many memory accesses. Finished trees drop
    out of the ``act``/``cur`` work list without a branch.
    """
    n_trees = tree_root.shape[0]
    m = 0
    for t in range(n_trees):
        c = tree_root[t]
        vals[t] = leaf_value[tree_leaf0[t]]  # final for single-leaf trees, overwritten otherwise
        act[m] = t
        cur[m] = c
        m += 1 if c < lf else 0
    dummy = nodes.shape[0] - 1
    while m > 0:
        n_next = 0
        for j in range(m):
            t = act[j]
            i = tree_node0[t] + cur[j]
            nxt = nodes[i, 2] if rb[nodes[i, 0]] <= nodes[i, 1] else nodes[i, 3]
            live = nxt < lf
            li = tree_leaf0[t] + (np.int64(0) if live else np.int64(nxt) - np.int64(lf))
            v = leaf_value[li]
            if not live:
                vals[t] = v
            act[n_next] = t
            cur[n_next] = nxt
            n_next += 1 if live else 0
        m = n_next
    return dummy


@njit(cache=True, nogil=True)
def tree_values_refill(rb, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals):
    """Like :func:`tree_values_lanes`, but a lane whose tree is done takes the next tree at once."""
    n_trees = tree_root.shape[0]
    if n_trees < 4:
        tree_values_lanes(rb, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals)
        return
    t0 = 0
    t1 = 1
    t2 = 2
    t3 = 3
    c0 = tree_root[0]
    c1 = tree_root[1]
    c2 = tree_root[2]
    c3 = tree_root[3]
    b0 = tree_node0[0]
    b1 = tree_node0[1]
    b2 = tree_node0[2]
    b3 = tree_node0[3]
    nt = 4
    while nt < n_trees:
        c0 = _step(rb, nodes, b0, c0, lf)
        c1 = _step(rb, nodes, b1, c1, lf)
        c2 = _step(rb, nodes, b2, c2, lf)
        c3 = _step(rb, nodes, b3, c3, lf)
        if c0 >= lf:
            vals[t0] = leaf_value[tree_leaf0[t0] + (c0 - lf)]
            t0 = nt
            nt += 1
            b0 = tree_node0[t0]
            c0 = tree_root[t0]
            if nt >= n_trees:
                break
        if c1 >= lf:
            vals[t1] = leaf_value[tree_leaf0[t1] + (c1 - lf)]
            t1 = nt
            nt += 1
            b1 = tree_node0[t1]
            c1 = tree_root[t1]
            if nt >= n_trees:
                break
        if c2 >= lf:
            vals[t2] = leaf_value[tree_leaf0[t2] + (c2 - lf)]
            t2 = nt
            nt += 1
            b2 = tree_node0[t2]
            c2 = tree_root[t2]
            if nt >= n_trees:
                break
        if c3 >= lf:
            vals[t3] = leaf_value[tree_leaf0[t3] + (c3 - lf)]
            t3 = nt
            nt += 1
            b3 = tree_node0[t3]
            c3 = tree_root[t3]
            if nt >= n_trees:
                break
    while (c0 < lf) | (c1 < lf) | (c2 < lf) | (c3 < lf):
        c0 = _step(rb, nodes, b0, c0, lf)
        c1 = _step(rb, nodes, b1, c1, lf)
        c2 = _step(rb, nodes, b2, c2, lf)
        c3 = _step(rb, nodes, b3, c3, lf)
    vals[t0] = leaf_value[tree_leaf0[t0] + (c0 - lf)]
    vals[t1] = leaf_value[tree_leaf0[t1] + (c1 - lf)]
    vals[t2] = leaf_value[tree_leaf0[t2] + (c2 - lf)]
    vals[t3] = leaf_value[tree_leaf0[t3] + (c3 - lf)]


@njit(cache=True, nogil=True)
def _pstep(rb, pk, base, c, lf, dummy):
    """One branch-free lane step on packed uint32 nodes ``slot | k << 8 | left << 16 | right << 24``."""
    live = c < lf
    i = base + c if live else dummy
    w = pk[i]
    sh = np.uint32(16) if rb[w & np.uint32(0xFF)] <= ((w >> np.uint32(8)) & np.uint32(0xFF)) else np.uint32(24)
    nxt = (w >> sh) & np.uint32(0xFF)
    return nxt if live else c


@njit(cache=True, nogil=True)
def tree_values_prefill(rb, pk, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals):
    """:func:`tree_values_refill` on packed uint32 nodes (uint8 fields)."""
    n_trees = tree_root.shape[0]
    dummy = pk.shape[0] - 1
    t0 = 0
    t1 = 1
    t2 = 2
    t3 = 3
    c0 = np.uint32(tree_root[0])
    c1 = np.uint32(tree_root[1])
    c2 = np.uint32(tree_root[2])
    c3 = np.uint32(tree_root[3])
    b0 = tree_node0[0]
    b1 = tree_node0[1]
    b2 = tree_node0[2]
    b3 = tree_node0[3]
    lfu = np.uint32(lf)
    nt = 4
    while nt < n_trees:
        c0 = _pstep(rb, pk, b0, c0, lfu, dummy)
        c1 = _pstep(rb, pk, b1, c1, lfu, dummy)
        c2 = _pstep(rb, pk, b2, c2, lfu, dummy)
        c3 = _pstep(rb, pk, b3, c3, lfu, dummy)
        if c0 >= lfu:
            vals[t0] = leaf_value[tree_leaf0[t0] + (np.int64(c0) - lf)]
            t0 = nt
            nt += 1
            b0 = tree_node0[t0]
            c0 = np.uint32(tree_root[t0])
            if nt >= n_trees:
                break
        if c1 >= lfu:
            vals[t1] = leaf_value[tree_leaf0[t1] + (np.int64(c1) - lf)]
            t1 = nt
            nt += 1
            b1 = tree_node0[t1]
            c1 = np.uint32(tree_root[t1])
            if nt >= n_trees:
                break
        if c2 >= lfu:
            vals[t2] = leaf_value[tree_leaf0[t2] + (np.int64(c2) - lf)]
            t2 = nt
            nt += 1
            b2 = tree_node0[t2]
            c2 = np.uint32(tree_root[t2])
            if nt >= n_trees:
                break
        if c3 >= lfu:
            vals[t3] = leaf_value[tree_leaf0[t3] + (np.int64(c3) - lf)]
            t3 = nt
            nt += 1
            b3 = tree_node0[t3]
            c3 = np.uint32(tree_root[t3])
            if nt >= n_trees:
                break
    while (c0 < lfu) | (c1 < lfu) | (c2 < lfu) | (c3 < lfu):
        c0 = _pstep(rb, pk, b0, c0, lfu, dummy)
        c1 = _pstep(rb, pk, b1, c1, lfu, dummy)
        c2 = _pstep(rb, pk, b2, c2, lfu, dummy)
        c3 = _pstep(rb, pk, b3, c3, lfu, dummy)
    vals[t0] = leaf_value[tree_leaf0[t0] + (np.int64(c0) - lf)]
    vals[t1] = leaf_value[tree_leaf0[t1] + (np.int64(c1) - lf)]
    vals[t2] = leaf_value[tree_leaf0[t2] + (np.int64(c2) - lf)]
    vals[t3] = leaf_value[tree_leaf0[t3] + (np.int64(c3) - lf)]


@njit(cache=True, nogil=True)
def tree_values_refill8(rb, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals):
    """Leaf value of every tree for one binned row into ``vals`` (T,): 8 independent lanes.

    Each lane walks one tree; a finished lane stores its leaf value and takes the next tree, so 8
    memory-latency chains are always in flight. ``vals`` is summed in tree order by the caller,
    keeping the result bit-identical to LightGBM's sequential sum.
    """
    n_trees = tree_root.shape[0]
    if n_trees < 8:
        tree_values_lanes(rb, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals)
        return
    t0 = 0
    c0 = tree_root[0]
    b0 = tree_node0[0]
    t1 = 1
    c1 = tree_root[1]
    b1 = tree_node0[1]
    t2 = 2
    c2 = tree_root[2]
    b2 = tree_node0[2]
    t3 = 3
    c3 = tree_root[3]
    b3 = tree_node0[3]
    t4 = 4
    c4 = tree_root[4]
    b4 = tree_node0[4]
    t5 = 5
    c5 = tree_root[5]
    b5 = tree_node0[5]
    t6 = 6
    c6 = tree_root[6]
    b6 = tree_node0[6]
    t7 = 7
    c7 = tree_root[7]
    b7 = tree_node0[7]
    nt = 8
    while nt < n_trees:
        c0 = _step(rb, nodes, b0, c0, lf)
        c1 = _step(rb, nodes, b1, c1, lf)
        c2 = _step(rb, nodes, b2, c2, lf)
        c3 = _step(rb, nodes, b3, c3, lf)
        c4 = _step(rb, nodes, b4, c4, lf)
        c5 = _step(rb, nodes, b5, c5, lf)
        c6 = _step(rb, nodes, b6, c6, lf)
        c7 = _step(rb, nodes, b7, c7, lf)
        if c0 >= lf:
            vals[t0] = leaf_value[tree_leaf0[t0] + (c0 - lf)]
            t0 = nt
            nt += 1
            b0 = tree_node0[t0]
            c0 = tree_root[t0]
            if nt >= n_trees:
                break
        if c1 >= lf:
            vals[t1] = leaf_value[tree_leaf0[t1] + (c1 - lf)]
            t1 = nt
            nt += 1
            b1 = tree_node0[t1]
            c1 = tree_root[t1]
            if nt >= n_trees:
                break
        if c2 >= lf:
            vals[t2] = leaf_value[tree_leaf0[t2] + (c2 - lf)]
            t2 = nt
            nt += 1
            b2 = tree_node0[t2]
            c2 = tree_root[t2]
            if nt >= n_trees:
                break
        if c3 >= lf:
            vals[t3] = leaf_value[tree_leaf0[t3] + (c3 - lf)]
            t3 = nt
            nt += 1
            b3 = tree_node0[t3]
            c3 = tree_root[t3]
            if nt >= n_trees:
                break
        if c4 >= lf:
            vals[t4] = leaf_value[tree_leaf0[t4] + (c4 - lf)]
            t4 = nt
            nt += 1
            b4 = tree_node0[t4]
            c4 = tree_root[t4]
            if nt >= n_trees:
                break
        if c5 >= lf:
            vals[t5] = leaf_value[tree_leaf0[t5] + (c5 - lf)]
            t5 = nt
            nt += 1
            b5 = tree_node0[t5]
            c5 = tree_root[t5]
            if nt >= n_trees:
                break
        if c6 >= lf:
            vals[t6] = leaf_value[tree_leaf0[t6] + (c6 - lf)]
            t6 = nt
            nt += 1
            b6 = tree_node0[t6]
            c6 = tree_root[t6]
            if nt >= n_trees:
                break
        if c7 >= lf:
            vals[t7] = leaf_value[tree_leaf0[t7] + (c7 - lf)]
            t7 = nt
            nt += 1
            b7 = tree_node0[t7]
            c7 = tree_root[t7]
            if nt >= n_trees:
                break
    while (c0 < lf) | (c1 < lf) | (c2 < lf) | (c3 < lf) | (c4 < lf) | (c5 < lf) | (c6 < lf) | (c7 < lf):
        c0 = _step(rb, nodes, b0, c0, lf)
        c1 = _step(rb, nodes, b1, c1, lf)
        c2 = _step(rb, nodes, b2, c2, lf)
        c3 = _step(rb, nodes, b3, c3, lf)
        c4 = _step(rb, nodes, b4, c4, lf)
        c5 = _step(rb, nodes, b5, c5, lf)
        c6 = _step(rb, nodes, b6, c6, lf)
        c7 = _step(rb, nodes, b7, c7, lf)
    vals[t0] = leaf_value[tree_leaf0[t0] + (c0 - lf)]
    vals[t1] = leaf_value[tree_leaf0[t1] + (c1 - lf)]
    vals[t2] = leaf_value[tree_leaf0[t2] + (c2 - lf)]
    vals[t3] = leaf_value[tree_leaf0[t3] + (c3 - lf)]
    vals[t4] = leaf_value[tree_leaf0[t4] + (c4 - lf)]
    vals[t5] = leaf_value[tree_leaf0[t5] + (c5 - lf)]
    vals[t6] = leaf_value[tree_leaf0[t6] + (c6 - lf)]
    vals[t7] = leaf_value[tree_leaf0[t7] + (c7 - lf)]


@njit(cache=True, nogil=True)
def tree_values_refill8p(rb, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals, ahead):
    """:func:`tree_values_refill8` plus touch loads ``ahead`` trees in front (software prefetch)."""
    n_trees = tree_root.shape[0]
    if n_trees < 8:
        tree_values_lanes(rb, nodes, tree_node0, tree_leaf0, tree_root, leaf_value, lf, vals)
        return 0.0
    junk = 0.0
    last = n_trees - 1
    t0 = 0
    c0 = tree_root[0]
    b0 = tree_node0[0]
    t1 = 1
    c1 = tree_root[1]
    b1 = tree_node0[1]
    t2 = 2
    c2 = tree_root[2]
    b2 = tree_node0[2]
    t3 = 3
    c3 = tree_root[3]
    b3 = tree_node0[3]
    t4 = 4
    c4 = tree_root[4]
    b4 = tree_node0[4]
    t5 = 5
    c5 = tree_root[5]
    b5 = tree_node0[5]
    t6 = 6
    c6 = tree_root[6]
    b6 = tree_node0[6]
    t7 = 7
    c7 = tree_root[7]
    b7 = tree_node0[7]
    nt = 8
    while nt < n_trees:
        c0 = _step(rb, nodes, b0, c0, lf)
        c1 = _step(rb, nodes, b1, c1, lf)
        c2 = _step(rb, nodes, b2, c2, lf)
        c3 = _step(rb, nodes, b3, c3, lf)
        c4 = _step(rb, nodes, b4, c4, lf)
        c5 = _step(rb, nodes, b5, c5, lf)
        c6 = _step(rb, nodes, b6, c6, lf)
        c7 = _step(rb, nodes, b7, c7, lf)
        if c0 >= lf:
            vals[t0] = leaf_value[tree_leaf0[t0] + (c0 - lf)]
            t0 = nt
            nt += 1
            b0 = tree_node0[t0]
            c0 = tree_root[t0]
            pf = min(nt + ahead, last)
            junk += nodes[tree_node0[pf] + 16, 0] + leaf_value[tree_leaf0[pf] + 8] + leaf_value[tree_leaf0[pf] + 40]
            if nt >= n_trees:
                break
        if c1 >= lf:
            vals[t1] = leaf_value[tree_leaf0[t1] + (c1 - lf)]
            t1 = nt
            nt += 1
            b1 = tree_node0[t1]
            c1 = tree_root[t1]
            pf = min(nt + ahead, last)
            junk += nodes[tree_node0[pf] + 16, 0] + leaf_value[tree_leaf0[pf] + 8] + leaf_value[tree_leaf0[pf] + 40]
            if nt >= n_trees:
                break
        if c2 >= lf:
            vals[t2] = leaf_value[tree_leaf0[t2] + (c2 - lf)]
            t2 = nt
            nt += 1
            b2 = tree_node0[t2]
            c2 = tree_root[t2]
            pf = min(nt + ahead, last)
            junk += nodes[tree_node0[pf] + 16, 0] + leaf_value[tree_leaf0[pf] + 8] + leaf_value[tree_leaf0[pf] + 40]
            if nt >= n_trees:
                break
        if c3 >= lf:
            vals[t3] = leaf_value[tree_leaf0[t3] + (c3 - lf)]
            t3 = nt
            nt += 1
            b3 = tree_node0[t3]
            c3 = tree_root[t3]
            pf = min(nt + ahead, last)
            junk += nodes[tree_node0[pf] + 16, 0] + leaf_value[tree_leaf0[pf] + 8] + leaf_value[tree_leaf0[pf] + 40]
            if nt >= n_trees:
                break
        if c4 >= lf:
            vals[t4] = leaf_value[tree_leaf0[t4] + (c4 - lf)]
            t4 = nt
            nt += 1
            b4 = tree_node0[t4]
            c4 = tree_root[t4]
            pf = min(nt + ahead, last)
            junk += nodes[tree_node0[pf] + 16, 0] + leaf_value[tree_leaf0[pf] + 8] + leaf_value[tree_leaf0[pf] + 40]
            if nt >= n_trees:
                break
        if c5 >= lf:
            vals[t5] = leaf_value[tree_leaf0[t5] + (c5 - lf)]
            t5 = nt
            nt += 1
            b5 = tree_node0[t5]
            c5 = tree_root[t5]
            pf = min(nt + ahead, last)
            junk += nodes[tree_node0[pf] + 16, 0] + leaf_value[tree_leaf0[pf] + 8] + leaf_value[tree_leaf0[pf] + 40]
            if nt >= n_trees:
                break
        if c6 >= lf:
            vals[t6] = leaf_value[tree_leaf0[t6] + (c6 - lf)]
            t6 = nt
            nt += 1
            b6 = tree_node0[t6]
            c6 = tree_root[t6]
            pf = min(nt + ahead, last)
            junk += nodes[tree_node0[pf] + 16, 0] + leaf_value[tree_leaf0[pf] + 8] + leaf_value[tree_leaf0[pf] + 40]
            if nt >= n_trees:
                break
        if c7 >= lf:
            vals[t7] = leaf_value[tree_leaf0[t7] + (c7 - lf)]
            t7 = nt
            nt += 1
            b7 = tree_node0[t7]
            c7 = tree_root[t7]
            pf = min(nt + ahead, last)
            junk += nodes[tree_node0[pf] + 16, 0] + leaf_value[tree_leaf0[pf] + 8] + leaf_value[tree_leaf0[pf] + 40]
            if nt >= n_trees:
                break
    while (c0 < lf) | (c1 < lf) | (c2 < lf) | (c3 < lf) | (c4 < lf) | (c5 < lf) | (c6 < lf) | (c7 < lf):
        c0 = _step(rb, nodes, b0, c0, lf)
        c1 = _step(rb, nodes, b1, c1, lf)
        c2 = _step(rb, nodes, b2, c2, lf)
        c3 = _step(rb, nodes, b3, c3, lf)
        c4 = _step(rb, nodes, b4, c4, lf)
        c5 = _step(rb, nodes, b5, c5, lf)
        c6 = _step(rb, nodes, b6, c6, lf)
        c7 = _step(rb, nodes, b7, c7, lf)
    vals[t0] = leaf_value[tree_leaf0[t0] + (c0 - lf)]
    vals[t1] = leaf_value[tree_leaf0[t1] + (c1 - lf)]
    vals[t2] = leaf_value[tree_leaf0[t2] + (c2 - lf)]
    vals[t3] = leaf_value[tree_leaf0[t3] + (c3 - lf)]
    vals[t4] = leaf_value[tree_leaf0[t4] + (c4 - lf)]
    vals[t5] = leaf_value[tree_leaf0[t5] + (c5 - lf)]
    vals[t6] = leaf_value[tree_leaf0[t6] + (c6 - lf)]
    vals[t7] = leaf_value[tree_leaf0[t7] + (c7 - lf)]
    return junk
