"""Read and write the official SMM-Bench surrogate files.

A benchmark directory holds, in the authors' layout:

- ``train_acc_ja_best_model.json`` and ``test_acc_ja_best_model.json``: LightGBM cross-validation
  booster sets as written by ``lightgbm.CVBooster.save_model``, i.e. a JSON object
  ``{"boosters": [<LightGBM text model>, ...], "best_iteration": <int>}`` (one booster per fold).
  A gzipped variant (``...json.gz``) of the same content is accepted too.
- ``label.json``: ``{"x": [<variable names in model-input order>]}``.
- optionally ``space.json`` (the format of :meth:`smm_plugins.space.SearchSpace.to_json`), written by
  this project's surrogate builder for search spaces other than the two SMM-Bench ones.
- optionally ``features.json`` (``{"name": ..., "version": ...}``): the built-in feature map
  (:mod:`smm_plugins.features`) applied to the raw configuration before the boosters. ``label.json`` and
  ``space.json`` still describe the raw configuration; the models' inputs are the map's outputs.

Every read failure raises :class:`ModelFileError` (or :class:`ModelFileMissingError`) naming the file
and the command that fixes it. Nothing here unpickles anything.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smm_plugins._io import atomic_write_bytes, atomic_write_text
from smm_plugins.errors import SMMBenchError
from smm_plugins.features import FeatureMap, get_feature_map
from smm_plugins.space import SearchSpace

__all__ = [
    "OFFICIAL_FILES",
    "LABEL_FILE",
    "SPACE_FILE",
    "DEFAULT_FIX",
    "ModelFileError",
    "ModelFileMissingError",
    "CVBoosterFile",
    "find_model_file",
    "read_cv_booster",
    "parse_cv_booster",
    "write_cv_booster",
    "read_labels",
    "write_labels",
    "read_space",
    "FEATURES_FILE",
    "read_feature_map",
    "write_feature_map",
    "check_model_dir",
    "DirCheck",
]

log = logging.getLogger(__name__)

#: Objective -> file name of its CV-booster JSON in the official layout.
OFFICIAL_FILES: dict[str, str] = {
    "train_acc": "train_acc_ja_best_model.json",
    "test_acc": "test_acc_ja_best_model.json",
}
LABEL_FILE = "label.json"
SPACE_FILE = "space.json"
FEATURES_FILE = "features.json"
#: The fix named in errors when the caller knows nothing better.
DEFAULT_FIX = "download the official files again and run `smm-bench install PATH`"


class ModelFileError(SMMBenchError, ValueError):
    """A surrogate file is missing, truncated, corrupt or inconsistent.

    ``path`` is the offending file, ``fix`` the action (usually a command) that repairs it.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str, fix: str = DEFAULT_FIX) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {problem}; to fix: {fix}")


class ModelFileMissingError(ModelFileError, FileNotFoundError):
    """A required surrogate file does not exist."""


@dataclass(frozen=True)
class CVBoosterFile:
    """The content of one CV-booster file: one LightGBM text model per fold."""

    path: str
    boosters: tuple[str, ...]
    best_iteration: int
    #: Number of model-input columns (``max_feature_idx + 1`` of the models).
    n_features: int
    #: Feature names declared in the models (may be LightGBM's ``Column_i`` defaults).
    feature_names: tuple[str, ...] = ()
    #: SHA-256 (hex) of the file's bytes as read (compressed bytes for ``.gz``).
    sha256: str = field(default="", compare=False)


# -- locating ----------------------------------------------------------------------------------


def find_model_file(directory: str | os.PathLike[str], objective: str, *, fix: str = DEFAULT_FIX) -> Path:
    """Path of ``objective``'s CV-booster file in ``directory`` (``.json``, else ``.json.gz``).

    Raises :class:`ModelFileMissingError` naming the expected file if neither exists.
    """
    if objective not in OFFICIAL_FILES:
        raise ValueError(f"objective = {objective!r} is not known; allowed: {', '.join(OFFICIAL_FILES)}")
    base = Path(directory) / OFFICIAL_FILES[objective]
    for cand in (base, base.with_name(base.name + ".gz")):
        if cand.is_file():
            return cand
    raise ModelFileMissingError(base, f"model file for objective {objective!r} is missing (also no .gz variant)", fix)


# -- CV boosters -------------------------------------------------------------------------------


