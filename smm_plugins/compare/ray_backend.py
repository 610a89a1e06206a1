"""Ray execution of a grid: start or join Ray, tasks of one or several runs, results back to the driver."""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from smm_plugins.compare.execute import WORKER_ENV, execute_batch, failure_record
from smm_plugins.compare.optimizers import OptimizerInfo
from smm_plugins.compare.plan import RunSpec, expected_seconds
from smm_plugins.compare.results import RunResult
from smm_plugins.compare.shipping import pack_dir

__all__ = ["run_on_ray", "start_ray"]

logger = logging.getLogger(__name__)


def start_ray(workers: int, address: str | None) -> tuple[Any, bool]:
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
        ignore_reinit_error=True,
    )
    if address:
        _check_reachable(address)
        try:
            # A cluster's workers are started by its own raylets: the environment travels as a runtime_env.
            ray.init(address=address, runtime_env={"env_vars": dict(WORKER_ENV)}, **common)
        except ConnectionError as exc:
            hint = (
                ""
                if os.environ.get("RAY_AUTH_MODE")
                else "; if the cluster uses token authentication (Ray's default), set RAY_AUTH_MODE=token"
            )
            raise ConnectionError(f"cannot join the Ray cluster at {address!r}: {exc}{hint}") from None
    else:
        # Ray runs its workers at niceness 15 by default: any other process on the machine (the driver
        # included) then takes the cores from the runs. The runs are the work here: normal priority.
        with _environment(WORKER_ENV):
            ray.init(address="local", num_cpus=workers, _system_config={"worker_niceness": 0}, **common)
    return ray, True


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    # A local Ray's workers inherit the environment of the processes ray.init starts. A runtime_env would do
    # the same through Ray's runtime-env agent, which starts every worker through an extra Python process:
    # measured ~2.5 CPU seconds per worker and seconds more before the first task.
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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


#: Expected seconds of work per Ray task: several short runs go into one task, so that the round trip of a
#: task (scheduling, results back to the driver) is a small share of it; a long run is a task of its own.
TASK_SECONDS = 1.0
#: Tasks in flight per slot: a worker starts its next task while the driver writes the last one's results.
TASKS_PER_SLOT = 2
#: Crashes of a worker process (not Python exceptions) a run may be part of before it is recorded as failed.
CRASHES_ALLOWED = 1

_REMOTE: Any = None


def _remote_fn(ray: Any) -> Any:
    global _REMOTE
    if _REMOTE is None:
        # max_retries=0: the driver itself re-runs the runs of a crashed task (see _Batches.crashed).
        _REMOTE = ray.remote(num_cpus=1, max_retries=0)(execute_batch)
    return _REMOTE


def _payloads(ray: Any, todo: list[RunSpec], ship: bool) -> dict[str, list[Any] | None]:
    # Benchmark directories are shipped through the object store only to a cluster (remote nodes may not
    # have them); each is put once, and a worker fetches it only on its first run of that benchmark.
    out: dict[str, list[Any] | None] = {}
    for spec in todo:
        if spec.benchmark not in out:
            out[spec.benchmark] = (
                [ray.put(pack_dir(spec.benchmark))] if ship and os.path.isdir(spec.benchmark) else None
            )
    return out


