"""Where a benchmark's files come from: the official download, the package, or a user's own build.

The official SMM-Bench download holds, per benchmark, only the two CV-booster files and ``label.json``.
A ``build-surrogate`` output also carries ``build_info.json`` (and ``space.json``, possibly ``features.json``):
files the official format never has, so any of them marks a user's (or this project's) build.
Names starting with ``smm-bench-`` are reserved for the official files.

Every benchmark from :func:`smm_plugins.registry.load_benchmark` has ``meta["source"]``, one line saying
where it comes from, and ``meta["source_kind"]``, one of :data:`SOURCE_KINDS`.
"""

from __future__ import annotations

import os
from pathlib import Path

from smm_plugins.datadir import MANIFEST_FILE, read_manifest
from smm_plugins.model_files import FEATURES_FILE, SPACE_FILE, ModelFileError

__all__ = [
    "BUILD_INFO_FILE",
    "BUILD_MARKERS",
    "OFFICIAL_CITATION",
    "RESERVED_PREFIX",
    "SOURCE_KINDS",
    "build_markers",
    "check_user_name",
    "directory_source",
    "is_reserved_name",
    "official_source",
    "user_build_fix",
]

#: Written by ``smm-bench build-surrogate`` next to the model files.
BUILD_INFO_FILE = "build_info.json"
#: Files a ``build-surrogate`` output may carry that the official download never does.
BUILD_MARKERS: tuple[str, ...] = (BUILD_INFO_FILE, SPACE_FILE, FEATURES_FILE)
#: Benchmark and space names starting with this are reserved for the official files.
RESERVED_PREFIX = "smm-bench-"
#: Values of ``meta["source_kind"]``.
SOURCE_KINDS: tuple[str, ...] = ("official", "embedded", "true", "user-build", "directory", "custom")
OFFICIAL_CITATION = "official SMM-Bench files (Akizuki et al. 2025)"


def build_markers(names: object) -> list[str]:
    """The :data:`BUILD_MARKERS` among ``names`` (file names, or a directory whose files are checked)."""
    if isinstance(names, (str, os.PathLike)):
        d = Path(names)
        return [m for m in BUILD_MARKERS if (d / m).is_file()]
    present = set(names)  # type: ignore[call-overload]
    return [m for m in BUILD_MARKERS if m in present]


def is_reserved_name(name: str) -> bool:
    """True if ``name`` is reserved for the official files (starts with ``smm-bench-``, any case)."""
    return name.strip().lower().startswith(RESERVED_PREFIX)


def check_user_name(name: str, argname: str, fix: str) -> str:
    """``name`` if a user's benchmark or space may carry it, else a ``ValueError`` naming ``argname``."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{argname} = {name!r} is not allowed; allowed: a non-empty name")
    if is_reserved_name(name):
        raise ValueError(
            f"{argname} = {name!r} is not allowed: names starting with {RESERVED_PREFIX!r} are reserved for the "
            f"official SMM-Bench files; {fix}"
        )
    return name


def user_build_fix(directory: str | os.PathLike[str]) -> str:
    """What to do with a user's build instead of installing it under an official name."""
    d = os.fspath(directory)
    return (
        f"load it by directory (load_benchmark({d!r}), `smm-bench info {d}`) or give it your own name with "
        f"register_benchmark('my-name', {d!r})"
    )


def official_source(directory: str | os.PathLike[str], *, verified: bool = True) -> str:
    """``meta["source"]`` of the official files in ``directory`` (install date and origin from its manifest)."""
    d = Path(directory)
    try:
        manifest = read_manifest(d)
    except ModelFileError:
        manifest = None
    if manifest is None:
        return f"{OFFICIAL_CITATION} in {d}, not installed by `smm-bench install` (no {MANIFEST_FILE}): not verified"
    date = str(manifest.get("installed_at", ""))[:10] or "on an unknown date"
    origin = manifest.get("source") or "an unrecorded path"
    check = "manifest verified" if verified else "manifest not checked (verify=False)"
    return f"{OFFICIAL_CITATION}, installed {date} from {origin}, {check}"


def directory_source(
    directory: str | os.PathLike[str], *, embedded: bool = False, verified: bool = True
) -> dict[str, str]:
    """``{"source": ..., "source_kind": ...}`` of a benchmark loaded from ``directory``.

    ``embedded``: the folder ships in the package. ``verified``: the loader checks the install manifest.
    """
    d = Path(directory).resolve()
    markers = build_markers(d)
    if embedded:
        text = f"embedded: smm-plugins merge-lab surrogate built with build-surrogate ({BUILD_INFO_FILE})"
        return {"source": text, "source_kind": "embedded"}
    if BUILD_INFO_FILE in markers:
        return {"source": f"user build: {d} (build-surrogate, {BUILD_INFO_FILE})", "source_kind": "user-build"}
    if markers:
        text = f"user build: {d} (has {', '.join(markers)}, which the official files do not)"
        return {"source": text, "source_kind": "user-build"}
    if (d / MANIFEST_FILE).is_file():
        return {"source": official_source(d, verified=verified), "source_kind": "official"}
    text = f"directory: {d} (official file layout; origin not recorded: no {MANIFEST_FILE}, no {BUILD_INFO_FILE})"
    return {"source": text, "source_kind": "directory"}
