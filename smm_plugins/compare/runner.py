"""Run a comparison grid (benchmark x optimiser x seed) serially or as Ray tasks, resumably.

Layout of an output directory::

    DIR/experiment.toml                         the experiment, with the package version
    DIR/runs/<benchmark>__<optimizer>__seed<k>.parquet    one finished run: one row per evaluation
    DIR/runs/damaged/<same id>.<time>.parquet   a run file that failed its check, set aside by a resume
    DIR/failures/<same id>.json                 a run that raised: error and traceback
    DIR/.claims/<same id>.lock                  held by the process running the run

Every file is written atomically as its run finishes, so a killed driver or worker loses only the runs
in flight, and running the same command again skips the runs already in ``runs/`` (failed runs are
tried again). A run counts as done only if its file passes
:func:`~smm_plugins.compare.results.check_run_files` (reads back whole, matches its plan); a resume
moves any other file of a planned run to ``runs/damaged/`` (never deletes it), warns, and runs it again.
Two processes on one folder share the work: each run is claimed before it executes
(:mod:`smm_plugins.compare.claims`). A run is a pure function of (benchmark, optimiser, seed, budget,
objective, base seed, options): serial and Ray execution give bit-identical values; only ``wall_time``
differs.

The steps live in modules of their own: :mod:`~smm_plugins.compare.plan` (the grid),
:mod:`~smm_plugins.compare.execute` (one run), :mod:`~smm_plugins.compare.results` (files),
:mod:`~smm_plugins.compare.claims`, :mod:`~smm_plugins.compare.progress`,
:mod:`~smm_plugins.compare.ray_backend` and :mod:`~smm_plugins.compare.shipping` (benchmarks on workers).
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from smm_plugins.compare.claims import CLAIMS_DIR, Claim, RunClaims
from smm_plugins.compare.execute import WORKER_ENV, execute_run
from smm_plugins.compare.experiment import RESULT_KEYS, Experiment, read_saved_experiment, save_experiment
from smm_plugins.compare.optimizers import OptimizerInfo, get_optimizer
from smm_plugins.compare.plan import RunSpec, benchmark_label, expected_seconds, plan_runs, run_seed
from smm_plugins.compare.progress import GridSummary, RunProgress
from smm_plugins.compare.ray_backend import run_on_ray, start_ray
from smm_plugins.compare.results import (
    COLUMNS,
    RunFileCheck,
    RunResult,
    check_run_file,
    check_run_files,
    failure_path,
    read_run_meta,
    read_runs,
    set_aside,
    write_result,
)

__all__ = [
    "COLUMNS",
    "GridSummary",
    "RunResult",
    "RunSpec",
    "benchmark_label",
    "check_benchmarks",
    "choose_workers",
    "execute_run",
    "import_plugins",
    "plan_runs",
    "read_run_meta",
    "read_runs",
    "run_experiment",
    "run_seed",
]

logger = logging.getLogger(__name__)

OnResult = Callable[[RunSpec, RunResult], None]


def run_experiment(
    exp: Experiment,
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    ray_address: str | None = None,
    progress: bool = True,
    on_result: OnResult | None = None,
) -> GridSummary:
    """Run every missing run of ``exp`` into ``out`` and return a summary.

    ``workers``/``ray_address`` override the experiment's. ``workers == 1`` without an address runs in
    this process without Ray; otherwise Ray tasks of one or several runs (``num_cpus=1``). Neither given:
    serial or one Ray worker per CPU, whichever :func:`choose_workers` expects to finish first (the reason
    is in ``GridSummary.choice``). When Ray is not installed or cannot start, the grid runs serially with a
    warning: the results are the same. Runs that another
    process on the same folder is running are left to it (``GridSummary.busy``).
    ``on_result(spec, result)`` is called in this process after each run's file is written.
    """
    out = Path(out)
    since = time.time()
    specs, optimizers = _prepare(exp, out)
    checks = {c.run_id: c for c in check_run_files(out, specs)}
    todo = [s for s in specs if not (s.run_id in checks and checks[s.run_id].usable)]
    summary = GridSummary(out=out, total=len(specs), skipped=len(specs) - len(todo))
    summary.set_aside = _set_aside_unusable(out, {s.run_id: s for s in todo}, checks)
    ray_address = ray_address or exp.ray_address
    summary.workers = workers or exp.workers or 1
    if not (workers or exp.workers or ray_address):
        summary.workers, summary.choice = _auto_workers(todo, optimizers)
    if not todo:
        summary.backend = "none"
    if summary.skipped:
        logger.info("%d of %d runs already in %s: skipped", summary.skipped, len(specs), out)
    t0 = time.perf_counter()
    if todo:
        _run_grid(
            todo,
            optimizers,
            _Grid(out, summary, RunClaims(out, since=since), on_result),
            ray_address,
            progress,
        )
    summary.seconds = time.perf_counter() - t0
    return summary


def _set_aside_unusable(out: Path, todo: dict[str, RunSpec], checks: dict[str, RunFileCheck]) -> list[str]:
    """Move the unusable files of planned runs to ``runs/damaged/``; one line per file moved."""
    moved = []
    (out / CLAIMS_DIR).mkdir(parents=True, exist_ok=True)
    for run_id, spec in todo.items():
        if run_id not in checks:
            continue
        # Under the run's claim lock, and checked again: another process on the folder may be re-running
        # it (then it decides) or may have just replaced the file with a good one.
        lock = FileLock(out / CLAIMS_DIR / f"{run_id}.lock", thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            continue
        try:
            check = check_run_file(checks[run_id].path, spec)
            if check.usable or not check.path.is_file():
                continue
            target = set_aside(check)
        finally:
            lock.release()
        logger.warning("run file %s %s: moved to %s, the run is run again", check.path.name, check.problem, target)
        moved.append(f"{run_id}: it {check.problem} -> {target}")
    return moved


def _prepare(exp: Experiment, out: Path) -> tuple[list[RunSpec], dict[str, OptimizerInfo]]:
    """Check everything that can fail before any run; save the experiment into ``out``."""
    import_plugins(exp.plugins)
    specs = plan_runs(exp)
    optimizers = {name: get_optimizer(name) for name in exp.optimizers}  # unknown names fail here, early
    _check_options(exp)
    _warn_ignored_seeds(optimizers, exp)
    check_benchmarks(exp.benchmarks)
    out.mkdir(parents=True, exist_ok=True)
    _check_resume(exp, out)
    save_experiment(exp, out)
    return specs, optimizers


@dataclass
class _Grid:
    """What the execution of a grid writes to: the folder, the tally, the claims, the caller's callback."""

    out: Path
    summary: GridSummary
    claims: RunClaims
    on_result: OnResult | None
    bar: RunProgress | None = None

    def claim(self, spec: RunSpec) -> bool:
        """Claim ``spec`` for this process; a run held or settled by another process is counted and skipped."""
        state = self.claims.claim(spec)
        if state is Claim.BUSY:
            self.summary.busy.append(spec.run_id)
            logger.info("run %s is being run by another process: left to it", spec.run_id)
        elif state is Claim.SETTLED:
            self.summary.settled_elsewhere += 1
        if state is not Claim.TAKEN and self.bar is not None:
            self.bar.finished(spec)
        return state is Claim.TAKEN

    def record(self, spec: RunSpec, result: RunResult) -> None:
        """Write a run's result, release its claim, count it."""
        try:
            write_result(self.out, spec, result)
        finally:
            self.claims.release(spec)
        if result.ok:
            self.summary.done += 1
        else:
            self.summary.failed += 1
            self.summary.failures.append(spec.run_id)
            logger.warning(
                "run %s failed: %s (traceback in %s)", spec.run_id, result.error, failure_path(self.out, spec)
            )
        if self.bar is not None:
            self.bar.finished(spec)
        if self.on_result is not None:
            self.on_result(spec, result)

    def set_running(self, n: int) -> None:
        if self.bar is not None:
            self.bar.set_running(n)