def _read_bytes(path: Path, fix: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelFileMissingError(path, "file is missing", fix) from None
    except IsADirectoryError:
        raise ModelFileError(path, "is a directory, expected a file", fix) from None
    except OSError as exc:
        raise ModelFileError(path, f"cannot be read ({exc.strerror or exc})", fix) from None


def _decompress(path: Path, raw: bytes, fix: str) -> bytes:
    if not path.name.endswith(".gz"):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ModelFileError(path, f"is not a complete gzip file (truncated or corrupt: {exc})", fix) from None


def _header_value(model: str, key: str) -> str | None:
    # Header lines come before the first "Tree=" block; read only that part.
    head_end = model.find("\nTree=")
    head = model if head_end < 0 else model[:head_end]
    prefix = key + "="
    for line in head.splitlines():
        if line.startswith(prefix):
            return line[len(prefix) :]
    return None


def parse_cv_booster(
    data: bytes | str, path: str | os.PathLike[str] = "<memory>", *, fix: str = DEFAULT_FIX
) -> CVBoosterFile:
    """Check and parse the (decompressed) bytes of a CV-booster JSON file.

    Raises :class:`ModelFileError` for anything that LightGBM could not load or that is truncated.
    """
    p = Path(path)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise ModelFileError(p, f"is not UTF-8 text (corrupt? {exc.reason} at byte {exc.start})", fix) from None
    if not text.strip():
        raise ModelFileError(p, "is empty", fix)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            p, f"is not valid JSON (truncated or corrupt: {exc.msg} at line {exc.lineno} column {exc.colno})", fix
        ) from None
    if not isinstance(obj, dict) or "boosters" not in obj:
        raise ModelFileError(p, 'is not a LightGBM CV-booster file (expected a JSON object with key "boosters")', fix)
    boosters = obj["boosters"]
    if not isinstance(boosters, list) or not boosters:
        raise ModelFileError(p, '"boosters" must be a non-empty list of LightGBM text models', fix)
    best = obj.get("best_iteration", -1)
    if isinstance(best, bool) or not isinstance(best, int):
        raise ModelFileError(p, f'"best_iteration" must be an integer, got {best!r}', fix)
    n_features: int | None = None
    names: tuple[str, ...] = ()
    for i, model in enumerate(boosters):
        if not isinstance(model, str) or not model.startswith("tree\n"):
            raise ModelFileError(p, f"booster {i} is not a LightGBM text model (must start with 'tree')", fix)
        if "\nend of trees" not in model:
            raise ModelFileError(p, f"booster {i} is truncated (no 'end of trees' marker)", fix)
        if "\nTree=" not in model:
            raise ModelFileError(p, f"booster {i} has no trees", fix)
        mfi = _header_value(model, "max_feature_idx")
        try:
            nf = int(mfi) + 1  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ModelFileError(p, f"booster {i} has no valid max_feature_idx header ({mfi!r})", fix) from None
        if n_features is None:
            n_features = nf
            fn = _header_value(model, "feature_names")
            names = tuple(fn.split(" ")) if fn else ()
        elif nf != n_features:
            raise ModelFileError(p, f"booster {i} has {nf} features but booster 0 has {n_features}", fix)
        _check_tree_blocks(model, i, p, fix)
        ntpi = _header_value(model, "num_tree_per_iteration")
        if ntpi not in (None, "1"):
            raise ModelFileError(
                p, f"booster {i} is not a single-output regression model (num_tree_per_iteration={ntpi})", fix
            )
    assert n_features is not None
    return CVBoosterFile(
        path=str(p), boosters=tuple(boosters), best_iteration=int(best), n_features=n_features, feature_names=names
    )


def _check_tree_blocks(model: str, i: int, p: Path, fix: str) -> None:
    # LightGBM's text format lists the byte size of every tree block in "tree_sizes=" and aborts the
    # whole process (not an exception) on some inconsistencies: check the layout before any parser.
    start = model.find("\nTree=") + 1
    end = model.find("\nend of trees") + 1
    n_trees = model.count("\nTree=", start - 1, end)
    for key in ("split_feature=", "leaf_value=", "shrinkage="):
        if model.count("\n" + key, start - 1, end) != n_trees:
            raise ModelFileError(p, f"booster {i} is corrupt (not every tree has a {key[:-1]} line)", fix)
    sizes_text = _header_value(model, "tree_sizes")
    if sizes_text is None:
        return
    try:
        sizes = [int(v) for v in sizes_text.split()]
    except ValueError:
        raise ModelFileError(p, f"booster {i} has a corrupt tree_sizes header", fix) from None
    if len(sizes) != n_trees or sum(sizes) != end - start:
        raise ModelFileError(
            p, f"booster {i} is corrupt: its trees do not match the tree_sizes header (edited or truncated?)", fix
        )
    pos = start
    for k, size in enumerate(sizes):
        if not model.startswith(f"Tree={k}\n", pos):
            raise ModelFileError(p, f"booster {i} is corrupt: tree {k} is not where tree_sizes says", fix)
        pos += size


