"""Atomic writes: complete files with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from smm_plugins._io import atomic_write_bytes, atomic_write_text


def test_atomic_write_gives_the_mode_a_plain_write_would(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
        atomic_write_text(tmp_path / "sub" / "b.json", "{}")
        with open(tmp_path / "plain", "wb"):
            pass
    finally:
        os.umask(old)
    want = stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert want == 0o644
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == want  # not mkstemp's 0600
    assert stat.S_IMODE((tmp_path / "sub" / "b.json").stat().st_mode) == want
    assert (tmp_path / "sub" / "b.json").read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left