def _run_grid(
    todo: list[RunSpec], optimizers: dict[str, OptimizerInfo], grid: _Grid, ray_address: str | None, progress: bool
) -> None:
    workers = grid.summary.workers
    ray = started = None
    if workers > 1 or ray_address:
        try:
            ray, started = start_ray(workers, ray_address)
        except Exception as exc:
            if ray_address:
                raise
            logger.warning("Ray is not usable here (%s): running the grid serially", exc)
    weights = {s.run_id: expected_seconds(s, optimizers[s.optimizer].cost_hint) for s in todo}
    try:
        with grid.claims, RunProgress(todo, weights, grid.summary, enabled=progress) as grid.bar:
            if ray is None:
                grid.summary.backend, grid.summary.workers = "serial", 1
                _run_serial(todo, optimizers, grid)
            else:
                grid.summary.backend = "ray"
                grid.summary.workers = run_on_ray(
                    ray,
                    todo,
                    optimizers,
                    claim=grid.claim,
                    record=grid.record,
                    set_running=grid.set_running,
                    ship=bool(ray_address),
                )
    finally:
        if started and ray is not None:
            ray.shutdown()


def _run_serial(todo: list[RunSpec], optimizers: dict[str, OptimizerInfo], grid: _Grid) -> None:
    # The serial path gets the same single-thread setting Ray gives its workers (threads already started
    # by an imported library keep theirs; the CLI sets these before importing anything heavy).
    for k, v in WORKER_ENV.items():
        if k != "PYTHONWARNINGS":
            os.environ.setdefault(k, v)
    for spec in todo:
        if grid.claim(spec):
            grid.set_running(1)
            grid.record(spec, execute_run(spec, optimizers[spec.optimizer]))
    grid.set_running(0)