class _Batches:
    """The runs still to submit, longest first, cut into tasks of about :data:`TASK_SECONDS` each.

    A batch is claimed whole before it is submitted; a batch of a crashed task comes back one run per
    task, and a run that was in :data:`CRASHES_ALLOWED` crashes already fails on the next.
    """

    def __init__(self, todo: list[RunSpec], seconds: dict[str, float], slots: int, claim: Callable[[RunSpec], bool]):
        # Longest runs first (largest-processing-time rule): the grid's end is not one slow run on one worker.
        self.pending = deque(sorted(todo, key=lambda s: -seconds[s.run_id]))
        self.seconds = seconds
        self.slots = slots
        self.claim = claim
        self.held: set[str] = set()  # claimed, handed back after a crash
        self.crashes: dict[str, int] = {}

    def next(self) -> list[RunSpec]:
        """The next batch, claimed (empty when nothing is left to claim)."""
        # Smaller batches as the grid drains, so that every worker still has work at the end.
        most = max(1, -(-len(self.pending) // (2 * self.slots * TASKS_PER_SLOT)))
        batch: list[RunSpec] = []
        total = 0.0
        while self.pending and len(batch) < most and total < TASK_SECONDS:
            spec = self.pending.popleft()
            if spec.run_id in self.held:  # a run of a crashed task: alone, so that its next crash is its own
                if batch:
                    self.pending.appendleft(spec)
                    return batch
                self.held.discard(spec.run_id)
                return [spec]
            if self.claim(spec):
                batch.append(spec)
                total += self.seconds[spec.run_id]
        return batch

    def crashed(self, batch: list[RunSpec]) -> list[RunSpec]:
        """Hand back the runs of a crashed task (still claimed); returns those that crashed too often."""
        failed = []
        for spec in reversed(batch):
            # Only a crash of a run alone is its own: a batch's crash may be any one of its runs'.
            self.crashes[spec.run_id] = self.crashes.get(spec.run_id, 0) + (len(batch) == 1)
            if self.crashes[spec.run_id] > CRASHES_ALLOWED:
                failed.append(spec)
            else:
                self.held.add(spec.run_id)
                self.pending.appendleft(spec)
        return failed


def run_on_ray(
    ray: Any,
    todo: list[RunSpec],
    optimizers: dict[str, OptimizerInfo],
    *,
    claim: Callable[[RunSpec], bool],
    record: Callable[[RunSpec, RunResult], None],
    set_running: Callable[[int], None],
    ship: bool,
) -> int:
    """Run ``todo`` as Ray tasks of one or several runs each; returns the number of slots (CPUs) used.

    ``claim(spec)`` is asked just before a run is submitted (False: skip it); ``record(spec, result)`` gets
    every result in the driver as it arrives (the driver writes the files: ``--out`` need not be visible
    to the workers); ``ship``: put benchmark directories into the object store. At most
    :data:`TASKS_PER_SLOT` tasks per slot are in flight: a killed driver loses only their runs.
    """
    remote = _remote_fn(ray)
    # On a cluster (or a Ray session started by the caller) use every CPU it has.
    slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
    payloads = _payloads(ray, todo, ship)
    # The optimisers travel with the tasks (cloudpickle), so optimisers registered in this process work too.
    opts_ref = ray.put(optimizers)
    seconds = {s.run_id: expected_seconds(s, optimizers[s.optimizer].cost_hint) for s in todo}
    batches = _Batches(todo, seconds, slots, claim)
    in_flight: dict[Any, list[RunSpec]] = {}
    try:
        while batches.pending or in_flight:
            while batches.pending and len(in_flight) < slots * TASKS_PER_SLOT:
                batch = batches.next()
                if batch:
                    shipped = {s.benchmark: payloads[s.benchmark] for s in batch}
                    in_flight[remote.remote(batch, opts_ref, shipped)] = batch
            set_running(min(slots, sum(len(b) for b in in_flight.values())))
            if not in_flight:
                continue
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                _collect(ray, ref, in_flight.pop(ref), batches, record)
    except BaseException:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        raise
    finally:
        set_running(0)
    return slots


def _collect(
    ray: Any, ref: Any, batch: list[RunSpec], batches: _Batches, record: Callable[[RunSpec, RunResult], None]
) -> None:
    try:
        results = ray.get(ref)
    except Exception as exc:  # noqa: BLE001 - worker crash, OOM kill, lost node: run the runs again
        logger.warning("a Ray task of %d run(s) died (%s): its runs are run again", len(batch), type(exc).__name__)
        for spec in batches.crashed(batch):
            try:
                raise RuntimeError(f"the worker process running it died {CRASHES_ALLOWED + 1} times: {exc}") from exc
            except RuntimeError as failure:
                record(spec, failure_record(spec, failure))
        return
    for spec, result in zip(batch, results, strict=True):
        record(spec, result)
