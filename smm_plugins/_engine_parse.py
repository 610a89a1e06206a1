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
            arr = np.fromstring(s, dtype=dtype, sep=" ")
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
    header: dict[str, str] = {}
    for line in text[:start].splitlines()[1:]:
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
    feature_names = header["feature_names"].split()
    if len(feature_names) != n_features:
        raise _err(where, f"{len(feature_names)} feature_names for max_feature_idx+1={n_features}")
    _check_objective(header.get("objective"), where)

    blocks = text[start + 1 : end].split("\nTree=")
    blocks[0] = blocks[0][len("Tree=") :]
    n_trees = len(blocks)
    num_leaves = np.empty(n_trees, dtype=np.int64)
    fields: dict[str, list[str]] = {
        k: [] for k in ("split_feature", "threshold", "decision_type", "left_child", "right_child")
    }
    leaf_strs: list[str] = []
    icount_strs: list[str] = []
    lcount_strs: list[str] = []
    cat_bitsets: list[list[np.ndarray]] = []
    for t, block in enumerate(blocks):
        tw = f"{where}, Tree={t}"
        kv: dict[str, str] = {}
        for line in block.split("\n")[1:]:
            key, sep, val = line.partition("=")
            if sep:
                kv[key] = val
        try:
            nl = int(kv["num_leaves"])
        except (KeyError, ValueError):
            raise _err(tw, "missing or bad 'num_leaves'") from None
        if nl < 1:
            raise _err(tw, f"num_leaves={nl}")
        if kv.get("is_linear", "0").strip() not in ("0", ""):
            raise ValueError(f"{tw}: linear trees (linear_tree=true) are not supported by the engine")
        num_leaves[t] = nl
        if "leaf_value" not in kv:
            raise _err(tw, "missing 'leaf_value'")
        _check_count(kv["leaf_value"], nl, tw + " leaf_value")
        leaf_strs.append(kv["leaf_value"])
        # optional counts, used only to lay hot nodes out together (zeros if absent)
        lcount_strs.append(kv.get("leaf_count") or " ".join(["0"] * nl))
        if nl > 1:
            icount_strs.append(kv.get("internal_count") or " ".join(["0"] * (nl - 1)))
        bitsets: list[np.ndarray] = []
        if nl > 1:
            for key in fields:
                if key not in kv:
                    if key == "decision_type":  # LightGBM defaults it to 0 (numerical, no missing)
                        kv[key] = " ".join(["0"] * (nl - 1))
                    else:
                        raise _err(tw, f"missing '{key}'")
                _check_count(kv[key], nl - 1, f"{tw} {key}")
                fields[key].append(kv[key])
            try:
                num_cat = int(kv.get("num_cat", "0") or 0)
            except ValueError:
                raise _err(tw, "bad 'num_cat'") from None
            if num_cat > 0:
                bounds = _ints(kv.get("cat_boundaries", ""), num_cat + 1, tw + " cat_boundaries")
                bits = _ints(kv.get("cat_threshold", ""), int(bounds[-1]), tw + " cat_threshold")
                if bounds[0] != 0 or np.any(np.diff(bounds) < 0):
                    raise _err(tw, "cat_boundaries not increasing from 0")
                bitsets = [bits[bounds[i] : bounds[i + 1]].astype(np.uint32) for i in range(num_cat)]
        cat_bitsets.append(bitsets)

    n_splits = int(np.sum(num_leaves - 1))
    n_leaves = int(np.sum(num_leaves))
    joined = {k: " ".join(v) for k, v in fields.items()}
    split_feature = _ints(joined["split_feature"], n_splits, where + " split_feature")
    threshold = _floats(joined["threshold"], n_splits, where + " threshold")
    decision_type = _ints(joined["decision_type"], n_splits, where + " decision_type")
    left = _ints(joined["left_child"], n_splits, where + " left_child")
    right = _ints(joined["right_child"], n_splits, where + " right_child")
    leaf_value = _floats(" ".join(leaf_strs), n_leaves, where + " leaf_value")
    internal_count = _ints(" ".join(icount_strs), n_splits, where + " internal_count")
    leaf_count = _ints(" ".join(lcount_strs), n_leaves, where + " leaf_count")
    if n_splits and (split_feature.min() < 0 or split_feature.max() >= n_features):
        raise _err(where, "split_feature out of range")
    return ParsedBooster(
        n_features=n_features,
        feature_names=feature_names,
        num_leaves=num_leaves,
        split_feature=split_feature,
        threshold=threshold,
        decision_type=decision_type,
        left_child=left,
        right_child=right,
        leaf_value=leaf_value,
        cat_bitsets=cat_bitsets,
        internal_count=internal_count,
        leaf_count=leaf_count,
        average_output="average_output" in header,
    )
