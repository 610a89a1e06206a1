"""Fast, exact LightGBM inference for CV boosters (mean over folds), without LightGBM at predict time.

The model text is parsed directly (:mod:`smm_plugins._engine_parse`) and compiled into a compact
node array evaluated by model-independent numba kernels (:mod:`smm_plugins._engine_kernels`).
Predictions equal ``np.mean(lgb.CVBooster(model_file=...).predict(X), axis=0)`` bit for bit in the
cases tested (numerical and categorical splits, missing values, single-leaf trees).

Design, in short (details in :mod:`smm_plugins._engine_kernels`): each input row is first binned
per feature against the model's sorted split thresholds, so every split becomes an exact test on
small integers and a split fits in 4 bytes (uint8 fields) for SMM-Bench-size models; missing-value
and categorical rules are folded into the binning. Each tree's splits (hottest first, by the
training counts in the text) and leaf values share one contiguous block of a huge-page buffer.
One row walks 8 trees at a time and prefetches tree blocks ahead; a batch walks blocks of trees
that stay in cache, 8 rows at a time. Tree outputs are summed per fold in LightGBM's order.

Which iterations the reference uses (checked in LightGBM 4.7's python package): ``CVBooster``
loaded from a file stores the JSON ``best_iteration`` on itself, but builds each fold with
``Booster(model_str=...)``, whose ``best_iteration`` stays -1; ``CVBooster.predict`` forwards to each
``Booster.predict(num_iteration=None)``, which then means "all iterations in the text". So the JSON
``best_iteration`` never affects the reference prediction; only the trees present in each fold's text
do (``lgb.cv`` with early stopping saves each fold truncated to the best iteration already).
``TreeEnsemble`` therefore uses all trees by default; ``num_iteration=k > 0`` keeps the first ``k``
iterations of every fold, like ``Booster.predict(num_iteration=k)``.
"""

from __future__ import annotations

import io
import logging
import mmap
import os
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from smm_plugins._engine_kernels import (
    PREFETCH_LINES,
    SLOT_CATEGORICAL,
    SLOT_NUMERICAL,
    bin_rows,
    predict_binned,
    predict_one,
)
from smm_plugins._engine_parse import ParsedBooster, parse_model_text
from smm_plugins._io import atomic_write_bytes

__all__ = ["TreeEnsemble"]

log = logging.getLogger(__name__)


def _check_tree_shapes(pb: ParsedBooster, where: str) -> None:
    """Every tree must be a proper binary tree rooted at node 0 (else traversal could loop)."""
    nl = pb.num_leaves
    n_int = nl - 1
    tree_of_split = np.repeat(np.arange(nl.size), n_int)
    n_in_tree = n_int[tree_of_split]
    for child in (pb.left_child, pb.right_child):
        bad = (child >= n_in_tree) | (child < -(n_in_tree + 1))
        if np.any(bad):
            t = int(tree_of_split[np.flatnonzero(bad)[0]])
            raise ValueError(f"malformed LightGBM model text ({where}, Tree={t}): child index out of range")
    # Each non-root split and each leaf must have exactly one parent.
    node0 = np.concatenate([[0], np.cumsum(n_int)[:-1]])
    leaf0 = np.concatenate([[0], np.cumsum(nl)[:-1]])
    ch = np.concatenate([pb.left_child, pb.right_child])
    tt = np.concatenate([tree_of_split, tree_of_split])
    is_leaf = ch < 0
    split_hits = np.bincount(node0[tt[~is_leaf]] + ch[~is_leaf], minlength=int(n_int.sum()))
    leaf_hits = np.bincount(leaf0[tt[is_leaf]] + ~ch[is_leaf], minlength=int(nl.sum()))
    roots = np.zeros(int(n_int.sum()), dtype=bool)
    roots[node0[n_int > 0]] = True
    want_leaf_hits = np.repeat(nl > 1, nl).astype(np.int64)
    if np.any(split_hits != ~roots) or np.any(leaf_hits != want_leaf_hits):
        bad_split = np.flatnonzero(split_hits != ~roots)
        t = (
            int(tree_of_split[bad_split[0]])
            if bad_split.size
            else int(np.repeat(np.arange(nl.size), nl)[np.flatnonzero(leaf_hits != want_leaf_hits)[0]])
        )
        raise ValueError(f"malformed LightGBM model text ({where}, Tree={t}): children do not form a tree")