def read_cv_booster(
    path: str | os.PathLike[str], *, fix: str = DEFAULT_FIX, expected_sha256: str | None = None
) -> CVBoosterFile:
    """Read a CV-booster file (``.json`` or ``.json.gz``) and check it.

    ``expected_sha256``: if given, the file's bytes must hash to it (else :class:`ModelFileError`
    saying the file changed since installation).
    """
    p = Path(path)
    raw = _read_bytes(p, fix)
    digest = hashlib.sha256(raw).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise ModelFileError(p, "has changed since it was installed (SHA-256 differs from the manifest)", fix)
    parsed = parse_cv_booster(_decompress(p, raw, fix), p, fix=fix)
    return CVBoosterFile(
        path=parsed.path,
        boosters=parsed.boosters,
        best_iteration=parsed.best_iteration,
        n_features=parsed.n_features,
        feature_names=parsed.feature_names,
        sha256=digest,
    )


def write_cv_booster(path: str | os.PathLike[str], boosters: Sequence[str], best_iteration: int = -1) -> Path:
    """Write fold models in the official CV-booster JSON format (gzipped if ``path`` ends in ``.gz``).

    The file is written atomically; gzip output is reproducible (no timestamp).
    """
    if not boosters or not all(isinstance(b, str) for b in boosters):
        raise ValueError("boosters must be a non-empty sequence of LightGBM text models (str)")
    text = json.dumps({"boosters": list(boosters), "best_iteration": int(best_iteration)})
    p = Path(path)
    data = text.encode("utf-8")
    if p.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    atomic_write_bytes(p, data)
    return p


# -- label.json / space.json -------------------------------------------------------------------


def _read_json(p: Path, fix: str, expected_sha256: str | None) -> Any:
    """The parsed JSON of a small model-directory file, checked against its install-time SHA-256 if given."""
    raw = _read_bytes(p, fix)
    if expected_sha256 is not None and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise ModelFileError(p, "has changed since it was installed (SHA-256 differs from the manifest)", fix)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(p, f"is not valid JSON (truncated or corrupt: {exc})", fix) from None


def read_labels(
    path: str | os.PathLike[str], *, fix: str = DEFAULT_FIX, expected_sha256: str | None = None
) -> list[str]:
    """Variable names (model-input order) from a ``label.json`` file ``{"x": [names]}``."""
    p = Path(path)
    obj = _read_json(p, fix, expected_sha256)
    if not isinstance(obj, dict) or not isinstance(obj.get("x"), list):
        raise ModelFileError(p, 'must be a JSON object whose key "x" lists the variable names', fix)
    names = obj["x"]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ModelFileError(p, '"x" must be a non-empty list of non-empty strings', fix)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ModelFileError(p, f'"x" lists duplicate names {dupes[:5]}', fix)
    return list(names)


def write_labels(path: str | os.PathLike[str], names: Sequence[str]) -> Path:
    """Write ``label.json`` (``{"x": names}``) atomically."""
    names = list(names)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError("names must be a non-empty sequence of non-empty strings")
    atomic_write_text(path, json.dumps({"x": names}))
    return Path(path)


