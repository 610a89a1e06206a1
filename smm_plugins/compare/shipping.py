"""Benchmarks of a run: loaded through the registry (cached per process), shipped to remote Ray nodes.

A benchmark directory cannot be assumed on a remote node: the driver packs its files once into Ray's
object store (:func:`pack_dir`), and a worker unpacks them on its node on its first run of that benchmark
(:func:`materialise`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from smm_plugins._deps import require
from smm_plugins.benchmark import Benchmark
from smm_plugins.compare.plan import benchmark_label

__all__ = ["load_run_benchmark", "materialise", "pack_dir"]


def pack_dir(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """The files of a benchmark directory: relative path -> bytes."""
    root = Path(path)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def materialise(spec: str, files: dict[str, bytes]) -> str:
    """Unpack shipped benchmark files into a folder of this node (one per content) and return its path."""
    digest = hashlib.sha256(b"".join(k.encode() + v for k, v in files.items())).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"smm-compare-{digest}" / benchmark_label(spec)
    if not target.is_dir():
        # Unpack into a private staging folder, then rename it into place in one step: another worker
        # on this node either sees no folder or a complete one. The loser of a race drops its copy.
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


# Shipped object -> the folder it was unpacked into on this node, so that a worker fetches it once.
_UNPACKED: dict[str, str] = {}
_LOCK = threading.Lock()


def load_run_benchmark(spec: str, payload: list[Any] | None = None) -> Benchmark:
    """The benchmark ``spec`` (registered name, directory or ``"module:factory"``), loaded once per process.

    ``payload``: ``[ObjectRef]`` of the shipped files of a directory. Loading goes through
    :func:`smm_plugins.registry.load_benchmark` and its per-process cache.
    """
    from smm_plugins.registry import load_benchmark

    if payload:
        key = payload[0].hex()
        with _LOCK:
            if key not in _UNPACKED:
                ray = require("ray", "ray", who="smm-bench compare with Ray workers")
                _UNPACKED[key] = materialise(spec, ray.get(payload[0]))
        spec = _UNPACKED[key]
    return load_benchmark(spec)