# -- checks before any run -------------------------------------------------------------------------------


#: Arguments the runner passes to every optimiser itself: not options.
_RUNNER_ARGUMENTS = ("benchmark", "seed", "budget", "objective")


def _check_options(exp: Experiment) -> None:
    for name, options in exp.options.items():
        for key in set(options) & set(_RUNNER_ARGUMENTS):
            raise ValueError(
                f"option {key}={options[key]!r} of optimizer {name!r}: the runner passes {key!r} to every run "
                f"itself (the seed: each run's own, derived from base_seed); options may be anything but "
                f"{', '.join(_RUNNER_ARGUMENTS)}"
            )


def _warn_ignored_seeds(optimizers: dict[str, OptimizerInfo], exp: Experiment) -> None:
    # An optimiser function may say that, with given options, it ignores the run seed (every seed then
    # gives the same run): ``fn.ignored_seed_reason(options) -> str | None``, e.g. unscrambled QMC.
    for name, info in optimizers.items():
        reason = getattr(info.fn, "ignored_seed_reason", None)
        why = reason({**info.defaults, **exp.options.get(name, {})}) if callable(reason) else None
        if why:
            logger.warning(
                "optimizer %r ignores the run seed (%s): its %d seed(s) will all give the same run, "
                "so they are not independent replicates",
                name,
                why,
                len(exp.seeds),
            )


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


def import_plugins(plugins: Iterable[str]) -> None:
    """Import the modules named in an experiment's ``plugins`` (they may register optimisers)."""
    for mod in plugins:
        try:
            importlib.import_module(mod)
        except ImportError as exc:
            raise ValueError(f"plugin module {mod!r} cannot be imported: {exc}") from None


#: Seconds a local Ray adds to a grid (``ray.init``, each worker's imports and first model loads, the shutdown),
#: 2 cores: the wall time on 2 workers minus half the serial wall time in benchmarks/bench_grid_scaling.py's
#: tables, 7-12 s for 10 to 1,000 runs on a machine whose speed the optimisers' cost hints roughly match
#: (0.29-0.31 s per 50-evaluation random-search run, 0.25 s hinted; docs/records/2026-12-02-grid-scaling.md).
#: A faster machine shrinks both (~6 s against ~0.1 s per run in docs/compare.md): the choice still switches
#: to Ray at ~80 such runs, near where the two modes break even there (~100 runs).
RAY_STARTUP_SECONDS = 10.0


def choose_workers(
    expected: Iterable[float], cpus: int, *, ray_installed: bool = True, startup: float = RAY_STARTUP_SECONDS
) -> tuple[int, str]:
    """Workers that finish a grid soonest (1: serially, in this process, without Ray) and why, in words.

    ``expected``: each run's expected seconds (:func:`~smm_plugins.compare.plan.expected_seconds`);
    ``cpus``: the cores Ray would use; ``startup``: Ray's start-up, seconds. On ``W = cpus`` workers a
    grid takes ``startup + max(total / W, longest run)``; serially ``total``: the faster one is chosen.
    """
    runs = list(expected)
    total = sum(runs)
    if not ray_installed:
        return 1, "auto: serial, Ray is not installed"
    if cpus < 2:
        return 1, f"auto: serial, {cpus} CPU"
    on_ray = startup + max(total / cpus, max(runs, default=0.0))
    compared = f"~{total:.0f} s of runs expected: ~{total:.0f} s serially, ~{on_ray:.0f} s on {cpus} Ray workers"
    if on_ray < total:
        return cpus, f"auto: {compared}"
    return 1, f"auto: serial, {compared} (with Ray's ~{startup:.0f} s start-up)"


def _auto_workers(todo: list[RunSpec], optimizers: dict[str, OptimizerInfo]) -> tuple[int, str]:
    from smm_plugins._deps import available

    expected = [expected_seconds(s, optimizers[s.optimizer].cost_hint) for s in todo]
    workers, why = choose_workers(expected, os.cpu_count() or 1, ray_installed=available("ray"))
    logger.info("--workers not given: %s", why)
    return workers, why
