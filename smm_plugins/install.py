"""``smm-bench install PATH``: check the user's download and put it into the data directory.

The download is an unpacked folder or a zip archive holding ``smm-bench-ps/`` and/or
``smm-bench-dfs/`` (possibly nested under a top folder), or a single benchmark folder. Every
benchmark folder found is checked (both model files present and loadable, ``label.json`` matching,
64 features = PS, 95 = DFS), copied into a temporary directory inside the data directory, given a
SHA-256 manifest and only then renamed into place, so that a failed install changes nothing.

Zip archives are rejected as a whole if any member could land outside the target (absolute paths,
``..`` components, drive letters) or is a symbolic link; folders are rejected if a needed file is a
symbolic link.

Only the official files are installed: a folder carrying a file the official download never has
(``build_info.json``, ``space.json``, ``features.json``: a ``build-surrogate`` output) is refused, since
installing it would give a user's build an official name (see :mod:`smm_plugins.provenance`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from smm_plugins.datadir import data_dir, write_manifest
from smm_plugins.errors import SMMBenchError
from smm_plugins.model_files import LABEL_FILE, OFFICIAL_FILES, ModelFileError, check_model_dir
from smm_plugins.provenance import BUILD_INFO_FILE, BUILD_MARKERS, user_build_fix

__all__ = ["install", "InstallError", "InstalledBenchmark", "OFFICIAL_NAMES", "DOWNLOAD_HINT", "INSTALL_FIX"]

log = logging.getLogger(__name__)

#: Feature count -> registered name of the official benchmark.
OFFICIAL_NAMES: dict[int, str] = {64: "smm-bench-ps", 95: "smm-bench-dfs"}
#: Where users get the official files.
DOWNLOAD_HINT = "the Google Drive folder linked from https://github.com/shiralab/SMM-Bench"
#: The fix named in errors about installed official files.
INSTALL_FIX = f"download the files from {DOWNLOAD_HINT} and run `smm-bench install PATH`"

_MODEL_NAMES = set(OFFICIAL_FILES.values()) | {n + ".gz" for n in OFFICIAL_FILES.values()}
_WANTED = _MODEL_NAMES | {LABEL_FILE} | set(BUILD_MARKERS)
_MAX_DEPTH = 4
_DRIVE = re.compile(r"^[A-Za-z]:")


class InstallError(SMMBenchError, ValueError):
    """The download cannot be installed (missing, unsafe or corrupt content)."""


@dataclass(frozen=True)
class InstalledBenchmark:
    """One benchmark put into the data directory."""

    name: str
    path: Path
    n_features: int
    n_folds: dict[str, int]
    source: str


def install(source: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None) -> list[InstalledBenchmark]:
    """Check and install the official SMM-Bench files from ``source`` (folder or ``.zip``).

    ``root``: data directory to install into (default: :func:`smm_plugins.datadir.data_dir`).
    Returns what was installed. Raises :class:`InstallError` (nothing changed) on any problem, including
    a folder that is a ``build-surrogate`` output rather than the official download.
    An already installed benchmark of the same name is replaced.
    """
    src = Path(source).expanduser().absolute()
    if not src.exists():
        raise InstallError(f"{src} does not exist; pass the folder or zip you downloaded from {DOWNLOAD_HINT}")
    target_root = Path(root) if root is not None else data_dir()
    created = not target_root.exists()
    target_root.mkdir(parents=True, exist_ok=True)
    try:
        return _install(src, target_root)
    except BaseException:
        if created and not any(target_root.iterdir()):
            target_root.rmdir()  # a failed install leaves no trace, not even the data directory
        raise


def _install(src: Path, target_root: Path) -> list[InstalledBenchmark]:
    tmp = Path(tempfile.mkdtemp(prefix=".install-", dir=target_root))
    try:
        if src.is_dir():
            staged = _stage_from_dir(src, tmp)
        elif zipfile.is_zipfile(src):
            staged = _stage_from_zip(src, tmp)
        else:
            raise InstallError(f"{src} is neither a folder nor a zip archive")
        if not staged:
            raise InstallError(
                f"{src} holds no SMM-Bench benchmark folder (expected a folder with "
                f"{', '.join(OFFICIAL_FILES.values())} and {LABEL_FILE}, e.g. smm-bench-ps/)"
            )
        results = [_check_staged(stage_dir, shown, folder) for stage_dir, shown, folder in staged]
        names = [r[0] for r in results]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            where = [shown for (n, *_), (_, shown, _) in zip(results, staged, strict=True) if n in dupes]
            raise InstallError(f"{src} holds more than one {dupes[0]} folder: {', '.join(where)}; keep only one")
        installed = []
        for (name, check_folds, n_features), (stage_dir, shown, _) in zip(results, staged, strict=True):
            files = sorted(p.name for p in stage_dir.iterdir() if p.is_file())
            write_manifest(stage_dir, files, source=shown)
            installed.append((name, stage_dir, check_folds, n_features, shown))
        out = []
        for name, stage_dir, folds, n_features, shown in installed:
            dest = target_root / name
            if dest.exists() or dest.is_symlink():
                old = tmp / f"old-{name}"
                os.replace(dest, old)
            os.replace(stage_dir, dest)
            log.info("installed %s (%d features) from %s into %s", name, n_features, shown or src, dest)
            out.append(InstalledBenchmark(name, dest, n_features, folds, str(src)))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- staging -----------------------------------------------------------------------------------


def _pick(names: set[str]) -> list[str]:
    # Prefer the plain .json over a .json.gz of the same model.
    chosen = []
    for n in sorted(names):
        if n.endswith(".gz") and n[:-3] in names:
            continue
        chosen.append(n)
    return chosen


def _stage_from_dir(src: Path, tmp: Path) -> list[tuple[Path, str, str]]:
    staged: list[tuple[Path, str, str]] = []
    src_depth = len(src.parts)
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        here = Path(dirpath)
        if len(here.parts) - src_depth >= _MAX_DEPTH:
            dirnames[:] = []
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        present = set(filenames) & _WANTED
        if not present & _MODEL_NAMES:
            continue
        _refuse_user_build(str(here), present, user_build_fix(here))
        stage = tmp / f"stage-{len(staged)}"
        stage.mkdir()
        for name in _pick(present):
            f = here / name
            if f.is_symlink():
                raise InstallError(f"{f} is a symbolic link; copy the real file there and run install again")
            shutil.copyfile(f, stage / name)
        staged.append((stage, str(here), here.name))
    return staged


def _unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if "\x00" in name:
        return "has a NUL byte in its name"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm):
        return "has an absolute path"
    if ".." in PurePosixPath(norm).parts:
        return "has a '..' path component"
    mode = (info.external_attr >> 16) & 0o170000
    if mode == 0o120000:
        return "is a symbolic link"
    return None


def _stage_from_zip(src: Path, tmp: Path) -> list[tuple[Path, str, str]]:
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InstallError(f"{src} is not a readable zip archive ({exc})") from None
    with zf:
        infos = zf.infolist()
        for info in infos:
            reason = _unsafe_reason(info)
            if reason:
                raise InstallError(
                    f"{src}: member {info.filename!r} {reason}; refusing to extract this archive "
                    f"(download it again from {DOWNLOAD_HINT})"
                )
        groups: dict[str, dict[str, zipfile.ZipInfo]] = {}
        for info in infos:
            if info.is_dir():
                continue
            p = PurePosixPath(info.filename.replace("\\", "/"))
            if p.name not in _WANTED or len(p.parts) > _MAX_DEPTH + 1:
                continue
            if any(part.startswith(".") or part == "__MACOSX" for part in p.parts[:-1]):
                continue
            folder = p.parent.as_posix()
            if p.name in groups.setdefault(folder, {}):
                raise InstallError(f"{src}: member {info.filename!r} appears twice; the archive is damaged")
            groups[folder][p.name] = info
        staged: list[tuple[Path, str, str]] = []
        for folder in sorted(groups):
            members = groups[folder]
            if not set(members) & _MODEL_NAMES:
                continue
            where = f"{src}:{folder}" if folder != "." else str(src)
            _refuse_user_build(where, set(members), "unpack it, then " + user_build_fix(PurePosixPath(folder).name))
            stage = tmp / f"stage-{len(staged)}"
            stage.mkdir()
            for name in _pick(set(members)):
                # The target path is built from the base name only: nothing can escape ``stage``.
                try:
                    with zf.open(members[name]) as fin, open(stage / name, "wb") as fout:
                        shutil.copyfileobj(fin, fout, 1 << 20)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise InstallError(
                        f"{src}: member {members[name].filename!r} cannot be extracted ({exc}); "
                        f"download the archive again from {DOWNLOAD_HINT}"
                    ) from None
            shown = f"{src}:{folder}" if folder != "." else str(src)
            staged.append((stage, shown, PurePosixPath(folder).name))
    return staged


def _refuse_user_build(shown: str, names: set[str], fix: str) -> None:
    markers = [m for m in BUILD_MARKERS if m in names]
    if not markers:
        return
    what = "a surrogate built with `smm-bench build-surrogate`" if BUILD_INFO_FILE in markers else "not official files"
    raise InstallError(
        f"{shown} has {', '.join(markers)} ({what}), not the official SMM-Bench download; `smm-bench install` "
        f"installs only the official files (as {' / '.join(OFFICIAL_NAMES.values())}). Instead, {fix}"
    )


def _check_staged(stage: Path, shown: str, folder_name: str) -> tuple[str, dict[str, int], int]:
    fix = f"download the files again from {DOWNLOAD_HINT} and run `smm-bench install PATH`"
    try:
        check = check_model_dir(stage, fix=fix)
    except ModelFileError as exc:
        where = exc.path.replace(str(stage), shown)
        raise InstallError(f"{where}: {exc.problem}; to fix: {exc.fix}") from None
    name = OFFICIAL_NAMES.get(check.n_features)
    if name is None:
        raise InstallError(
            f"{shown}: models have {check.n_features} features; SMM-Bench has {' or '.join(map(str, OFFICIAL_NAMES))}"
        )
    if folder_name.lower() in OFFICIAL_NAMES.values() and folder_name.lower() != name:
        raise InstallError(
            f"{shown}: the folder is named {folder_name} but its models have {check.n_features} features ({name}); "
            "the download looks mixed up"
        )
    return name, check.n_folds, check.n_features