def _truncate(pb: ParsedBooster, num_iteration: int | None) -> ParsedBooster:
    """Keep the first ``num_iteration`` trees (one tree per iteration); None or <= 0 keeps all."""
    if num_iteration is None or num_iteration <= 0 or num_iteration >= pb.num_leaves.size:
        return pb
    k = num_iteration
    ns = int(np.sum(pb.num_leaves[:k] - 1))
    nlv = int(np.sum(pb.num_leaves[:k]))
    return ParsedBooster(
        pb.n_features,
        pb.feature_names,
        pb.num_leaves[:k],
        pb.split_feature[:ns],
        pb.threshold[:ns],
        pb.decision_type[:ns],
        pb.left_child[:ns],
        pb.right_child[:ns],
        pb.leaf_value[:nlv],
        pb.cat_bitsets[:k],
        pb.internal_count[:ns],
        pb.leaf_count[:nlv],
        pb.average_output,
    )


class TreeEnsemble:
    """Mean raw prediction of several LightGBM boosters (the folds of a CV booster).

    Build with :meth:`from_model_strings` (or :meth:`load` one written by :meth:`save`).
    Predicting runs on the calling thread only (never starts threads, so it cannot oversubscribe
    cores); it releases the GIL, and concurrent calls from several threads on one ensemble are safe.
    """

    n_features: int
    feature_names: list[str]
    #: trees per cache block in batch prediction (a block should fit in L2 with its leaves)
    tree_block: int = 512

    def __init__(self, arrays: dict[str, np.ndarray], n_features: int, feature_names: list[str]) -> None:
        """Internal: wrap compiled arrays. Use :meth:`from_model_strings` or :meth:`load`."""
        self._a = arrays
        self.n_features = n_features
        self.feature_names = feature_names
        a = arrays
        self._big = a["nodes"].dtype.type(a["big"][0])
        self._lf = a["nodes"].dtype.type(a["lf"][0])
        self._n_slots = max(1, a["slots"].shape[1])
        self._n_folds = int(a["fold_t0"].size - 1)
        self._n_trees = int(a["tree_root"].size)

    @property
    def nbytes(self) -> int:
        """Memory held by the compiled model arrays, in bytes."""
        # "nodes" and "leaf_value" are two views of one buffer of per-tree blocks; count it once
        return int(sum(v.nbytes for k, v in self._a.items() if k != "leaf_value"))

    @property
    def n_splits(self) -> int:
        """Total number of split nodes over all folds."""
        return int(self._a["n_splits"][0])

    @property
    def n_trees(self) -> int:
        """Total number of trees over all folds."""
        return int(self._a["tree_root"].size)

    @classmethod
    def from_model_strings(cls, model_strings: Sequence[str], *, num_iteration: int | None = None) -> TreeEnsemble:
        """Compile LightGBM text models (one per fold) into an ensemble.

        ``num_iteration``: None or <= 0 uses every tree in each text (what ``CVBooster.predict``
        does, see the module docstring); k > 0 uses the first k iterations of each fold.
        Raises ``ValueError`` for malformed or unsupported models.
        """
        if isinstance(model_strings, str) or len(model_strings) == 0:
            raise ValueError("model_strings must be a non-empty sequence of LightGBM model texts")
        parsed = []
        for i, s in enumerate(model_strings):
            pb = parse_model_text(s, where=f"booster {i}")
            _check_tree_shapes(pb, f"booster {i}")
            parsed.append(_truncate(pb, num_iteration))
        nf = parsed[0].n_features
        for i, pb in enumerate(parsed):
            if pb.n_features != nf or pb.feature_names != parsed[0].feature_names:
                raise ValueError(f"booster {i} has different features than booster 0")
        arrays = _compile(parsed)
        return cls(arrays, nf, list(parsed[0].feature_names))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Store the compiled arrays as an uncompressed ``.npz`` (no pickle), e.g. as a load cache.

        :meth:`load` reads it back in milliseconds instead of re-parsing the model text. The file
        is tied to this engine's layout version; a mismatch is refused with a clear error.
        """
        arrays: dict[str, Any] = {k: v for k, v in self._a.items() if k not in ("nodes", "leaf_value")}
        arrays["block_buffer"] = self._a["nodes"].reshape(-1).view(np.uint8)
        arrays["node_dtype"] = np.array(self._a["nodes"].dtype.str)
        arrays["feature_names"] = np.array(self.feature_names, dtype=str)
        arrays["layout_version"] = np.array(_LAYOUT_VERSION)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TreeEnsemble:
        """Load an ensemble written by :meth:`save`. Raises ``ValueError`` for foreign or stale files."""
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"{path}: not a TreeEnsemble file ({e})") from None
        if data.get("layout_version", np.array(-1)).item() != _LAYOUT_VERSION:
            raise ValueError(f"{path}: written by another engine layout version; rebuild it from the model text")
        missing = {
            "slots",
            "thresholds",
            "cat_bits",
            "big",
            "lf",
            "trees",
            "tree_root",
            "fold_t0",
            "fold_div",
            "n_splits",
            "block_buffer",
            "node_dtype",
            "feature_names",
        } - set(data)
        if missing:
            raise ValueError(f"{path}: not a complete TreeEnsemble file (lacks {sorted(missing)})")
        raw = data.pop("block_buffer")
        buf = _aligned_buffer(raw.size)
        buf[:] = raw
        ndt = np.dtype(str(data.pop("node_dtype")))
        data["nodes"] = buf.view(ndt).reshape(-1, 4)
        data["leaf_value"] = buf.view(np.float64)
        data["tree_root"] = data["tree_root"].astype(ndt)
        names = [str(n) for n in data.pop("feature_names")]
        data.pop("layout_version")
        return cls(data, len(names), names)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Mean over folds of each fold's prediction; ``X`` (n, n_features) float64 -> (n,) float64.

        Any float values are accepted (NaN, inf, out of the training range), handled exactly as
        LightGBM does. A 1-D ``X`` of length ``n_features`` is one row (result shape (1,)).
        Runs on the calling thread only.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must have shape (n, {self.n_features}), got {X.shape}")
        a = self._a
        if X.shape[0] == 1:
            # scratch buffers per call (about a microsecond), so concurrent calls from threads are safe
            x = np.ascontiguousarray(X[0])
            v = predict_one(
                x,
                a["slots"],
                a["thresholds"],
                a["cat_bits"],
                self._big,
                a["nodes"],
                a["trees"],
                a["tree_root"],
                a["leaf_value"],
                self._lf,
                a["fold_t0"],
                a["fold_div"],
                np.empty(self._n_slots, dtype=a["nodes"].dtype),
                np.empty(self._n_trees),
                np.empty(self._n_folds),
            )
            return np.array([v])
        return self._predict_batch(X)[1]

    def predict_folds(self, X: np.ndarray) -> np.ndarray:
        """Each fold's prediction, ``X`` (n, n_features) float64 -> (n, n_folds) float64.

        Their mean over folds is :meth:`predict` (the same sums, in the same order). The spread over
        folds shows where the boosters, each fitted on different rows, disagree.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must have shape (n, {self.n_features}), got {X.shape}")
        return self._predict_batch(X)[0] / self._a["fold_div"][None, :]

    def _predict_batch(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # (per-fold sums (n, n_folds), mean over folds (n,)) of a validated 2-D batch
        a = self._a
        X = np.ascontiguousarray(X)
        n = X.shape[0]
        RB = np.empty((n, self._n_slots), dtype=a["nodes"].dtype)
        bin_rows(X, a["slots"], a["thresholds"], a["cat_bits"], self._big, RB)
        out = np.empty(n, dtype=np.float64)
        acc = np.empty((n, self._n_folds), dtype=np.float64)
        predict_binned(
            RB,
            a["nodes"],
            a["trees"],
            a["tree_root"],
            a["leaf_value"],
            self._lf,
            a["fold_div"],
            self.tree_block,
            acc,
            out,
        )
        return acc, out


_HUGE = 2 * 1024 * 1024
#: Version of the compiled-array layout stored by ``TreeEnsemble.save`` (bump on any change).
_LAYOUT_VERSION = 1


def _aligned_buffer(nbytes: int) -> np.ndarray:
    """A zeroed uint8 buffer of ``nbytes``, 2 MiB-aligned, backed by transparent huge pages if possible.

    The ~8 MB a prediction walks then costs a handful of TLB entries instead of ~2,000 4 KiB pages,
    which matters most right after other code (an optimiser, LightGBM) has flushed the TLB. Where
    ``MADV_HUGEPAGE`` is unavailable this is just an ordinary private anonymous mapping.
    """
    size = nbytes + _HUGE
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    buf = mmap.mmap(-1, size, flags=flags) if flags else mmap.mmap(-1, size)
    whole = np.frombuffer(buf, dtype=np.uint8)
    off = (-whole.ctypes.data) % _HUGE
    if hasattr(mmap, "MADV_HUGEPAGE") and nbytes >= _HUGE:
        try:
            buf.madvise(mmap.MADV_HUGEPAGE, off, size - off)
        except (OSError, ValueError):  # not supported here: only slower
            pass
    return whole[off : off + nbytes]


def _interleave(
    nodes: np.ndarray, leaf_value: np.ndarray, num_leaves: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Store each tree as one contiguous block: its splits, then its leaf values.

    A walk then touches the tree's first (hottest) node line and a nearby leaf line, and walking
    trees in order streams through memory, which the hardware prefetchers follow. Blocks start on
    64-byte lines. Returns (node view (rows, 4), leaf view float64, first node row per tree, first
    leaf index per tree, block starts in float64 units, n_trees + 1 of them); the views share one buffer whose
    last node row is a zero dummy split.
    """
    ndt = nodes.dtype
    row = 4 * ndt.itemsize  # bytes per split
    n_int = num_leaves - 1
    node_bytes = (n_int * row + 7) // 8 * 8
    block = (node_bytes + 8 * num_leaves + 63) // 64 * 64
    start = np.concatenate([[0], np.cumsum(block)]).astype(np.int64)
    total = int(start[-1]) + 64  # + the dummy split row (zeros) at the very end
    buf = _aligned_buffer(total)
    nview = buf.view(ndt).reshape(-1, 4)
    lview = buf.view(np.float64)
    node_row0 = start[:-1] // row
    leaf0 = (start[:-1] + node_bytes) // 8
    split_rows = np.repeat(node_row0, n_int) + (
        np.arange(int(n_int.sum())) - np.repeat(np.concatenate([[0], np.cumsum(n_int)[:-1]]), n_int)
    )
    nview[split_rows] = nodes[: int(n_int.sum())]
    leaf_slots = np.repeat(leaf0, num_leaves) + (
        np.arange(int(num_leaves.sum())) - np.repeat(np.concatenate([[0], np.cumsum(num_leaves)[:-1]]), num_leaves)
    )
    lview[leaf_slots] = leaf_value
    return nview, lview, node_row0, leaf0, start // 8


def _hot_first_layout(
    num_leaves: np.ndarray, icount: np.ndarray, lcount: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Order each tree's splits and leaves by training traffic (the counts in the model text).

    Typical paths then stay in the first cache line or two of a tree, which matters because the
    whole ensemble does not fit in L2. Only the root has to stay first (children are explicit);
    ties keep LightGBM's order, in which parents precede children. Returns (split order, new local
    index of each old split, leaf order, new local index of each old leaf), global over the
    concatenated trees.
    """
    n_int = num_leaves - 1
    n_split = int(n_int.sum())
    tree_of_split = np.repeat(np.arange(num_leaves.size), n_int)
    tree_of_leaf = np.repeat(np.arange(num_leaves.size), num_leaves)
    split0 = np.concatenate([[0], np.cumsum(n_int)[:-1]]).astype(np.int64)
    leaf0 = np.concatenate([[0], np.cumsum(num_leaves)[:-1]]).astype(np.int64)
    local = np.arange(n_split) - split0[tree_of_split]
    order = np.lexsort((local, -icount, local != 0, tree_of_split))
    new_local = np.empty(n_split, dtype=np.int64)
    new_local[order] = np.arange(n_split) - split0[tree_of_split[order]]
    lorder = np.lexsort((-lcount, tree_of_leaf))
    new_leaf = np.empty(lorder.size, dtype=np.int64)
    new_leaf[lorder] = np.arange(lorder.size) - leaf0[tree_of_leaf[lorder]]
    return order, new_local, lorder, new_leaf


class _SlotTable:
    """The slots being built: one per distinct split test, as the kernels' ``slots`` columns.

    A numerical slot is (feature, missing type, default direction) and a range of the thresholds
    table; a categorical slot is (feature, category bitset) and a range of the bitset words.
    """

    def __init__(self) -> None:
        # Per slot: feature, kind, missing type, default left, thresholds [t0, t1), words [c0, c1).
        self.rows: list[tuple[int, int, int, int, int, int, int, int]] = []
        self.thresholds: list[np.ndarray] = []
        self.words: list[np.ndarray] = []
        self._n_thresholds = 0
        self._n_words = 0

    def add_threshold_table(self, table: np.ndarray) -> int:
        """Append one feature's sorted thresholds; returns where they start."""
        t0 = self._n_thresholds
        self.thresholds.append(table)
        self._n_thresholds += table.size
        return t0

    def add_numerical(self, feature: int, mtype: int, dleft: int, t0: int, t1: int) -> int:
        self.rows.append((feature, SLOT_NUMERICAL, mtype, dleft, t0, t1, 0, 0))
        return len(self.rows) - 1

    def add_categorical(self, feature: int, bits: np.ndarray) -> int:
        c0 = self._n_words
        self.rows.append((feature, SLOT_CATEGORICAL, 0, 0, 0, 0, c0, c0 + bits.size))
        self.words.append(bits.astype(np.uint32))
        self._n_words += bits.size
        return len(self.rows) - 1

    def arrays(self) -> dict[str, np.ndarray]:
        """``slots`` (8, n_slots) int64, ``thresholds`` float64 and ``cat_bits`` uint32."""
        return {
            "slots": np.ascontiguousarray(np.array(self.rows, dtype=np.int64).reshape(-1, 8).T),
            "thresholds": np.concatenate(self.thresholds) if self.thresholds else np.zeros(0),
            "cat_bits": np.concatenate(self.words).astype(np.uint32) if self.words else np.zeros(0, np.uint32),
        }


def _numerical_slots(
    slots: _SlotTable, feat: np.ndarray, thr: np.ndarray, mtype: np.ndarray, dleft: np.ndarray, num_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Slots of the numerical splits ``num_idx``: one per (feature, missing type, default direction).

    Returns (slot of each split, rank of its threshold in its feature's table, largest table size);
    only the entries of ``num_idx`` are set.
    """
    slot_of = np.empty(feat.size, dtype=np.int64)
    k_of = np.zeros(feat.size, dtype=np.int64)
    max_k = 0
    for f in np.unique(feat[num_idx]):
        on_f = num_idx[feat[num_idx] == f]
        table = np.unique(thr[on_f])
        k_of[on_f] = np.searchsorted(table, thr[on_f])
        max_k = max(max_k, table.size)
        t0 = slots.add_threshold_table(table)
        for mt in np.unique(mtype[on_f]):
            for dl in np.unique(dleft[on_f][mtype[on_f] == mt]):
                sel = on_f[(mtype[on_f] == mt) & (dleft[on_f] == dl)]
                slot_of[sel] = slots.add_numerical(int(f), int(mt), int(dl), t0, t0 + table.size)
    return slot_of, k_of, max_k


def _category_set_of_splits(
    parsed: list[ParsedBooster], thr: np.ndarray, cat_split_idx: np.ndarray, num_leaves: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """(global index of the category set of each categorical split, all sets); checks the references."""
    tree_of_split = np.repeat(np.arange(num_leaves.size), num_leaves - 1)
    split0 = np.concatenate([[0], np.cumsum(num_leaves - 1)[:-1]])
    per_tree = [b for pb in parsed for b in pb.cat_bitsets]  # per tree: its category sets
    n_sets = np.array([len(b) for b in per_tree], dtype=np.int64)
    set0 = np.concatenate([[0], np.cumsum(n_sets)[:-1]])
    sets = [w for b in per_tree for w in b]
    t_cat = tree_of_split[cat_split_idx]
    ci = thr[cat_split_idx]
    bad = (ci != np.floor(ci)) | (ci < 0) | (ci >= n_sets[t_cat])
    if np.any(bad):
        i = int(cat_split_idx[np.flatnonzero(bad)[0]])
        t = int(tree_of_split[i])
        raise ValueError(
            f"malformed LightGBM model text: Tree={t} categorical split {i - split0[t]} "
            f"refers to missing category set {thr[i]!r}"
        )
    return set0[t_cat] + ci.astype(np.int64), sets


def _categorical_slots(
    slots: _SlotTable, feat: np.ndarray, cat_split_idx: np.ndarray, g: np.ndarray, sets: list[np.ndarray]
) -> np.ndarray:
    """Slots of the categorical splits ``cat_split_idx`` (set ``g`` each): one per (feature, bitset).

    Returns the slot of each of those splits.
    """
    # Sets of <= 64 categories (the usual case) are keyed by two words, vectorised; trailing zero
    # words carry no category, so they do not matter.
    lens = np.array([w.size for w in sets], dtype=np.int64)
    w01 = np.zeros((len(sets), 2), dtype=np.int64)
    short = np.flatnonzero(lens <= 2)
    for j in (0, 1):
        has = short[lens[short] > j]
        w01[has, j] = [int(sets[k][j]) for k in has]
    long_key = np.zeros(len(sets), dtype=bool)
    for k in np.flatnonzero(lens > 2):
        long_key[k] = bool(np.any(sets[k][2:]))

    keys = np.stack([feat[cat_split_idx], w01[g, 0], w01[g, 1]], axis=1)
    uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    uniq_slot = np.empty(len(uniq), dtype=np.int64)
    for u in range(len(uniq)):
        set_index = g[first[u]]
        # Long sets are keyed below (-1 is never read: those splits are overwritten there).
        uniq_slot[u] = -1 if long_key[set_index] else slots.add_categorical(int(uniq[u, 0]), _trimmed(sets[set_index]))
    slot_of = uniq_slot[inverse.reshape(-1)]
    seen: dict[tuple[int, ...], int] = {}
    for pos in np.flatnonzero(long_key[g]):  # rare: sets of more than 64 categories
        bits = _trimmed(sets[g[pos]])
        key = (int(feat[cat_split_idx[pos]]), *bits.tolist())
        if key not in seen:
            seen[key] = slots.add_categorical(key[0], bits)
        slot_of[pos] = seen[key]
    return slot_of


def _trimmed(words: np.ndarray) -> np.ndarray:
    return np.trim_zeros(words, "b")


def _node_dtype(n_slots: int, max_k: int, max_leaves: int, min_bits: int) -> type[np.unsignedinteger]:
    """Smallest unsigned node dtype of at least ``min_bits`` that holds every node field.

    Fields: slot ids, threshold ranks (+ a "missing, go right" value above them all) and tree-local
    children with a leaf flag bit.
    """
    for ndt in (np.uint8, np.uint16, np.uint32):
        bits = np.iinfo(ndt).bits
        if bits >= min_bits and n_slots <= 2**bits and max_k <= 2**bits - 2 and max_leaves <= 2 ** (bits - 1):
            return ndt
    raise ValueError("model too large for the engine (over 2**31 leaves per tree)")


def _node_table(
    parsed: list[ParsedBooster], num_leaves: np.ndarray, slot_of: np.ndarray, k_of: np.ndarray, ndt: type
) -> tuple[np.ndarray, np.ndarray]:
    """Split nodes in hot-first order, ``(n_splits + 1, 4)`` of (slot, rank, left, right), and the leaf order.

    Children are tree-local indices; a leaf child has the top bit of ``ndt`` set. The extra last row is
    a dummy split read by finished lanes.
    """
    left = np.concatenate([pb.left_child for pb in parsed])
    right = np.concatenate([pb.right_child for pb in parsed])
    icount = np.concatenate([pb.internal_count for pb in parsed])
    lcount = np.concatenate([pb.leaf_count for pb in parsed])
    n_split = left.size
    lf = 2 ** (np.iinfo(ndt).bits - 1)
    order, new_local, lorder, new_leaf = _hot_first_layout(num_leaves, icount, lcount)
    tree_of_split = np.repeat(np.arange(num_leaves.size), num_leaves - 1)
    split0 = np.concatenate([[0], np.cumsum(num_leaves - 1)[:-1]]).astype(np.int64)
    leaf0 = np.concatenate([[0], np.cumsum(num_leaves)[:-1]]).astype(np.int64)
    nodes: np.ndarray = np.zeros((n_split + 1, 4), dtype=ndt)
    for col, child in ((2, left), (3, right)):
        c = child[order]
        t = tree_of_split[order]
        nodes[:n_split, col] = np.where(
            c >= 0, new_local[split0[t] + np.maximum(c, 0)], lf + new_leaf[leaf0[t] + np.maximum(~c, 0)]
        )
    nodes[:n_split, 0] = slot_of[order]
    nodes[:n_split, 1] = k_of[order]
    return nodes, lorder


def _compile(parsed: list[ParsedBooster], min_bits: int = 8) -> dict[str, np.ndarray]:
    """Turn parsed boosters into the slot/node arrays of :mod:`smm_plugins._engine_kernels`.

    ``min_bits`` (8, 16 or 32) forces a wider node dtype than needed (tests of the wide layouts).
    """
    feat = np.concatenate([pb.split_feature for pb in parsed])
    thr = np.concatenate([pb.threshold for pb in parsed])
    dtype_ = np.concatenate([pb.decision_type for pb in parsed])
    num_leaves = np.concatenate([pb.num_leaves for pb in parsed])
    is_cat = (dtype_ & 1) > 0
    mtype = (dtype_ >> 2) & 3
    dleft = ((dtype_ & 2) > 0).astype(np.int64)
    dleft[mtype == 0] = 0  # without missing handling the default direction is never used
    if np.any(np.isnan(thr[~is_cat])):
        raise ValueError("malformed LightGBM model text: NaN split threshold")

    slots = _SlotTable()
    slot_of, k_of, max_k = _numerical_slots(slots, feat, thr, mtype, dleft, np.flatnonzero(~is_cat))
    if np.any(is_cat):
        cat_split_idx = np.flatnonzero(is_cat)
        g, sets = _category_set_of_splits(parsed, thr, cat_split_idx, num_leaves)
        slot_of[cat_split_idx] = _categorical_slots(slots, feat, cat_split_idx, g, sets)
        k_of[cat_split_idx] = 0

    n_slots = len(slots.rows)
    ndt = _node_dtype(n_slots, max_k, int(np.max(num_leaves)) if num_leaves.size else 1, min_bits)
    lf = 2 ** (np.iinfo(ndt).bits - 1)
    nodes, lorder = _node_table(parsed, num_leaves, slot_of, k_of, ndt)
    leaf_value = np.concatenate([pb.leaf_value for pb in parsed])[lorder]
    nodes, leaf_value, node_row0, leaf_start, block8 = _interleave(nodes, leaf_value, num_leaves)

    fold_t0 = np.concatenate([[0], np.cumsum([pb.num_leaves.size for pb in parsed])]).astype(np.int64)
    fold_div = np.array([float(pb.num_leaves.size) if pb.average_output else 1.0 for pb in parsed])
    # rows: first node row, first leaf (float64 index), fold, block start (float64 index), lines
    lines = np.minimum(np.diff(block8) // 8, PREFETCH_LINES)
    fold_of_tree = np.repeat(np.arange(len(parsed)), np.diff(fold_t0))
    trees = np.stack([node_row0, leaf_start, fold_of_tree, block8[:-1], lines]).astype(np.int64)
    arrays = {
        **slots.arrays(),
        "big": np.array([np.iinfo(ndt).max], dtype=np.int64),
        "lf": np.array([lf], dtype=np.int64),
        "nodes": nodes,
        "trees": np.ascontiguousarray(trees),
        "tree_root": np.where(num_leaves > 1, 0, lf).astype(ndt),
        "leaf_value": leaf_value,
        "fold_t0": fold_t0,
        "fold_div": fold_div,
        "n_splits": np.array([feat.size], dtype=np.int64),
    }
    log.debug(
        "compiled %d trees, %d splits, %d slots, node dtype %s", num_leaves.size, feat.size, n_slots, np.dtype(ndt).name
    )
    return arrays
