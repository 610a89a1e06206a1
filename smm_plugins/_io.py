"""Small file helpers: atomic writes so that nothing is ever half-written."""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path
from typing import Any

from smm_plugins._deps import require

_TEMP_FLAGS = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)


def _create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """Create a new hidden temp file beside ``name`` in ``folder``; return its descriptor and path."""
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            # Mode 0666: the kernel applies the umask, so the file gets the mode a plain open() would give.
            return os.open(tmp, _TEMP_FLAGS, 0o666), tmp
        except FileExistsError:
            continue


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_png(fig: Any, path: str | os.PathLike[str], *, dpi: int = 110) -> None:
    """Save a matplotlib figure to ``path`` as PNG atomically, then close it.

    The PNG carries no "Software" tag, so the same figure gives the same bytes under any matplotlib version.
    """
    plt = require("matplotlib.pyplot", "report", who="smm_plugins figures")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
