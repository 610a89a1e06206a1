"""Run a comparison grid (benchmark x optimiser x seed) serially or as Ray tasks, resumably.

Layout of an output directory::

    DIR/experiment.toml                         the experiment, with the package version
    DIR/runs/<benchmark>__<optimizer>__seed<k>.parquet    one finished run: one row per evaluation
    DIR/failures/<same id>.json                 a run that raised: error and traceback

Every file is written atomically as its run finishes, so a killed driver or worker loses only the runs
in flight, and running the same command again skips the runs already in ``runs/`` (failed runs are
tried again). A run is a pure function of (benchmark, optimiser, seed, budget, objective, base seed,
options): serial and Ray execution give bit-identical values; only ``wall_time`` differs.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import random
import re
import socket
import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins._io import atomic_write_bytes, atomic_write_text
from smm_plugins.benchmark import Benchmark
from smm_plugins.compare.experiment import RESULT_KEYS, Experiment, read_saved_experiment, save_experiment
from smm_plugins.compare.optimizers import BudgetExhausted, OptimizerInfo, TracedBenchmark, get_optimizer

__all__ = ["RunSpec", "GridSummary", "run_experiment", "execute_run", "plan_runs", "run_seed", "read_runs", "COLUMNS"]

logger = logging.getLogger(__name__)

#: Columns of a run file, in order.
COLUMNS = ("benchmark", "optimizer", "seed", "trial", "value", "test_acc", "sim_time", "wall_time")
#: Environment of every worker: one inference / BLAS thread per process (frameworks.md: 2.3x faster).
WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "PYTHONWARNINGS": "ignore",
}


# -- the grid ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid."""

    benchmark: str  # name, directory or "module:factory" (how to load it)
    label: str  # the benchmark column / file-name part
    optimizer: str
    seed: int
    budget: int
    objective: str = "train_acc"
    base_seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """File stem of this run: ``<benchmark>__<optimizer>__seed<k>``."""
        return f"{_safe(self.label)}__{_safe(self.optimizer)}__seed{self.seed}"

    @property
    def run_seed(self) -> int:
        """Seed handed to the optimiser (the same for every benchmark and optimiser at one seed index)."""
        return run_seed(self.base_seed, self.seed)


def run_seed(base_seed: int, seed: int) -> int:
    """Deterministic 31-bit seed of seed index ``seed``: independent streams via numpy's SeedSequence."""
    return int(np.random.SeedSequence(entropy=base_seed, spawn_key=(seed,)).generate_state(1)[0] & 0x7FFFFFFF)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def benchmark_label(spec: str) -> str:
    """Column value of a benchmark spec: the name, a directory's base name, or a factory's name."""
    if os.sep in spec or os.path.isdir(spec):
        return Path(spec.rstrip("/\\")).name
    if ":" in spec:
        return spec.rsplit(":", 1)[1]
    return spec


def plan_runs(exp: Experiment) -> list[RunSpec]:
    """Every run of ``exp``, seed-major so that an interrupted grid has all optimisers on early seeds."""
    labels = [benchmark_label(b) for b in exp.benchmarks]
    if len(set(labels)) != len(labels):
        raise ValueError(f"benchmarks {exp.benchmarks} give duplicate labels {labels}; rename a directory")
    return [
        RunSpec(b, lab, o, s, exp.budget, exp.objective, exp.base_seed, dict(exp.options.get(o, {})))
        for s in exp.seeds
        for b, lab in zip(exp.benchmarks, labels, strict=True)
        for o in exp.optimizers
    ]


# -- benchmarks: loaded once per process -----------------------------------------------------------

_BENCHMARKS: dict[str, Benchmark] = {}


