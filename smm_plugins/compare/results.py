"""Files of a comparison directory: one Parquet file per finished run, one JSON file per failed run.

Layout::

    DIR/runs/<benchmark>__<optimizer>__seed<k>.parquet    one finished run: one row per evaluation
    DIR/failures/<same id>.json                           a run that raised: error and traceback
    DIR/runs/damaged/<same id>.<time>.parquet             a run file that failed its check, set aside

Every file is written atomically, so a reader never sees a torn one. A file can still be damaged later
(a full disk, a copy cut short, an edit): :func:`check_run_files` tells the files a reader can use from
the others, and the runner and the report both go through it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins._io import atomic_write_bytes, atomic_write_text
from smm_plugins.compare.plan import RunSpec

__all__ = [
    "COLUMNS",
    "RunFileCheck",
    "RunResult",
    "check_run_file",
    "check_run_files",
    "failure_path",
    "read_checked_runs",
    "read_run_meta",
    "read_runs",
    "repair_command",
    "run_path",
    "set_aside",
    "write_result",
]

logger = logging.getLogger(__name__)

#: Columns of a run file, in order.
COLUMNS = ("benchmark", "optimizer", "seed", "trial", "value", "test_acc", "sim_time", "wall_time")
_ARRAYS = ("value", "test_acc", "sim_time", "wall_time")


@dataclass
class RunResult:
    """What one run produced: one array entry per evaluation (``status == "ok"``), or its failure.

    Seconds: ``load_seconds`` (loading the benchmark and one evaluation of each objective before the
    clock starts: model load and compile, paid once per benchmark by a process's first run),
    ``optimize_seconds`` (the whole optimisation, wall clock) = ``surrogate_seconds`` (inside the benchmark
    during the run) + ``optimizer_seconds`` (the optimiser's own work); ``cpu_seconds`` (its CPU time);
    ``test_seconds`` (the test accuracy of every configuration, afterwards). ``finished``: Unix time.
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
    load_seconds: float | None = None
    optimize_seconds: float | None = None
    cpu_seconds: float | None = None
    surrogate_seconds: float | None = None
    optimizer_seconds: float | None = None
    test_seconds: float | None = None
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


@dataclass(frozen=True)
class RunFileCheck:
    """One file of ``DIR/runs/`` and whether a reader can use it: ``problem`` says why not (None: usable)."""

    path: Path
    problem: str | None = None

    @property
    def run_id(self) -> str:
        """The run the file is named after."""
        return self.path.stem

    @property
    def usable(self) -> bool:
        """True if the file reads back whole and holds the complete run its plan asks for."""
        return self.problem is None


def check_run_files(out: str | os.PathLike[str], specs: Iterable[RunSpec] | None = None) -> list[RunFileCheck]:
    """Check every file of ``out/runs/`` (by name): only a file that reads back whole and matches its plan is usable.

    Usable means: pyarrow reads the whole table; it has the columns :data:`COLUMNS` and the run metadata
    written by :func:`write_result`; the spec stored in it equals the planned one (benchmark, optimiser,
    seed, budget, objective, base seed, options); it holds one row per evaluation of the budget, trials
    ``0 .. budget-1``, all of its own benchmark, optimiser and seed. ``specs``: the plan (default: the plan
    of the experiment saved in ``out``); a file outside the plan is checked against the spec stored in it.
    """
    return [check for check, _ in _checked_files(out, specs)]


def _checked_files(out: str | os.PathLike[str], specs: Iterable[RunSpec] | None) -> Iterator[tuple[RunFileCheck, Any]]:
    # Each run file's check and, if it is usable, its table (read once for both).
    out = Path(out)
    planned = {s.run_id: s for s in (_saved_plan(out) if specs is None else specs)}
    for f in sorted((out / "runs").glob("*.parquet")):
        yield _read_checked(f, planned.get(f.stem))


def _saved_plan(out: Path) -> list[RunSpec]:
    from smm_plugins.compare.experiment import read_saved_experiment
    from smm_plugins.compare.plan import plan_runs

    try:
        saved = read_saved_experiment(out)
        return plan_runs(saved[0]) if saved is not None else []
    except (ValueError, OSError) as exc:
        logger.warning(
            "%s/experiment.toml cannot be read (%s): run files are checked against their own metadata", out, exc
        )
        return []


def check_run_file(path: str | os.PathLike[str], spec: RunSpec | None = None) -> RunFileCheck:
    """Check one run file against its planned ``spec`` (None: the spec stored in it); see :func:`check_run_files`."""
    return _read_checked(Path(path), spec)[0]


def _read_checked(path: Path, spec: RunSpec | None) -> tuple[RunFileCheck, Any]:
    # The check of one run file and, if it is usable, its table (else None).
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {}).get(b"smm_compare", b"null"))
    except Exception as exc:  # noqa: BLE001 - whatever makes a file unreadable makes it unusable
        return RunFileCheck(path, f"cannot be read ({type(exc).__name__}: {exc})"), None
    problem = _mismatch(path, table, meta, spec)
    return RunFileCheck(path, problem), (table if problem is None else None)


