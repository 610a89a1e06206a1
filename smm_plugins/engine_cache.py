"""A per-user cache of compiled tree ensembles, so that each process does not parse model text again.

Parsing and compiling a model file's LightGBM text costs ~0.6-0.9 s per file of the embedded surrogates, in
every new process (each serial run command, each Ray worker, each adapter's benchmark); loading the compiled
arrays back (:meth:`~smm_plugins.engine.TreeEnsemble.load`, an ``.npz`` read without pickle) costs a few
milliseconds. An entry is keyed by the SHA-256 of the model file's bytes and of the engine's source, so a
changed model file or engine never meets a stale entry. The cache only speeds loading up: any failure to
read or write it falls back to the model text.

``$SMM_BENCH_CACHE_DIR`` sets the folder (``off`` disables the cache); the default is the per-user cache dir
(``platformdirs.user_cache_dir("smm-bench")``, e.g. ``~/.cache/smm-bench`` on Linux), subfolder ``engine``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smm_plugins.engine import TreeEnsemble

__all__ = ["CACHE_ENV", "MAX_ENTRIES", "cache_dir", "load_cached", "store"]

log = logging.getLogger(__name__)

#: Environment variable naming the cache folder; ``off`` (or ``0``, ``none``) disables the cache.
CACHE_ENV = "SMM_BENCH_CACHE_DIR"
#: Entries kept; the least recently used beyond this are removed (each entry is a few MB).
MAX_ENTRIES = 32
_OFF = ("off", "0", "none", "false")


def cache_dir() -> Path | None:
    """The folder of compiled ensembles (not created), or None when ``$SMM_BENCH_CACHE_DIR`` disables it."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env.lower() in _OFF:
        return None
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("smm-bench", appauthor=False)) / "engine"


@functools.cache
def _engine_key() -> str:
    # The compiled arrays depend on the model text and on the code that parses and compiles it.
    from smm_plugins import _engine_parse, engine

    h = hashlib.sha256()
    for module in (engine, _engine_parse):
        h.update(Path(module.__file__ or "").read_bytes())
    return h.hexdigest()[:16]


def _entry(file_sha256: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{file_sha256}-{_engine_key()}.npz"


def load_cached(file_sha256: str) -> TreeEnsemble | None:
    """The compiled ensemble of the model file whose bytes hash to ``file_sha256``, if cached (else None)."""
    from smm_plugins.engine import TreeEnsemble

    path = _entry(file_sha256)
    if path is None or not path.is_file():
        return None
    try:
        ens = TreeEnsemble.load(path)
        os.utime(path)  # recently used: kept by the clean-up in store()
    except (OSError, ValueError) as exc:
        log.debug("engine cache entry %s is not usable (%s): the model text is compiled again", path, exc)
        return None
    return ens


def store(file_sha256: str, ensemble: TreeEnsemble) -> None:
    """Cache ``ensemble``, compiled from the model file whose bytes hash to ``file_sha256`` (errors: logged)."""
    path = _entry(file_sha256)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ensemble.save(path)  # atomic: a reader never sees half a file
        _remove_least_recent(path.parent)
    except OSError as exc:
        log.debug("cannot write the engine cache entry %s (%s): loads keep compiling the model text", path, exc)


def _remove_least_recent(folder: Path) -> None:
    entries = sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        old.unlink(missing_ok=True)
