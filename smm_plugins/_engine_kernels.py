"""Numba kernels of the inference engine (private helper of :mod:`smm_plugins.engine`).

The kernels are model-independent (the model is passed as arrays), so ``cache=True`` compiles them
once per machine and node dtype, never per model. They never start threads.

Data layout (built by ``smm_plugins.engine._compile``):

* Slots. One slot per distinct way a split reads a feature. Each input row is first mapped to one
  small integer per slot (``_bin_row``) so that every split goes left iff ``rowbins[slot] <= k``.
  For a numerical split the feature's distinct thresholds ``T`` are sorted, the row value becomes
  ``#(T < x)`` and ``k`` is the rank of the split's threshold: ``x <= T[k]`` iff ``#(T < x) <= k``,
  an exact test on small integers. Missing values (LightGBM's rules for missing type None / Zero /
  NaN) are folded in: they bin to 0 (left of every split) in default-left slots and to ``big``
  (right of every split) in default-right slots. A categorical split gets one slot per distinct
  category bitset, binned to 0 (in the set: left) or 1 (not: right), with ``k = 0``.
  ``slots`` is int64 (8, n_slots): feature, kind, missing type, default-left, threshold range
  [t0, t1) in ``thresholds``, bitset word range [c0, c1) in ``cat_bits``.
* Nodes. ``nodes`` (rows, 4) of an unsigned dtype (uint8 when the model allows: <= 256 slots,
  <= 254 thresholds per feature, <= 128 leaves per tree; else uint16 / uint32), rows
  ``[slot, k, left, right]``. A child ``c < lf`` is a tree-local split, ``c >= lf`` is leaf
  ``c - lf`` (``lf`` = 128, 32768 or 2**31). The last row is a zero dummy split that finished
  lanes keep reading, so lanes need no data-dependent branch.
* Trees. ``trees`` int64 (5, n_trees): first node row, first leaf (index into the float64 view),
  fold, block start (float64 index) and number of 64-byte lines to prefetch; ``tree_root`` (node
  dtype) is 0 or ``lf`` (a single-leaf tree). Nodes and leaf values of a tree form one contiguous
  block of a shared buffer (``nodes`` and ``leaf_value`` are two views of it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import binding as _llvm
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic

#: LightGBM's kZeroThreshold: dense rows turn |x| <= 1e-35 into 0 before prediction.
ZERO_THRESHOLD = 1e-35
SLOT_NUMERICAL = 0
SLOT_CATEGORICAL = 1
#: Trees ahead of the walk whose blocks are prefetched (16-64 measured alike on the benchmark model).
PREFETCH_AHEAD = 32
#: At most this many 64-byte lines of a tree block are prefetched (its hot start).
PREFETCH_LINES = 16
# the intrinsic's name mangling follows LLVM's pointer model (opaque pointers from LLVM 15 on)
_PREFETCH_NAME = "llvm.prefetch.p0" if _llvm.llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


def _prefetch_intrinsic(typingctx: Any, arr: Any, idx: Any) -> tuple[Any, Any]:
    """Hint the CPU to start loading the cache line of ``arr[idx]`` (1-D ``arr``; no effect on results).

    A real prefetch instruction retires at once; a plain "touch" load would hold its slot in the
    out-of-order window until memory answers, which measured slower.
    """
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), _PREFETCH_NAME
        )
        ptr = builder.bitcast(builder.gep(array.data, [args[1]]), i8p)
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, high locality, data cache
        return context.get_dummy_value()

    return sig, codegen


# Any: numba's type hints describe the intrinsic's typing signature (with typingctx), not the call in a kernel.
_prefetch: Any = intrinsic(_prefetch_intrinsic)


@njit(cache=True, nogil=True)
def _bin_row(x, slots, thresholds, cat_bits, big, out):
    """Map one input row ``x`` (float64) to one small integer per slot in ``out``."""
    for s in range(slots.shape[1]):
        v = x[slots[0, s]]
        if abs(v) <= ZERO_THRESHOLD:
            v = 0.0
        if slots[1, s] == SLOT_NUMERICAL:
            mt = slots[2, s]
            missing = False
            if np.isnan(v):
                if mt == 2:
                    missing = True
                else:  # LightGBM: NaN becomes 0.0 unless the missing type is NaN
                    v = 0.0
                    missing = mt == 1
            elif mt == 1 and v == 0.0:
                missing = True
            if missing:
                out[s] = 0 if slots[3, s] else big
            else:
                t0 = slots[4, s]
                lo = t0
                n = slots[5, s] - t0
                while n > 0:  # first threshold >= v; selects instead of unpredictable branches
                    half = n >> 1
                    below = thresholds[lo + half] < v
                    lo = lo + half + 1 if below else lo
                    n = n - half - 1 if below else half
                out[s] = lo - t0
        else:
            # LightGBM: NaN -> right; static_cast<int>(v) < 0 -> right (on x86 values outside the
            # int range convert to INT_MIN, hence right); else the category's bit, absent -> right.
            res = 1
            if v > -1.0 and v < 2147483648.0:  # False for NaN
                c = int(v)
                w = c >> 5
                if w < slots[7, s] - slots[6, s]:
                    if (cat_bits[slots[6, s] + w] >> np.uint32(c & 31)) & np.uint32(1):
                        res = 0
            out[s] = res


@njit(cache=True, nogil=True)
def bin_rows(X, slots, thresholds, cat_bits, big, RB):
    """Bin every row of ``X`` (n, n_features) into ``RB`` (n, n_slots)."""
    for r in range(X.shape[0]):
        _bin_row(X[r], slots, thresholds, cat_bits, big, RB[r])


@njit(cache=True, nogil=True)
def _step(rb, nodes, base, c, lf):
    """One branch-free step of a lane: the next child, or ``c`` itself once ``c`` is a leaf."""
    live = c < lf
    i = base + c if live else nodes.shape[0] - 1
    nxt = nodes[i, 2] if rb[nodes[i, 0]] <= nodes[i, 1] else nodes[i, 3]
    return nxt if live else c


@njit(cache=True, nogil=True)
def _fold_mean(vals, fold_t0, fold_div, sums):
    """Per-fold sums of the tree outputs ``vals`` in tree order (as LightGBM), then numpy's mean.

    The folds' addition chains are independent, so they are advanced side by side (the CPU
    overlaps them); within a fold the order is LightGBM's. ``sums`` is scratch (n_folds,).
    """
    n_folds = fold_t0.shape[0] - 1
    longest = 0
    for f in range(n_folds):
        sums[f] = 0.0
        longest = max(longest, fold_t0[f + 1] - fold_t0[f])
    for i in range(longest):
        for f in range(n_folds):
            t = fold_t0[f] + i
            if t < fold_t0[f + 1]:
                sums[f] += vals[t]
    tot = 0.0
    for f in range(n_folds):
        s = sums[f]
        if fold_div[f] != 1.0:  # average_output (random forest) boosters
            s = s / fold_div[f]
        tot = s if f == 0 else tot + s
    return tot / n_folds


@njit(cache=True, nogil=True)
def _tree_values(rb, nodes, trees, tree_root, leaf_value, lf, t_begin, t_end, vals, ahead):
    """Output of trees ``t_begin..t_end-1`` for one binned row ``rb`` into ``vals[t]``.

    Eight lanes each walk one tree; a lane whose tree is done stores the leaf value and takes the
    next tree. Eight independent walks keep several cache misses in flight (the ensemble does not
    fit in L2), and each new tree triggers a prefetch of the whole block of the tree ``ahead``
    positions later, so a walk rarely waits for memory, even right after other code flushed the
    caches. ``vals`` is summed in tree order afterwards, so the result is bit-identical to
    LightGBM's sequential sum.
    """
    if t_end - t_begin < 8:
        for t in range(t_begin, t_end):
            c = tree_root[t]
            while c < lf:
                c = _step(rb, nodes, trees[0, t], c, lf)
            vals[t] = leaf_value[trees[1, t] + (c - lf)]
        return
    # The lanes are written out one by one so that their state stays in registers (lane arrays
    # would live in memory); the same holds for the 8 rows of ``predict_binned``.
    t0 = t_begin + 0
    c0 = tree_root[t0]
    b0 = trees[0, t0]
    t1 = t_begin + 1
    c1 = tree_root[t1]
    b1 = trees[0, t1]
    t2 = t_begin + 2
    c2 = tree_root[t2]
    b2 = trees[0, t2]
    t3 = t_begin + 3
    c3 = tree_root[t3]
    b3 = trees[0, t3]
    t4 = t_begin + 4
    c4 = tree_root[t4]
    b4 = trees[0, t4]
    t5 = t_begin + 5
    c5 = tree_root[t5]
    b5 = trees[0, t5]
    t6 = t_begin + 6
    c6 = tree_root[t6]
    b6 = trees[0, t6]
    t7 = t_begin + 7
    c7 = tree_root[t7]
    b7 = trees[0, t7]
    nt = t_begin + 8
    while nt < t_end:
        c0 = _step(rb, nodes, b0, c0, lf)
        c1 = _step(rb, nodes, b1, c1, lf)
        c2 = _step(rb, nodes, b2, c2, lf)
        c3 = _step(rb, nodes, b3, c3, lf)
        c4 = _step(rb, nodes, b4, c4, lf)
        c5 = _step(rb, nodes, b5, c5, lf)
        c6 = _step(rb, nodes, b6, c6, lf)
        c7 = _step(rb, nodes, b7, c7, lf)
        if c0 >= lf:
            vals[t0] = leaf_value[trees[1, t0] + (c0 - lf)]
            t0 = nt
            nt += 1
            b0 = trees[0, t0]
            c0 = tree_root[t0]
            p = min(nt + ahead, t_end - 1)
            q = trees[3, p]
            for k in range(trees[4, p]):
                _prefetch(leaf_value, q + 8 * k)
            if nt >= t_end:
                break
        if c1 >= lf:
            vals[t1] = leaf_value[trees[1, t1] + (c1 - lf)]
            t1 = nt
            nt += 1
            b1 = trees[0, t1]
            c1 = tree_root[t1]
            p = min(nt + ahead, t_end - 1)
            q = trees[3, p]
            for k in range(trees[4, p]):
                _prefetch(leaf_value, q + 8 * k)
            if nt >= t_end:
                break
        if c2 >= lf:
            vals[t2] = leaf_value[trees[1, t2] + (c2 - lf)]
            t2 = nt
            nt += 1
            b2 = trees[0, t2]
            c2 = tree_root[t2]
            p = min(nt + ahead, t_end - 1)
            q = trees[3, p]
            for k in range(trees[4, p]):
                _prefetch(leaf_value, q + 8 * k)
            if nt >= t_end:
                break
        if c3 >= lf:
            vals[t3] = leaf_value[trees[1, t3] + (c3 - lf)]
            t3 = nt
            nt += 1
            b3 = trees[0, t3]
            c3 = tree_root[t3]
            p = min(nt + ahead, t_end - 1)
            q = trees[3, p]
            for k in range(trees[4, p]):
                _prefetch(leaf_value, q + 8 * k)
            if nt >= t_end:
                break
        if c4 >= lf:
            vals[t4] = leaf_value[trees[1, t4] + (c4 - lf)]
            t4 = nt
            nt += 1
            b4 = trees[0, t4]
            c4 = tree_root[t4]
            p = min(nt + ahead, t_end - 1)
            q = trees[3, p]
            for k in range(trees[4, p]):
                _prefetch(leaf_value, q + 8 * k)
            if nt >= t_end:
                break
        if c5 >= lf:
            vals[t5] = leaf_value[trees[1, t5] + (c5 - lf)]
            t5 = nt
            nt += 1
            b5 = trees[0, t5]
            c5 = tree_root[t5]
            p = min(nt + ahead, t_end - 1)
            q = trees[3, p]
            for k in range(trees[4, p]):
                _prefetch(leaf_value, q + 8 * k)
            if nt >= t_end:
                break
        if c6 >= lf:
            vals[t6] = leaf_value[trees[1, t6] + (c6 - lf)]
            t6 = nt
            nt += 1
            b6 = trees[0, t6]
            c6 = tree_root[t6]
            p = min(nt + ahead, t_end - 1)
            q = trees[3, p]
            for k in range(trees[4, p]):
                _prefetch(leaf_value, q + 8 * k)
            if nt >= t_end:
                break
        if c7 >= lf:
            vals[t7] = leaf_value[trees[1, t7] + (c7 - lf)]
            t7 = nt
            nt += 1
            b7 = trees[0, t7]
            c7 = tree_root[t7]
            p = min(nt + ahead, t_end - 1)
            q = trees[3, p]
            for k in range(trees[4, p]):
                _prefetch(leaf_value, q + 8 * k)
            if nt >= t_end:
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
    vals[t0] = leaf_value[trees[1, t0] + (c0 - lf)]
    vals[t1] = leaf_value[trees[1, t1] + (c1 - lf)]
    vals[t2] = leaf_value[trees[1, t2] + (c2 - lf)]
    vals[t3] = leaf_value[trees[1, t3] + (c3 - lf)]
    vals[t4] = leaf_value[trees[1, t4] + (c4 - lf)]
    vals[t5] = leaf_value[trees[1, t5] + (c5 - lf)]
    vals[t6] = leaf_value[trees[1, t6] + (c6 - lf)]
    vals[t7] = leaf_value[trees[1, t7] + (c7 - lf)]


@njit(cache=True, nogil=True)
def predict_one(
    x, slots, thresholds, cat_bits, big, nodes, trees, tree_root, leaf_value, lf, fold_t0, fold_div, rb, vals, sums
):
    """Prediction for one row ``x`` (float64, n_features); ``rb``, ``vals``, ``sums`` are scratch."""
    _bin_row(x, slots, thresholds, cat_bits, big, rb)
    _tree_values(rb, nodes, trees, tree_root, leaf_value, lf, 0, tree_root.shape[0], vals, PREFETCH_AHEAD)
    return _fold_mean(vals, fold_t0, fold_div, sums)


@njit(cache=True, nogil=True)
def predict_binned(RB, nodes, trees, tree_root, leaf_value, lf, fold_div, tree_block, acc, out):
    """Batch prediction of binned rows ``RB`` (n, n_slots) into ``out`` (n,).

    Trees are taken in blocks of ``tree_block`` that stay in cache while every row passes through
    them; 8 rows walk each tree in lockstep (independent chains the CPU overlaps; a finished row
    idles on the dummy split until the slowest is done). ``acc`` (n, n_folds) collects each fold's
    sum in tree order, exactly as LightGBM adds tree outputs.
    """
    n = RB.shape[0]
    n_trees = tree_root.shape[0]
    n_folds = acc.shape[1]
    acc[:, :] = 0.0
    for t0 in range(0, n_trees, tree_block):
        t1 = min(n_trees, t0 + tree_block)
        r = 0
        while r + 8 <= n:
            x0 = RB[r + 0]
            x1 = RB[r + 1]
            x2 = RB[r + 2]
            x3 = RB[r + 3]
            x4 = RB[r + 4]
            x5 = RB[r + 5]
            x6 = RB[r + 6]
            x7 = RB[r + 7]
            for t in range(t0, t1):
                b = trees[0, t]
                root = tree_root[t]
                c0 = root
                c1 = root
                c2 = root
                c3 = root
                c4 = root
                c5 = root
                c6 = root
                c7 = root
                while (c0 < lf) | (c1 < lf) | (c2 < lf) | (c3 < lf) | (c4 < lf) | (c5 < lf) | (c6 < lf) | (c7 < lf):
                    c0 = _step(x0, nodes, b, c0, lf)
                    c1 = _step(x1, nodes, b, c1, lf)
                    c2 = _step(x2, nodes, b, c2, lf)
                    c3 = _step(x3, nodes, b, c3, lf)
                    c4 = _step(x4, nodes, b, c4, lf)
                    c5 = _step(x5, nodes, b, c5, lf)
                    c6 = _step(x6, nodes, b, c6, lf)
                    c7 = _step(x7, nodes, b, c7, lf)
                l0 = trees[1, t] - lf
                f = trees[2, t]
                acc[r + 0, f] += leaf_value[l0 + c0]
                acc[r + 1, f] += leaf_value[l0 + c1]
                acc[r + 2, f] += leaf_value[l0 + c2]
                acc[r + 3, f] += leaf_value[l0 + c3]
                acc[r + 4, f] += leaf_value[l0 + c4]
                acc[r + 5, f] += leaf_value[l0 + c5]
                acc[r + 6, f] += leaf_value[l0 + c6]
                acc[r + 7, f] += leaf_value[l0 + c7]
            r += 8
        while r < n:
            x0 = RB[r]
            for t in range(t0, t1):
                c0 = tree_root[t]
                while c0 < lf:
                    c0 = _step(x0, nodes, trees[0, t], c0, lf)
                acc[r, trees[2, t]] += leaf_value[trees[1, t] - lf + c0]
            r += 1
    for r in range(n):
        tot = 0.0
        for f in range(n_folds):
            s = acc[r, f]
            if fold_div[f] != 1.0:
                s = s / fold_div[f]
            tot = s if f == 0 else tot + s
        out[r] = tot / n_folds
