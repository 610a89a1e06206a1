"""Where installed surrogate files live, and the SHA-256 manifest that guards them.

The data directory is ``$SMM_BENCH_DATA_DIR`` if set, else a per-user data directory
(``platformdirs.user_data_dir("smm-bench")``, e.g. ``~/.local/share/smm-bench`` on Linux).
Each installed benchmark is a sub-directory (``smm-bench-ps/``, ``smm-bench-dfs/``) holding the
official files plus ``manifest.json`` recording the size and SHA-256 of every file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from smm_plugins._io import atomic_write_text
from smm_plugins.model_files import DEFAULT_FIX, ModelFileError, ModelFileMissingError

__all__ = [
    "ENV_VAR",
    "MANIFEST_FILE",
    "data_dir",
    "benchmark_dir",
    "sha256_file",
    "write_manifest",
    "read_manifest",
    "verify_manifest",
]

log = logging.getLogger(__name__)

#: Environment variable overriding the data directory.
ENV_VAR = "SMM_BENCH_DATA_DIR"
#: Name of the manifest file inside an installed benchmark directory.
MANIFEST_FILE = "manifest.json"
_MANIFEST_FORMAT = 1


def data_dir() -> Path:
    """The data directory (not created): ``$SMM_BENCH_DATA_DIR``, else the per-user data dir."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("smm-bench", appauthor=False))


def benchmark_dir(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Directory of the installed benchmark ``name`` (e.g. ``"smm-bench-ps"``) in the data directory."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"benchmark name {name!r} is not a plain directory name")
    return (Path(root) if root is not None else data_dir()) / name


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def write_manifest(
    directory: str | os.PathLike[str], files: Iterable[str], *, source: str = "", extra: dict[str, Any] | None = None
) -> Path:
    """Record size and SHA-256 of ``files`` (names relative to ``directory``) in ``manifest.json``."""
    d = Path(directory)
    entries = {}
    for name in sorted(files):
        p = d / name
        entries[name] = {"sha256": sha256_file(p), "size": p.stat().st_size}
    doc = {
        "format": _MANIFEST_FORMAT,
        "installed_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "files": entries,
    }
    if extra:
        doc.update(extra)
    out = d / MANIFEST_FILE
    atomic_write_text(out, json.dumps(doc, indent=1))
    return out


def read_manifest(directory: str | os.PathLike[str], *, fix: str = DEFAULT_FIX) -> dict[str, Any] | None:
    """The manifest of ``directory``, or ``None`` if it has none. A corrupt manifest is an error."""
    p = Path(directory) / MANIFEST_FILE
    if not p.is_file():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(p, f"manifest is unreadable ({exc})", fix) from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int)
        for v in files.values()
    ):
        raise ModelFileError(p, 'manifest has no valid "files" table', fix)
    return doc


def verify_manifest(
    directory: str | os.PathLike[str], *, fix: str = DEFAULT_FIX, full: bool = True
) -> dict[str, str] | None:
    """Check the files of ``directory`` against its manifest.

    Every listed file must exist with its recorded size; with ``full=True`` also its SHA-256.
    Returns ``{file name: sha256}`` from the manifest (``None`` if there is no manifest), so that
    callers can check the hash of bytes they read later without reading twice.
    Raises :class:`ModelFileError` naming the first file that is missing or changed.
    """
    d = Path(directory)
    doc = read_manifest(d, fix=fix)
    if doc is None:
        return None
    expected: dict[str, str] = {}
    for name, entry in doc["files"].items():
        p = d / name
        if not p.is_file():
            raise ModelFileMissingError(p, "is missing but listed in the install manifest", fix)
        size = p.stat().st_size
        if size != entry["size"]:
            raise ModelFileError(
                p, f"has changed since it was installed (size {size} bytes, manifest says {entry['size']})", fix
            )
        if full and sha256_file(p) != entry["sha256"]:
            raise ModelFileError(p, "has changed since it was installed (SHA-256 differs from the manifest)", fix)
        expected[name] = entry["sha256"]
    return expected
