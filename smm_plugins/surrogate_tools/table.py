"""Reading a table of merges, checking it against a search space, and splitting its rows.

Each problem of the table raises a ``ValueError`` naming column and row; the seeded split is the same
for the same number of rows and seed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins.space import SearchSpace, dfs_space, ps_space
from smm_plugins.surrogate_tools.config import DEFAULT_OBJECTIVES, MODEL_FILES, BuildConfig

__all__ = ["METADATA_COLUMNS", "read_table", "resolve_space", "split_indices", "validate_table"]

logger = logging.getLogger(__name__)

#: Columns a merge log may carry besides parameters and objectives; they are ignored (``strategy`` is
#: used for the per-strategy breakdown of the report).
METADATA_COLUMNS: frozenset[str] = frozenset(
    {
        "strategy",
        "run_id",
        "eval_seconds",
        "seed",
        "trial",
        "trial_id",
        "step",
        "iteration",
        "timestamp",
        "source",
        "n_problems",
        "worker",
        "host",
        "note",
    }
)


# -- space ------------------------------------------------------------------------------------------


def resolve_space(spec: str | os.PathLike[str] | SearchSpace) -> SearchSpace:
    """Turn ``"ps"``, ``"dfs"``, a SPACE.json path or a :class:`SearchSpace` into a search space.

    ``"ps"``/``"dfs"`` are the core's SMM-Bench spaces (64 weights / 32 choices + 63 scales; the merge
    lab uses the same parameters); ``--space-name`` names the result.
    """
    if isinstance(spec, SearchSpace):
        return spec
    text = os.fspath(spec)
    if text.lower() in ("ps", "dfs"):
        return ps_space() if text.lower() == "ps" else dfs_space()
    path = Path(text)
    if path.is_dir() and (path / "space.json").is_file():
        path = path / "space.json"
    if not path.is_file():
        raise ValueError(
            f"--space {text!r} is neither 'ps', 'dfs' nor an existing SPACE.json file; "
            "write one with SearchSpace.to_json (see docs/surrogates.md)"
        )
    return SearchSpace.from_json(str(path))


# -- data -------------------------------------------------------------------------------------------


def _data_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"DATA {str(path)!r} does not exist (expected a Parquet/CSV file or a folder of parts)")
    # Hidden and underscore files are writers' temporaries or markers (_SUCCESS), not data.
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() in (".parquet", ".pq", ".csv")
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )
    if not files:
        raise ValueError(f"DATA folder {str(path)!r} holds no .parquet or .csv files")
    return files


def read_table(data: str | os.PathLike[str]) -> Any:
    """Read DATA (Parquet file, CSV file, or a folder of Parquet/CSV parts) into one pandas DataFrame.

    Parts are concatenated in sorted path order, so the row order (and every seeded split) is stable.
    """
    import pandas as pd

    frames = []
    for f in _data_files(Path(data)):
        if f.suffix.lower() == ".csv":
            frames.append(pd.read_csv(f))
        else:
            try:
                frames.append(pd.read_parquet(f))
            except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for one cause: a bad file
                raise ValueError(f"cannot read Parquet file {str(f)!r}: {exc}") from None
    table = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    if len(table) == 0:
        raise ValueError(f"DATA {os.fspath(data)!r} has no rows")
    logger.info("read %d rows x %d columns from %d file(s) under %s", len(table), table.shape[1], len(frames), data)
    return table


def validate_table(
    table: Any,
    space: SearchSpace,
    objectives: Sequence[str] = DEFAULT_OBJECTIVES,
    *,
    allow_extra_columns: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Check a table against ``space`` and return ``X`` (n, dim) float64 and ``{objective: y}``.

    Raises ``ValueError`` naming the column (and row and value) for: missing parameter/objective
    columns, unknown columns (unless ``allow_extra_columns`` or listed in :data:`METADATA_COLUMNS`),
    non-numeric or NaN parameters, values out of bounds, invalid categorical codes, NaN/inf
    accuracies, accuracies outside [0, 1].
    """
    _check_columns(table, space, objectives, allow_extra_columns)
    X = _parameter_values(table, space)
    return X, {obj: _accuracy_values(table, obj) for obj in objectives}


def _check_columns(table: Any, space: SearchSpace, objectives: Sequence[str], allow_extra_columns: bool) -> None:
    """Every parameter and objective column present, no unknown column, each of them numeric."""
    import pandas as pd

    cols = [str(c) for c in table.columns]
    missing = [n for n in space.names if n not in cols]
    missing_obj = [o for o in objectives if o not in cols]
    if missing or missing_obj:
        parts = []
        if missing:
            parts.append(
                f"{len(missing)} parameter column(s) of search space {space.name!r}: {missing[:6]}"
                + (" ..." if len(missing) > 6 else "")
            )
        if missing_obj:
            parts.append(f"objective column(s) {missing_obj}")
        raise ValueError(
            "DATA is missing "
            + " and ".join(parts)
            + f"; the table has columns {cols[:8]}"
            + (" ..." if len(cols) > 8 else "")
            + ". Pass the matching --space (ps, dfs or a SPACE.json)."
        )
    known = set(space.names) | set(objectives) | set(MODEL_FILES) | METADATA_COLUMNS
    extra = [c for c in cols if c not in known]
    if extra and not allow_extra_columns:
        raise ValueError(
            f"DATA has column(s) {extra[:6]} that are not parameters of search space {space.name!r} "
            f"({space.dim} parameters) nor known metadata; a merge of more source models needs its own "
            "SPACE.json, or pass --ignore-extra-columns if they are just annotations"
        )
    for name in space.names + list(objectives):
        if not pd.api.types.is_numeric_dtype(table[name]) or pd.api.types.is_bool_dtype(table[name]):
            bad = table[name][pd.to_numeric(table[name], errors="coerce").isna()]
            where = f" (row {bad.index[0]}: {bad.iloc[0]!r})" if len(bad) else ""
            raise ValueError(f"DATA column {name!r} is not numeric (dtype {table[name].dtype}){where}")