def _load_benchmark(spec: str, payload: list[Any] | None = None) -> Benchmark:
    """Load (once per process) the benchmark ``spec``; ``payload`` = [ObjectRef of shipped model files]."""
    key = spec
    if key in _BENCHMARKS:
        return _BENCHMARKS[key]
    if payload:
        import ray

        files = ray.get(payload[0])
        spec = _materialise(spec, files)
    if ":" in spec and not os.path.exists(spec):
        import importlib

        module, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"benchmark {spec!r}: cannot import {attr!r} from {module!r} ({exc})") from None
        bench = factory() if callable(factory) else factory
        if not isinstance(bench, Benchmark):
            raise TypeError(f"benchmark factory {spec!r} returned {type(bench).__name__}, not a Benchmark")
    else:
        from smm_plugins.registry import load_benchmark

        bench = load_benchmark(spec)
    _BENCHMARKS[key] = bench
    return bench


def _pack_dir(path: str) -> dict[str, bytes]:
    # Model files of a benchmark directory, to be put once into Ray's object store for remote nodes.
    root = Path(path)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _materialise(spec: str, files: dict[str, bytes]) -> str:
    import tempfile

    digest = hashlib.sha256(b"".join(k.encode() + v for k, v in files.items())).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"smm-compare-{digest}" / benchmark_label(spec)
    if not target.is_dir():
        # Unpack into a private staging folder, then rename it into place in one step: another worker
        # on this node either sees no folder or a complete one. The loser of a race drops its copy.
        import shutil

        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        for rel, data in files.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_bytes(data)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(staging, ignore_errors=True)
    return str(target)


# -- one run ----------------------------------------------------------------------------------------


