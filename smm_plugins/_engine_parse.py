"""Parse LightGBM text models into flat numpy arrays (private helper of :mod:`smm_plugins.engine`).

Only the fields prediction needs are read. Numbers are parsed with numpy's text parser, which rounds
correctly; LightGBM writes thresholds and leaf values with 17 significant digits and reads them back
with a precise parser too, so both sides hold bit-identical doubles.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

#: Objectives whose prediction output is the raw score (``ConvertOutput`` is the identity; a custom
#: objective has no built-in conversion at all).
_IDENTITY_OBJECTIVES = frozenset({"regression", "regression_l1", "huber", "fair", "quantile", "mape", "custom", "none"})


@dataclass
class ParsedBooster:
    """All trees of one LightGBM booster, concatenated (tree ``t`` owns ``num_leaves[t] - 1`` splits)."""

    n_features: int
    feature_names: list[str]
    num_leaves: np.ndarray  # (T,) int64
    split_feature: np.ndarray  # (sum splits,) int64
    threshold: np.ndarray  # (sum splits,) float64; for categorical splits the cat_boundaries index
    decision_type: np.ndarray  # (sum splits,) int64
    left_child: np.ndarray  # (sum splits,) int64, tree-local; < 0 means leaf ~c
    right_child: np.ndarray
    leaf_value: np.ndarray  # (sum leaves,) float64
    cat_bitsets: list[list[np.ndarray]]  # per tree: list of uint32 bitsets (index = cat_idx)
    internal_count: np.ndarray  # (sum splits,) int64 training rows per split (0 if not in the text)
    leaf_count: np.ndarray  # (sum leaves,) int64 training rows per leaf (0 if not in the text)
    average_output: bool


def _err(where: str, msg: str) -> ValueError:
    return ValueError(f"malformed LightGBM model text ({where}): {msg}")


def _numbers(s: str, n: int | None, dtype: type, where: str) -> np.ndarray:
    # numpy's text parser: C speed, correctly rounded doubles, ValueError on anything unparsable
    try:
        with warnings.catch_warnings():  # numpy < 2.3 only warns about unparsable text
            warnings.simplefilter("error", DeprecationWarning)
            arr: np.ndarray = np.fromstring(s, dtype=dtype, sep=" ")
    except (ValueError, DeprecationWarning):
        kind = "number" if dtype is np.float64 else "integer"
        raise _err(where, f"bad {kind} in {s[:60]!r}...") from None
    if n is not None and arr.size != n:
        raise _err(where, f"expected {n} numbers, found {arr.size}")
    return arr


def _floats(s: str, n: int, where: str) -> np.ndarray:
    return _numbers(s, n, np.float64, where)


def _ints(s: str, n: int | None, where: str) -> np.ndarray:
    return _numbers(s, n, np.int64, where)


def _check_count(s: str, n: int, where: str) -> None:
    # one tree's field must hold exactly n numbers (LightGBM separates them by single spaces)
    if s.count(" ") + 1 != n and len(s.split()) != n:
        raise _err(where, f"expected {n} numbers, found {len(s.split())}")


def _check_objective(line: str | None, where: str) -> None:
    if line is None:  # custom objective: prediction is the raw score
        return
    tokens = line.split()
    name = tokens[0] if tokens else ""
    if name not in _IDENTITY_OBJECTIVES or "sqrt" in tokens[1:]:
        raise ValueError(
            f"{where}: objective {line!r} transforms the raw score at prediction time; the engine "
            f"supports only identity-output objectives ({', '.join(sorted(_IDENTITY_OBJECTIVES))})"
        )


_SPLIT_FIELDS = ("split_feature", "threshold", "decision_type", "left_child", "right_child")


def parse_model_text(text: str, where: str = "model") -> ParsedBooster:
    """Parse one LightGBM text model (``Booster.model_to_string`` format).

    Raises ``ValueError`` naming the problem for truncated or malformed text, multi-class models,
    linear trees and objectives with a non-identity output transform.
    """
    if not isinstance(text, str):
        raise TypeError(f"{where}: model must be a str, got {type(text).__name__}")
    start = text.find("\nTree=")
    if not text.startswith("tree") or start < 0:
        raise _err(where, "no 'Tree=' block found (is this a LightGBM text model?)")
    end = text.find("\nend of trees", start)
    if end < 0:
        raise _err(where, "missing 'end of trees' (truncated file?)")
    header = _parse_header(text[:start], where)
    n_features = int(header["max_feature_idx"]) + 1
    blocks = text[start + 1 : end].split("\nTree=")
    blocks[0] = blocks[0][len("Tree=") :]
    trees = _TreeTexts()
    for t, block in enumerate(blocks):
        trees.add(block, f"{where}, Tree={t}")
    return trees.parse(where, n_features, header["feature_names"].split(), "average_output" in header)


def _parse_header(text: str, where: str) -> dict[str, str]:
    """The ``key=value`` lines before the first tree, checked: one output, consistent feature count."""
    header: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        key, _, val = line.partition("=")  # flags such as "average_output" have no value
        if key.strip():
            header[key.strip()] = val.strip()
    for key in ("num_class", "max_feature_idx", "feature_names"):
        if key not in header:
            raise _err(where, f"header lacks '{key}'")
    try:
        num_class = int(header["num_class"])
        ntpi = int(header.get("num_tree_per_iteration", header["num_class"]))
        n_features = int(header["max_feature_idx"]) + 1
    except ValueError:
        raise _err(where, "bad integer in header") from None
    if num_class != 1 or ntpi != 1:
        raise ValueError(f"{where}: multi-class / multi-output models (num_class={num_class}) are not supported")
    n_names = len(header["feature_names"].split())
    if n_names != n_features:
        raise _err(where, f"{n_names} feature_names for max_feature_idx+1={n_features}")
    _check_objective(header.get("objective"), where)
    return header


def _tree_fields(block: str) -> dict[str, str]:
    """``key -> value text`` of one tree block (its first line is the tree index)."""
    kv: dict[str, str] = {}
    for line in block.split("\n")[1:]:
        key, sep, val = line.partition("=")
        if sep:
            kv[key] = val
    return kv


def _tree_num_leaves(kv: dict[str, str], where: str) -> int:
    try:
        nl = int(kv["num_leaves"])
    except (KeyError, ValueError):
        raise _err(where, "missing or bad 'num_leaves'") from None
    if nl < 1:
        raise _err(where, f"num_leaves={nl}")
    if kv.get("is_linear", "0").strip() not in ("0", ""):
        raise ValueError(f"{where}: linear trees (linear_tree=true) are not supported by the engine")
    return nl


def _category_sets(kv: dict[str, str], where: str) -> list[np.ndarray]:
    """The category bitsets of one tree (uint32 words each), ``[]`` without categorical splits."""
    try:
        num_cat = int(kv.get("num_cat", "0") or 0)
    except ValueError:
        raise _err(where, "bad 'num_cat'") from None
    if num_cat <= 0:
        return []
    bounds = _ints(kv.get("cat_boundaries", ""), num_cat + 1, where + " cat_boundaries")
    bits = _ints(kv.get("cat_threshold", ""), int(bounds[-1]), where + " cat_threshold")
    if bounds[0] != 0 or np.any(np.diff(bounds) < 0):
        raise _err(where, "cat_boundaries not increasing from 0")
    return [bits[bounds[i] : bounds[i + 1]].astype(np.uint32) for i in range(num_cat)]


class _TreeTexts:
    """The per-tree field texts of one model, checked per tree and parsed in one pass at the end.

    Joining the texts and parsing them once is much faster than one numpy parse per tree and field.
    """

    def __init__(self) -> None:
        self.num_leaves: list[int] = []
        self.fields: dict[str, list[str]] = {k: [] for k in _SPLIT_FIELDS}
        self.leaf_value: list[str] = []
        self.internal_count: list[str] = []
        self.leaf_count: list[str] = []
        self.cat_bitsets: list[list[np.ndarray]] = []

    def add(self, block: str, where: str) -> None:
        """Check and keep one tree block."""
        kv = _tree_fields(block)
        nl = _tree_num_leaves(kv, where)
        self.num_leaves.append(nl)
        if "leaf_value" not in kv:
            raise _err(where, "missing 'leaf_value'")
        _check_count(kv["leaf_value"], nl, where + " leaf_value")
        self.leaf_value.append(kv["leaf_value"])
        # optional counts, used only to lay hot nodes out together (zeros if absent)
        self.leaf_count.append(kv.get("leaf_count") or " ".join(["0"] * nl))
        if nl == 1:
            self.cat_bitsets.append([])
            return
        self.internal_count.append(kv.get("internal_count") or " ".join(["0"] * (nl - 1)))
        for key in _SPLIT_FIELDS:
            if key not in kv:
                if key != "decision_type":
                    raise _err(where, f"missing '{key}'")
                kv[key] = " ".join(["0"] * (nl - 1))  # LightGBM's default: numerical, no missing
            _check_count(kv[key], nl - 1, f"{where} {key}")
            self.fields[key].append(kv[key])
        self.cat_bitsets.append(_category_sets(kv, where))

    def parse(self, where: str, n_features: int, feature_names: list[str], average_output: bool) -> ParsedBooster:
        """All trees' numbers as one :class:`ParsedBooster`."""
        num_leaves = np.array(self.num_leaves, dtype=np.int64)
        n_splits = int(np.sum(num_leaves - 1))
        n_leaves = int(np.sum(num_leaves))
        split = {k: _ints(" ".join(v), n_splits, f"{where} {k}") for k, v in self.fields.items() if k != "threshold"}
        if n_splits and (split["split_feature"].min() < 0 or split["split_feature"].max() >= n_features):
            raise _err(where, "split_feature out of range")
        return ParsedBooster(
            n_features=n_features,
            feature_names=feature_names,
            num_leaves=num_leaves,
            split_feature=split["split_feature"],
            threshold=_floats(" ".join(self.fields["threshold"]), n_splits, where + " threshold"),
            decision_type=split["decision_type"],
            left_child=split["left_child"],
            right_child=split["right_child"],
            leaf_value=_floats(" ".join(self.leaf_value), n_leaves, where + " leaf_value"),
            cat_bitsets=self.cat_bitsets,
            internal_count=_ints(" ".join(self.internal_count), n_splits, where + " internal_count"),
            leaf_count=_ints(" ".join(self.leaf_count), n_leaves, where + " leaf_count"),
            average_output=average_output,
        )