def _parameter_values(table: Any, space: SearchSpace) -> np.ndarray:
    """The parameter columns as an (n, dim) float64 matrix, each value finite and allowed by ``space``."""
    X = table[space.names].to_numpy(dtype=np.float64, copy=True)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise ValueError(
            f"DATA column {space.names[c]!r} row {r} = {float(X[r, c])!r} is not finite ({int(bad[:, c].sum())} such "
            f"rows); allowed: {space.parameters[c].allowed}"
        )
    # space.validate names the first offending variable and value; re-raise with the table's wording.
    try:
        space.validate(X, argname="DATA row")
    except ValueError as exc:
        raise ValueError(f"{exc} (in DATA column of that name)") from None
    return X


def _accuracy_values(table: Any, obj: str) -> np.ndarray:
    """Objective column ``obj`` as float64, each value finite and in [0, 1]."""
    y = table[obj].to_numpy(dtype=np.float64, copy=True)
    nonfinite = ~np.isfinite(y)
    if nonfinite.any():
        r = int(np.flatnonzero(nonfinite)[0])
        raise ValueError(
            f"DATA column {obj!r} has {int(nonfinite.sum())} NaN/inf accuracy value(s), first at row {r} "
            f"({float(y[r])!r}); drop or fix those rows"
        )
    out = (y < 0.0) | (y > 1.0)
    if out.any():
        r = int(np.flatnonzero(out)[0])
        raise ValueError(
            f"DATA column {obj!r} row {r} = {float(y[r])!r} is out of range; accuracies must be in [0, 1] "
            "(percentages? divide by 100)"
        )
    return y


def data_hash(space: SearchSpace, X: np.ndarray, ys: Mapping[str, np.ndarray]) -> str:
    # Hash of the content the models see (not of the files), so Parquet vs CSV of the same table agree.
    h = hashlib.sha256()
    h.update(json.dumps(space.names).encode())
    h.update(np.ascontiguousarray(X, dtype="<f8").tobytes())
    for obj in sorted(ys):
        h.update(obj.encode())
        h.update(np.ascontiguousarray(ys[obj], dtype="<f8").tobytes())
    return "sha256:" + h.hexdigest()


def split_indices(n: int, *, seed: int, test_fraction: float = 0.1, val_fraction: float = 0.1) -> dict[str, np.ndarray]:
    """Deterministic train/val/test row indices (sorted) from a seeded permutation of ``range(n)``."""
    if n < 10:
        raise ValueError(f"DATA has {n} rows; a surrogate needs at least 10 (better thousands)")
    perm = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(test_fraction * n)))
    n_val = max(1, int(round(val_fraction * n)))
    return {
        "test": np.sort(perm[:n_test]),
        "val": np.sort(perm[n_test : n_test + n_val]),
        "train": np.sort(perm[n_test + n_val :]),
    }


@dataclass
class Rows:
    """The validated table: raw rows, objectives, the split, per-row weights (None: all equal)."""

    table: Any
    X: np.ndarray
    ys: dict[str, np.ndarray]
    split: dict[str, np.ndarray]
    n_data: int
    n_extra: int
    weight: np.ndarray | None


def read_rows(data: Any, extra_data: Any, sp: SearchSpace, cfg: BuildConfig) -> Rows:
    """Read and check DATA (and the training-only extra rows), split it, weight the extra rows."""
    table = data if hasattr(data, "columns") else read_table(data)
    X, ys = validate_table(table, sp, cfg.objectives, allow_extra_columns=cfg.allow_extra_columns)
    n = len(X)
    split = split_indices(n, seed=cfg.seed, test_fraction=cfg.test_fraction, val_fraction=cfg.val_fraction)
    n_extra = 0
    weight = None
    if extra_data is not None:
        extra = extra_data if hasattr(extra_data, "columns") else read_table(extra_data)
        X_extra, ys_extra = validate_table(extra, sp, cfg.objectives, allow_extra_columns=cfg.allow_extra_columns)
        n_extra = len(X_extra)
        # Extra rows join the training split only: tuning and CV see them, the test report does not.
        X = np.vstack([X, X_extra])
        ys = {o: np.concatenate([ys[o], ys_extra[o]]) for o in ys}
        split["train"] = np.concatenate([split["train"], np.arange(n, n + n_extra)])
        if cfg.extra_weight != 1.0:
            weight = np.ones(n + n_extra)
            weight[n:] = cfg.extra_weight
    if len(split["train"]) + len(split["val"]) < 2 * cfg.n_folds:
        raise ValueError(f"DATA has {n} rows: too few for {cfg.n_folds}-fold CV after the test split")
    return Rows(table, X, ys, split, n, n_extra, weight)