def read_space(
    path: str | os.PathLike[str], *, fix: str = DEFAULT_FIX, expected_sha256: str | None = None
) -> SearchSpace:
    """The search space stored in a ``space.json`` file (``SearchSpace.to_json`` format)."""
    p = Path(path)
    raw = _read_bytes(p, fix)
    if expected_sha256 is not None and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise ModelFileError(p, "has changed since it was installed (SHA-256 differs from the manifest)", fix)
    try:
        return SearchSpace.from_dict(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(p, f"is not valid JSON (truncated or corrupt: {exc})", fix) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelFileError(p, f"is not a valid search-space description ({exc})", fix) from None


def read_feature_map(
    path: str | os.PathLike[str], *, fix: str = DEFAULT_FIX, expected_sha256: str | None = None
) -> FeatureMap:
    """The built-in feature map a ``features.json`` file names (``{"name": str, "version": int}``).

    Raises :class:`ModelFileError` naming the file for bad JSON, and naming the unknown map (and the
    maps that exist) if this version of smm-plugins does not have it.
    """
    p = Path(path)
    obj = _read_json(p, fix, expected_sha256)
    name, version = (obj.get("name"), obj.get("version")) if isinstance(obj, dict) else (None, None)
    if not isinstance(name, str) or isinstance(version, bool) or not isinstance(version, int):
        raise ModelFileError(p, 'must be a JSON object {"name": <feature map name>, "version": <integer>}', fix)
    try:
        return get_feature_map(name, version)
    except ValueError as exc:
        raise ModelFileError(p, str(exc), "upgrade smm-plugins or rebuild the surrogate with a known map") from None


def write_feature_map(path: str | os.PathLike[str], feature_map: FeatureMap, space: SearchSpace) -> Path:
    """Write ``features.json`` atomically: the map's name, version and (for reading only) its output names."""
    body = {
        "name": feature_map.name,
        "version": feature_map.version,
        "description": feature_map.description,
        "outputs": feature_map.output_names(space),
    }
    atomic_write_text(path, json.dumps(body, indent=1))
    return Path(path)


# -- whole directory ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DirCheck:
    """Result of :func:`check_model_dir`."""

    directory: str
    n_features: int
    labels: list[str]
    files: dict[str, str]  # objective -> path
    has_space: bool
    n_folds: dict[str, int]
    #: ``"name@version"`` of the directory's feature map, or None (the models take the raw inputs).
    feature_map: str | None = None


def _check_engine_accepts(path: Path, boosters: Sequence[str], fix: str) -> None:
    # Parsing JSON is not enough: a model the engine cannot predict with (e.g. a binary objective or
    # linear trees) must be refused at install time, not at the first evaluation.
    from smm_plugins.engine import TreeEnsemble

    try:
        TreeEnsemble.from_model_strings(boosters)
    except ValueError as exc:
        raise ModelFileError(path, f"cannot be used as an SMM-Bench surrogate: {exc}", fix) from None


def check_model_dir(
    directory: str | os.PathLike[str],
    *,
    fix: str = DEFAULT_FIX,
    allowed_features: Sequence[int] | None = (64, 95),
) -> DirCheck:
    """Fully check a benchmark directory: both model files parse, label count matches the models.

    ``allowed_features``: feature counts accepted when no ``space.json`` is present (the two official
    spaces: 64 for PS, 95 for DFS); ``None`` accepts any.
    """
    d = Path(directory)
    if not d.is_dir():
        raise ModelFileMissingError(d, "benchmark directory does not exist", fix)
    labels = read_labels(d / LABEL_FILE, fix=fix)
    space_path = d / SPACE_FILE
    space = read_space(space_path, fix=fix) if space_path.is_file() else None
    files: dict[str, str] = {}
    folds: dict[str, int] = {}
    n_features: int | None = None
    for objective in OFFICIAL_FILES:
        f = find_model_file(d, objective, fix=fix)
        cv = read_cv_booster(f, fix=fix)
        if n_features is not None and cv.n_features != n_features:
            raise ModelFileError(f, f"has {cv.n_features} features but the other model file has {n_features}", fix)
        n_features = cv.n_features
        files[objective] = str(f)
        folds[objective] = len(cv.boosters)
        _check_engine_accepts(f, cv.boosters, fix)
    assert n_features is not None
    fmap = _check_feature_map(d, space, n_features, fix)
    if fmap is None and len(labels) != n_features:
        raise ModelFileError(
            d / LABEL_FILE, f"lists {len(labels)} names but the models have {n_features} features", fix
        )
    if space is not None:
        if space.names != labels:
            raise ModelFileError(
                space_path, f"names do not match {LABEL_FILE} (first: {space.names[:2]} vs {labels[:2]})", fix
            )
    elif allowed_features is not None and n_features not in allowed_features:
        raise ModelFileError(
            d,
            f"models have {n_features} features; SMM-Bench files have {' or '.join(map(str, allowed_features))} "
            f"(and a directory for another space needs a {SPACE_FILE})",
            fix,
        )
    return DirCheck(str(d), n_features, labels, files, space is not None, folds, fmap.key if fmap else None)


def _check_feature_map(d: Path, space: SearchSpace | None, n_features: int, fix: str) -> FeatureMap | None:
    path = d / FEATURES_FILE
    if not path.is_file():
        return None
    fmap = read_feature_map(path, fix=fix)
    if space is None:
        raise ModelFileError(path, f"a feature map needs the raw configuration described in {SPACE_FILE}", fix)
    try:
        n_out = len(fmap.output_names(space))
    except ValueError as exc:
        raise ModelFileError(path, f"names {fmap.key}, which does not apply to {SPACE_FILE}: {exc}", fix) from None
    if n_out != n_features:
        raise ModelFileError(path, f"{fmap.key} gives {n_out} model inputs but the models have {n_features}", fix)
    return fmap
