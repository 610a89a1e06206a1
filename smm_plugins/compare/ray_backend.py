"""Ray execution of a grid: start or join Ray, one task per run, results back to the driver as they finish."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from smm_plugins.compare.execute import WORKER_ENV, execute_in_worker, failure_record
from smm_plugins.compare.optimizers import OptimizerInfo
from smm_plugins.compare.plan import RunSpec
from smm_plugins.compare.results import RunResult
from smm_plugins.compare.shipping import pack_dir

__all__ = ["run_on_ray", "start_ray"]


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
                else "; if the cluster uses token authentication (Ray's default), set RAY_AUTH_MODE=token"
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
        _REMOTE = ray.remote(num_cpus=1, max_retries=1)(execute_in_worker)
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
    """Run ``todo`` as Ray tasks; returns the number of slots (CPUs) used.

    ``claim(spec)`` is asked just before a run is submitted (False: skip it); ``record(spec, result)`` gets
    every result in the driver as it arrives; ``ship``: put benchmark directories into the object store.
    """
    remote = _remote_fn(ray)
    # On a cluster (or a Ray session started by the caller) use every CPU it has.
    slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
    payloads = _payloads(ray, todo, ship)
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
                if claim(spec):
                    in_flight[remote.remote(spec, opt_refs[spec.optimizer], payloads[spec.benchmark])] = spec
            set_running(len(in_flight))
            if not in_flight:
                continue
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                spec = in_flight.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - worker crash, OOM kill, ...: isolate the run
                    result = failure_record(spec, exc)
                record(spec, result)
    except BaseException:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        raise
    finally:
        set_running(0)
    return slots
