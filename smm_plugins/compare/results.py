"""Files of a comparison directory: one Parquet file per finished run, one JSON file per failed run.

Layout::

    DIR/runs/<benchmark>__<optimizer>__seed<k>.parquet    one finished run: one row per evaluation
    DIR/failures/<same id>.json                           a run that raised: error and traceback

Every file is written atomically, so a reader never sees a torn one.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins._io import atomic_write_bytes, atomic_write_text
from smm_plugins.compare.plan import RunSpec

__all__ = ["COLUMNS", "RunResult", "failure_path", "read_run_meta", "read_runs", "run_path", "write_result"]

#: Columns of a run file, in order.
COLUMNS = ("benchmark", "optimizer", "seed", "trial", "value", "test_acc", "sim_time", "wall_time")
_ARRAYS = ("value", "test_acc", "sim_time", "wall_time")


@dataclass
class RunResult:
    """What one run produced: one array entry per evaluation (``status == "ok"``), or its failure.

    Seconds: ``optimize_seconds`` (the whole optimisation, wall clock), ``cpu_seconds`` (its CPU time),
    ``surrogate_seconds`` (inside the benchmark, test accuracies included), ``optimizer_seconds`` (the
    optimiser's own work). ``finished``: Unix time.
    """

    run_id: str
    spec: dict[str, Any]
    status: str
    finished: float
    run_seed: int | None = None
    host: str | None = None
    pid: int | None = None
    value: np.ndarray | None = None
    test_acc: np.ndarray | None = None
    sim_time: np.ndarray | None = None
    wall_time: np.ndarray | None = None
    optimize_seconds: float | None = None
    cpu_seconds: float | None = None
    surrogate_seconds: float | None = None
    optimizer_seconds: float | None = None
    best_config: dict[str, Any] | None = None
    error: str | None = None
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        """True for a finished run."""
        return self.status == "ok"

    def metadata(self) -> dict[str, Any]:
        """Every field that is set, except the per-evaluation arrays and the status (what the files store)."""
        skip = (*_ARRAYS, "status")
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in skip and getattr(self, f.name) is not None
        }


def run_path(out: Path, spec: RunSpec) -> Path:
    """The Parquet file of a finished run."""
    return out / "runs" / f"{spec.run_id}.parquet"


def failure_path(out: Path, spec: RunSpec) -> Path:
    """The JSON file of a failed run."""
    return out / "failures" / f"{spec.run_id}.json"


def write_result(out: Path, spec: RunSpec, result: RunResult) -> None:
    """Write the result of one run: a run file (and remove an earlier failure file) or a failure file."""
    if not result.ok:
        record = {"status": result.status, **result.metadata()}
        atomic_write_text(failure_path(out, spec), json.dumps(record, indent=1, default=str))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {k: np.asarray(getattr(result, k), dtype=np.float64) for k in _ARRAYS}
    n = len(arrays["value"])
    table = pa.table(
        {
            "benchmark": pa.array([spec.label] * n, pa.string()),
            "optimizer": pa.array([spec.optimizer] * n, pa.string()),
            "seed": pa.array(np.full(n, spec.seed, dtype=np.int32)),
            "trial": pa.array(np.arange(n, dtype=np.int32)),
            **{k: pa.array(v) for k, v in arrays.items()},
        }
    )
    table = table.replace_schema_metadata({"smm_compare": json.dumps(result.metadata(), default=str)})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    atomic_write_bytes(run_path(out, spec), buf.getvalue())
    failure_path(out, spec).unlink(missing_ok=True)


def read_runs(out: str | os.PathLike[str], *, reproducible: bool = False) -> Any:
    """All finished runs of a directory as one pandas DataFrame (columns :data:`COLUMNS`).

    ``reproducible=True``: without ``wall_time`` and sorted by (benchmark, optimizer, seed, trial), i.e. what
    the same experiment gives bit-identically however it was run (serially, on Ray, resumed).
    """
    import pandas as pd
    import pyarrow.parquet as pq

    files = sorted((Path(out) / "runs").glob("*.parquet"))
    if not files:
        df = pd.DataFrame({c: [] for c in COLUMNS})
    else:
        df = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    if reproducible:
        df = df.drop(columns="wall_time").sort_values(["benchmark", "optimizer", "seed", "trial"])
        df = df.reset_index(drop=True)
    return df


def read_run_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata stored in one run file (seconds spent, run seed, best configuration, ...)."""
    import pyarrow.parquet as pq

    md = pq.read_schema(path).metadata or {}
    return json.loads(md.get(b"smm_compare", b"{}"))
