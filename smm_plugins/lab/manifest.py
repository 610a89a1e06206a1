"""The SHA-256 manifest of the lab's packaged weights (``smm_plugins/data/lab/manifest.json``).

The manifest lists every packaged lab file (``sources.npz``, ``suite/<task>.npz``) by its path relative to
``data/lab`` with its SHA-256, size, training recipe, task spec and the torch/numpy versions that wrote it.
Loading a packaged file checks its hash (:func:`verify_packaged`), so a damaged or foreign file gives a clear
error instead of other numbers. NumPy/stdlib only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from smm_plugins.errors import SMMBenchError

__all__ = [
    "LAB_DATA_DIR",
    "MANIFEST_PATH",
    "LabWeightsError",
    "file_sha256",
    "read_manifest",
    "verify_packaged",
    "manifest_record",
    "update_manifest",
]

#: Folder of the packaged lab files.
LAB_DATA_DIR: Path = Path(__file__).resolve().parent.parent / "data" / "lab"
#: The manifest of the packaged lab files.
MANIFEST_PATH: Path = LAB_DATA_DIR / "manifest.json"


class LabWeightsError(SMMBenchError, ValueError):
    """A packaged lab file does not match its SHA-256 in the manifest."""


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The manifest at ``path`` (default :data:`MANIFEST_PATH`) as ``{"format": 1, "files": {path: record}}``.

    Paths are relative to the manifest's folder; an absent manifest reads as empty.
    """
    p = Path(path) if path is not None else MANIFEST_PATH
    if not p.is_file():
        return {"format": 1, "files": {}}
    return dict(json.loads(p.read_text(encoding="utf-8")))


def _relative(path: Path) -> str | None:
    """``path`` relative to :data:`LAB_DATA_DIR` (POSIX form), or ``None`` if it is outside."""
    try:
        return path.resolve().relative_to(LAB_DATA_DIR.resolve()).as_posix()
    except ValueError:
        return None


@functools.lru_cache(maxsize=32)
def _verified(path: str, mtime_ns: int, size: int) -> None:
    del mtime_ns, size  # cache key only: a changed file is hashed again
    rel = _relative(Path(path))  # LAB_DATA_DIR and MANIFEST_PATH are read at call time (tests move them)
    record = read_manifest()["files"].get(rel) if rel is not None else None
    if record is None:
        return
    got = file_sha256(path)
    if got != record["sha256"]:
        raise LabWeightsError(
            f"lab file {path!r} has SHA-256 {got}, but the manifest ({MANIFEST_PATH.name}) records "
            f"{record['sha256']} for {rel!r}: the file is damaged or not the packaged one; reinstall smm-plugins "
            "or regenerate it with smm-bench lab train-suite"
        )


def verify_packaged(path: str | os.PathLike[str]) -> None:
    """Raise :class:`LabWeightsError` if ``path`` is a packaged lab file whose SHA-256 differs from the manifest's.

    Files outside the package's ``data/lab`` (a user's own weights) and files the manifest does not list
    are not checked.
    """
    p = Path(path).resolve()
    st = p.stat()
    _verified(str(p), st.st_mtime_ns, st.st_size)


def manifest_record(path: str | os.PathLike[str], metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's record of one file: SHA-256, bytes and the file's training metadata."""
    meta = dict(metadata)
    return {
        "sha256": file_sha256(path),
        "bytes": Path(path).stat().st_size,
        "recipe": meta.get("recipe", {}),
        "task_spec": meta.get("tasks", {}),
        "suite_task": meta.get("suite_task"),
        "torch": meta.get("torch"),
        "numpy": meta.get("numpy"),
    }


def update_manifest(records: Mapping[str, Mapping[str, Any]], path: str | os.PathLike[str] | None = None) -> None:
    """Write ``records`` (relative path -> record) into the manifest at ``path`` (default :data:`MANIFEST_PATH`),
    atomically; records of other files are kept."""
    from smm_plugins._io import atomic_write_text

    path = path if path is not None else MANIFEST_PATH
    manifest = read_manifest(path)
    manifest["files"] = {**manifest["files"], **{k: dict(v) for k, v in records.items()}}
    manifest["files"] = dict(sorted(manifest["files"].items()))
    atomic_write_text(path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    _verified.cache_clear()