def _quiet_process() -> None:
    for name in ("optuna", "syne_tune", "ray", "lightgbm"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    except ImportError:
        pass
    try:  # GP sampler: one torch thread, like every other library here
        import sys

        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
    except Exception:  # noqa: BLE001 - best effort
        pass


def _simulated_time(bench: Benchmark, X: np.ndarray) -> np.ndarray:
    # Cumulative simulated seconds of the real evaluations (Benchmark.cost, smm_plugins.cost); the
    # optimiser's own time is not included, so that the column is deterministic (wall_time has it).
    per_eval = np.asarray(bench.cost(X, "train_acc"), dtype=np.float64).reshape(-1)
    return np.cumsum(np.broadcast_to(per_eval, (len(X),)))


def execute_run(spec: RunSpec, opt: OptimizerInfo | None = None, payload: list[Any] | None = None) -> dict[str, Any]:
    """Run one optimiser on one benchmark and return its records (plain arrays) or its failure.

    Never raises for a failing optimiser: the result then has ``status == "failed"`` and the traceback.
    """
    _quiet_process()
    base = {
        "run_id": spec.run_id,
        "spec": asdict(spec),
        "run_seed": spec.run_seed,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    try:
        opt = opt or get_optimizer(spec.optimizer)
        bench = _load_benchmark(spec.benchmark, payload)
        # Some frameworks draw from the global generators: start every run from the same state.
        random.seed(spec.run_seed)
        np.random.seed(spec.run_seed)  # noqa: NPY002 - frameworks (Syne Tune) read the legacy global state
        traced = TracedBenchmark(bench, spec.objective, budget=spec.budget)
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            with warnings.catch_warnings(), _one_thread():
                warnings.simplefilter("ignore")
                opt(traced, spec.run_seed, spec.budget, objective=spec.objective, **spec.options)
        except BaseException as exc:
            if not (_caused_by(exc, BudgetExhausted) and traced.n_evaluations >= spec.budget):
                raise
        optimise_s = time.perf_counter() - t0
        cpu_s = time.process_time() - c0  # optimise_s - cpu_s: time the CPU went to other processes
        X, values, wall = traced.trace()
        if len(values) < spec.budget:
            raise RuntimeError(
                f"optimizer {spec.optimizer!r} made {len(values)} evaluations of {spec.objective!r} through "
                f"the benchmark; the budget is {spec.budget}"
            )
        t1 = time.perf_counter()
        test = (
            np.asarray(bench.evaluate(X, "test_acc"), dtype=np.float64)
            if "test_acc" in bench.objectives
            else np.full(len(values), np.nan)
        )
        surrogate_s = time.perf_counter() - t1
        best = int(np.argmax(values))
        return {
            **base,
            "status": "ok",
            "value": values,
            "test_acc": test,
            "sim_time": _simulated_time(bench, X),
            "wall_time": wall,
            # Where the time went: the optimiser's own work vs surrogate inference (during the run, plus
            # the test_acc of every configuration afterwards).
            "optimize_seconds": optimise_s,
            "cpu_seconds": cpu_s,
            "surrogate_seconds": traced.surrogate_seconds + surrogate_s,
            "optimizer_seconds": max(0.0, optimise_s - traced.surrogate_seconds),
            "best_config": bench.space.to_config(X[best]),
            "finished": time.time(),
        }
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return {
            **base,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
            "finished": time.time(),
        }


def _execute_in_worker(
    spec: RunSpec, opt: OptimizerInfo | None = None, payload: list[Any] | None = None
) -> dict[str, Any]:
    """:func:`execute_run` in a Ray worker: the whole process logs at WARNING (nobody reads its INFO)."""
    logging.getLogger().setLevel(logging.WARNING)
    return execute_run(spec, opt, payload)


def _one_thread() -> Any:
    # BLAS pools read OMP/OPENBLAS_NUM_THREADS only when numpy loads, which may be before the CLI set
    # them; threadpoolctl (when installed) limits already-loaded pools too.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


# -- files --------------------------------------------------------------------------------------------


def _run_path(out: Path, spec: RunSpec) -> Path:
    return out / "runs" / f"{spec.run_id}.parquet"


def _failure_path(out: Path, spec: RunSpec) -> Path:
    return out / "failures" / f"{spec.run_id}.json"


def _write_result(out: Path, spec: RunSpec, result: dict[str, Any]) -> None:
    if result["status"] != "ok":
        atomic_write_text(
            _failure_path(out, spec),
            json.dumps(
                {k: v for k, v in result.items() if k not in ("value", "test_acc", "sim_time", "wall_time")},
                indent=1,
                default=str,
            ),
        )
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(result["value"])
    table = pa.table(
        {
            "benchmark": pa.array([spec.label] * n, pa.string()),
            "optimizer": pa.array([spec.optimizer] * n, pa.string()),
            "seed": pa.array(np.full(n, spec.seed, dtype=np.int32)),
            "trial": pa.array(np.arange(n, dtype=np.int32)),
            "value": pa.array(np.asarray(result["value"], dtype=np.float64)),
            "test_acc": pa.array(np.asarray(result["test_acc"], dtype=np.float64)),
            "sim_time": pa.array(np.asarray(result["sim_time"], dtype=np.float64)),
            "wall_time": pa.array(np.asarray(result["wall_time"], dtype=np.float64)),
        }
    )
    meta = {k: v for k, v in result.items() if k not in ("value", "test_acc", "sim_time", "wall_time", "status")}
    table = table.replace_schema_metadata({"smm_compare": json.dumps(meta, default=str)})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    atomic_write_bytes(_run_path(out, spec), buf.getvalue())
    _failure_path(out, spec).unlink(missing_ok=True)


def read_runs(out: str | os.PathLike[str]) -> Any:
    """All finished runs of a directory as one pandas DataFrame (columns :data:`COLUMNS`)."""
    import pandas as pd
    import pyarrow.parquet as pq

    files = sorted((Path(out) / "runs").glob("*.parquet"))
    if not files:
        return pd.DataFrame({c: [] for c in COLUMNS})
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)


def read_run_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata stored in one run file (seconds spent, run seed, best configuration, ...)."""
    import pyarrow.parquet as pq

    md = pq.read_schema(path).metadata or {}
    return json.loads(md.get(b"smm_compare", b"{}"))


# -- the grid -----------------------------------------------------------------------------------------


@dataclass
class GridSummary:
    """What a call of :func:`run_experiment` did."""

    out: Path
    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    seconds: float = 0.0
    workers: int = 1
    backend: str = "serial"
    failures: list[str] = field(default_factory=list)


def _check_resume(exp: Experiment, out: Path) -> None:
    saved = read_saved_experiment(out)
    if saved is None:
        return
    old = saved[0].to_dict()
    new = exp.to_dict()
    diff = [k for k in RESULT_KEYS if k != "options" and old.get(k) != new.get(k)]
    # Options matter only for optimisers whose runs are already there: adding one (with its options) is fine.
    old_opts, new_opts = old.get("options") or {}, new.get("options") or {}
    shared = set(old.get("optimizers") or ()) & set(new.get("optimizers") or ())
    if any((old_opts.get(o) or {}) != (new_opts.get(o) or {}) for o in shared):
        diff.append("options")
    if diff:
        changes = ", ".join(f"{k}: {old[k]!r} there, {new[k]!r} now" for k in diff)
        raise ValueError(
            f"{out} holds runs of a different experiment ({changes}); use another --out directory or the same settings"
        )


def check_benchmarks(specs: Iterable[str]) -> None:
    """Fail early, before any run, for a benchmark that is unknown or whose files are missing."""
    from smm_plugins.registry import benchmark_status, list_benchmarks

    known = list_benchmarks()
    for spec in specs:
        if spec in known:
            ok, detail = benchmark_status(spec)
            if not ok:
                raise ValueError(f"benchmark {spec!r} is not available: {detail}")
        elif ":" in spec and not os.path.exists(spec):
            continue  # "module:factory", imported where the run executes
        elif not Path(spec).expanduser().is_dir():
            raise ValueError(
                f"unknown benchmark {spec!r}; known: {', '.join(known)}; or a directory of "
                "surrogate files in the official layout, or 'module:factory'"
            )


def _import_plugins(plugins: Iterable[str]) -> None:
    import importlib

    for mod in plugins:
        try:
            importlib.import_module(mod)
        except ImportError as exc:
            raise ValueError(f"plugin module {mod!r} cannot be imported: {exc}") from None


def _default_workers() -> int:
    from smm_plugins._deps import available

    return 2 if available("ray") and (os.cpu_count() or 1) >= 2 else 1


def run_experiment(
    exp: Experiment,
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    ray_address: str | None = None,
    progress: bool = True,
    on_result: Callable[[RunSpec, dict[str, Any]], None] | None = None,
) -> GridSummary:
    """Run every missing run of ``exp`` into ``out`` and return a summary.

    ``workers``/``ray_address`` override the experiment's. ``workers == 1`` without an address runs in
    this process without Ray; otherwise one Ray task per run (``num_cpus=1``). When Ray is not installed
    or cannot start, the grid runs serially with a warning: the results are the same.
    """
    out = Path(out)
    _import_plugins(exp.plugins)
    specs = plan_runs(exp)
    optimizers = {name: get_optimizer(name) for name in exp.optimizers}  # unknown names fail here, early
    check_benchmarks(exp.benchmarks)
    out.mkdir(parents=True, exist_ok=True)
    _check_resume(exp, out)
    save_experiment(exp, out)
    todo = [s for s in specs if not _run_path(out, s).is_file()]
    summary = GridSummary(out=out, total=len(specs), skipped=len(specs) - len(todo))
    workers = workers or exp.workers or _default_workers()
    ray_address = ray_address or exp.ray_address
    summary.workers = workers
    t0 = time.perf_counter()
    if summary.skipped:
        logger.info("%d of %d runs already in %s: skipped", summary.skipped, len(specs), out)
    if todo:
        ray = started = None
        if workers > 1 or ray_address:
            try:
                ray, started = _start_ray(workers, ray_address)
            except Exception as exc:
                if ray_address:
                    raise
                logger.warning("Ray is not usable here (%s): running the grid serially", exc)
        # Expected seconds of each run: optimiser ms per trial + ~1 ms of surrogate per evaluation.
        weights = {s.run_id: s.budget * (optimizers[s.optimizer].cost_hint + 1.0) / 1000.0 for s in todo}
        try:
            with _Progress(todo, weights, summary, enabled=progress) as bar:
                if ray is None:
                    _run_serial(todo, optimizers, out, summary, bar, on_result)
                else:
                    summary.backend = "ray"
                    _run_ray(ray, todo, optimizers, out, summary, bar, on_result, workers, ray_address)
        finally:
            if started:
                ray.shutdown()
    summary.seconds = time.perf_counter() - t0
    return summary


class _Progress:
    """tqdm bar over runs: done / running / failed, and an ETA.

    The bar advances by each run's expected cost (its optimiser's ``cost_hint`` x budget, plus the
    surrogate), not by one per run: runs differ by 100x and Ray starts the slowest first, so counting
    runs would make the ETA swing from far too long to far too short.
    """

    def __init__(self, todo: list[RunSpec], weights: dict[str, float], summary: GridSummary, *, enabled: bool) -> None:
        self.summary = summary
        self.running = 0
        self.n_total = len(todo)
        self._weights = weights
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            total = sum(weights[s.run_id] for s in todo)
            desc = f"runs ({summary.skipped} done before)" if summary.skipped else "runs"
            self._bar = tqdm(
                total=total,
                desc=desc,
                dynamic_ncols=True,
                mininterval=0.5,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]{postfix}",
            )
            self._show()

    def _show(self, refresh: bool = True) -> None:
        if self._bar is not None:
            done = self.summary.done + self.summary.failed
            self._bar.set_postfix_str(
                f"done {done}/{self.n_total}, running {self.running}, failed {self.summary.failed}", refresh=refresh
            )

    def set_running(self, n: int) -> None:
        if n != self.running:
            self.running = n
            self._show()

    def finished(self, spec: RunSpec) -> None:
        self._show(refresh=False)
        if self._bar is not None:
            self._bar.update(self._weights[spec.run_id])

    def __enter__(self) -> _Progress:
        # Log records (e.g. a failed run) go through tqdm.write so that they do not break the bar.
        self._redirect = None
        if self._bar is not None:
            from tqdm.contrib.logging import logging_redirect_tqdm

            self._redirect = logging_redirect_tqdm()
            self._redirect.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._redirect is not None:
            self._redirect.__exit__(*exc)
            self._redirect = None
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _record(
    out: Path,
    spec: RunSpec,
    result: dict[str, Any],
    summary: GridSummary,
    bar: _Progress,
    on_result: Callable[[RunSpec, dict[str, Any]], None] | None,
) -> None:
    _write_result(out, spec, result)
    if result["status"] == "ok":
        summary.done += 1
    else:
        summary.failed += 1
        summary.failures.append(spec.run_id)
        logger.warning(
            "run %s failed: %s (traceback in %s)", spec.run_id, result.get("error"), _failure_path(out, spec)
        )
    bar.finished(spec)
    if on_result is not None:
        on_result(spec, result)


def _run_serial(
    todo: list[RunSpec],
    optimizers: dict[str, OptimizerInfo],
    out: Path,
    summary: GridSummary,
    bar: _Progress,
    on_result: Any,
) -> None:
    # The serial path gets the same single-thread setting Ray gives its workers (threads already started
    # by an imported library keep theirs; the CLI sets these before importing anything heavy).
    for k, v in WORKER_ENV.items():
        if k != "PYTHONWARNINGS":
            os.environ.setdefault(k, v)
    bar.set_running(1)
    for spec in todo:
        _record(out, spec, execute_run(spec, optimizers[spec.optimizer]), summary, bar, on_result)
    bar.set_running(0)


def _start_ray(workers: int, address: str | None) -> tuple[Any, bool]:
    """Connect to (``address``) or start a local Ray; returns ``(ray, started_here)``."""
    from smm_plugins._deps import require

    ray = require("ray", "ray", who="smm-bench compare with --workers > 1")
    if ray.is_initialized():  # the caller's own Ray session: use it, leave it running
        return ray, False
    common = dict(
        include_dashboard=False,
        log_to_driver=False,
        # ERROR: Ray's start-up notices (e.g. about token authentication) would break the progress bar.
        logging_level=logging.ERROR,
        runtime_env={"env_vars": dict(WORKER_ENV)},
        ignore_reinit_error=True,
    )
    if address:
        _check_reachable(address)
        try:
            ray.init(address=address, **common)
        except ConnectionError as exc:
            hint = (
                ""
                if os.environ.get("RAY_AUTH_MODE")
                else ("; if the cluster uses token authentication (Ray's default), set RAY_AUTH_MODE=token")
            )
            raise ConnectionError(f"cannot join the Ray cluster at {address!r}: {exc}{hint}") from None
    else:
        ray.init(address="local", num_cpus=workers, **common)
    return ray, True


def _check_reachable(address: str) -> None:
    # ray.init retries an unreachable HOST:PORT forever (ignoring SIGTERM): probe it first.
    host, sep, port = address.rpartition(":")
    if "://" in address or not sep or not port.isdigit():
        return  # "auto", "local", ray:// client addresses: Ray resolves and reports these itself
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=5):
            pass
    except OSError as exc:
        raise ConnectionError(
            f"cannot reach a Ray head at {address!r} ({exc}); start one with `ray start --head`"
        ) from None


_REMOTE: Any = None


def _remote_fn(ray: Any) -> Any:
    global _REMOTE
    if _REMOTE is None:
        # max_retries=1: a crashed worker process is retried once; a Python exception is a result, not a crash.
        _REMOTE = ray.remote(num_cpus=1, max_retries=1)(_execute_in_worker)
    return _REMOTE


def _run_ray(
    ray: Any,
    todo: list[RunSpec],
    optimizers: dict[str, OptimizerInfo],
    out: Path,
    summary: GridSummary,
    bar: _Progress,
    on_result: Any,
    workers: int,
    address: str | None,
) -> None:
    remote = _remote_fn(ray)
    # On a cluster (or a Ray session started by the caller) use every CPU it has.
    slots = max(1, int(ray.cluster_resources().get("CPU", workers)))
    summary.workers = slots
    # Benchmark directories are shipped through the object store only to a cluster (remote nodes may not
    # have them); each is put once, and a worker fetches it only on its first run of that benchmark.
    payloads: dict[str, list[Any] | None] = {}
    for spec in todo:
        if spec.benchmark not in payloads:
            payloads[spec.benchmark] = (
                [ray.put(_pack_dir(spec.benchmark))] if address and os.path.isdir(spec.benchmark) else None
            )
    # The optimiser travels with the task (cloudpickle), so optimisers registered in this process work too.
    opt_refs = {name: ray.put(info) for name, info in optimizers.items()}
    # Longest runs first (largest-processing-time rule): the grid's end is not one slow run on one worker.
    pending = sorted(todo, key=lambda s: -optimizers[s.optimizer].cost_hint * s.budget)
    in_flight: dict[Any, RunSpec] = {}
    try:
        while pending or in_flight:
            # Keep at most one task per slot in flight: "running" is then true, and a killed driver
            # loses only those.
            while pending and len(in_flight) < slots:
                spec = pending.pop(0)
                ref = remote.remote(spec, opt_refs[spec.optimizer], payloads[spec.benchmark])
                in_flight[ref] = spec
            bar.set_running(len(in_flight))
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                spec = in_flight.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - worker crash, OOM kill, ...: isolate the run
                    result = {
                        "run_id": spec.run_id,
                        "spec": asdict(spec),
                        "status": "failed",
                        "error": f"{type(exc).__name__}: {exc}",
                        "traceback": traceback.format_exc(),
                        "finished": time.time(),
                    }
                _record(out, spec, result, summary, bar, on_result)
    except BaseException:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        raise
    finally:
        bar.set_running(0)