def _mismatch(path: Path, table: Any, meta: Any, spec: RunSpec | None) -> str | None:
    """Why a readable run file does not hold its planned, complete run (None if it does)."""
    if list(table.column_names) != list(COLUMNS):
        return f"has the columns {table.column_names}, not {list(COLUMNS)}"
    stored = meta.get("spec") if isinstance(meta, dict) else None
    if not isinstance(stored, dict):
        return "holds no run metadata (it was not written by smm-bench compare)"
    if spec is not None:
        planned = json.loads(json.dumps(asdict(spec), default=str))  # as the file stores it
        diff = [k for k in planned if stored.get(k) != planned[k]]
        if diff:
            there = ", ".join(f"{k}={stored.get(k)!r}" for k in diff)
            return f"was run with {there}; the plan has " + ", ".join(f"{k}={planned[k]!r}" for k in diff)
    else:
        try:
            spec = RunSpec(**stored)
        except TypeError as exc:
            return f"holds a run spec this version cannot read ({exc})"
        if spec.run_id != path.stem:
            return f"holds run {spec.run_id!r}, not the run its name says"
    n = table.num_rows
    if n != spec.budget:
        return f"holds {n} of the {spec.budget} evaluations of its budget (incomplete)"
    cols = {c: table.column(c).to_numpy(zero_copy_only=False) for c in ("benchmark", "optimizer", "seed", "trial")}
    if not np.array_equal(cols["trial"], np.arange(n)):
        return f"has trials that are not 0 .. {n - 1} in order"
    expected = {"benchmark": spec.label, "optimizer": spec.optimizer, "seed": spec.seed}
    wrong = [k for k, v in expected.items() if not (cols[k] == v).all()]
    if wrong:
        return "has rows of another " + " / ".join(wrong)
    return None


def repair_command(out: str | os.PathLike[str]) -> str:
    """The command that re-runs the missing and unusable runs of ``out`` (the same comparison, resumed)."""
    out = os.fspath(out)
    return f"smm-bench compare --experiment {os.path.join(out, 'experiment.toml')} --out {out}"


def set_aside(check: RunFileCheck) -> Path:
    """Move an unusable run file to ``runs/damaged/<run id>.<UTC time>.parquet`` (never deleted); its new path."""
    folder = check.path.parent / "damaged"
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = folder / f"{check.run_id}.{stamp}.parquet"
    k = 1
    while target.exists():
        target = folder / f"{check.run_id}.{stamp}-{k}.parquet"
        k += 1
    os.rename(check.path, target)
    return target


def read_runs(
    out: str | os.PathLike[str], *, reproducible: bool = False, checks: list[RunFileCheck] | None = None
) -> Any:
    """The usable runs of a directory as one pandas DataFrame (columns :data:`COLUMNS`).

    Files that :func:`check_run_files` finds unusable (``checks``, if the caller has them) are left out
    with a warning naming each and the command that repairs them. ``reproducible=True``: without
    ``wall_time`` and sorted by (benchmark, optimizer, seed, trial), i.e. what the same experiment gives
    bit-identically however it was run (serially, on Ray, resumed).
    """
    if checks is None:
        return read_checked_runs(out, reproducible=reproducible)[0]
    import pyarrow.parquet as pq

    _warn_unusable(out, checks)
    return _frame([pq.read_table(c.path) for c in checks if c.usable], reproducible)


def read_checked_runs(out: str | os.PathLike[str], *, reproducible: bool = False) -> tuple[Any, list[RunFileCheck]]:
    """:func:`read_runs` and :func:`check_run_files` of ``out`` in one reading of each file."""
    checks, tables = [], []
    for check, table in _checked_files(out, None):
        checks.append(check)
        if table is not None:
            tables.append(table)
    _warn_unusable(out, checks)
    return _frame(tables, reproducible), checks


def _warn_unusable(out: str | os.PathLike[str], checks: list[RunFileCheck]) -> None:
    for c in checks:
        if not c.usable:
            logger.warning("run file %s is not used: it %s; repair: %s", c.path, c.problem, repair_command(out))


def _frame(tables: list[Any], reproducible: bool) -> Any:
    # One DataFrame of run tables (each file's own metadata dropped: they differ and are not columns).
    import pandas as pd
    import pyarrow as pa

    if not tables:
        df = pd.DataFrame({c: [] for c in COLUMNS})
    else:
        whole = pa.concat_tables([t.replace_schema_metadata(None) for t in tables], promote_options="permissive")
        df = whole.to_pandas()
    if reproducible:
        df = df.drop(columns="wall_time").sort_values(["benchmark", "optimizer", "seed", "trial"])
        df = df.reset_index(drop=True)
    return df


def read_run_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata stored in one run file (seconds spent, run seed, best configuration, ...)."""
    import pyarrow.parquet as pq

    md = pq.read_schema(path).metadata or {}
    return json.loads(md.get(b"smm_compare", b"{}"))
