"""A directory of SMM-Bench surrogate files as a :class:`~smm_plugins.benchmark.Benchmark`.

``SurrogateBenchmark(directory)`` reads ``label.json`` (and ``space.json`` if present) at once and
each objective's CV booster on first use. Predictions follow the reference loader: mean over the
fold boosters, clipped into [0, 1]; inputs are validated strictly unless ``clip=True`` (then
continuous values are clipped into their bounds and categoricals are passed through, as the
reference does).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins import engine_cache
from smm_plugins.benchmark import Benchmark
from smm_plugins.cost import cost_model_for
from smm_plugins.datadir import sha256_file, verify_manifest
from smm_plugins.features import FeatureMap
from smm_plugins.model_files import (
    DEFAULT_FIX,
    FEATURES_FILE,
    LABEL_FILE,
    SPACE_FILE,
    ModelFileError,
    ModelFileMissingError,
    find_model_file,
    read_cv_booster,
    read_feature_map,
    read_labels,
    read_space,
)
from smm_plugins.space import SearchSpace, dfs_space, ps_space

__all__ = ["SurrogateBenchmark", "CITATION", "BIBTEX", "OFFICIAL_TASK", "LAB_TASK", "infer_space"]

log = logging.getLogger(__name__)

CITATION = (
    "Akizuki, Kudo, Yoshinari, Hirose, Nishimoto, Uchida, Shirakawa: Surrogate Benchmarks for Model "
    "Merging Optimization. AutoML 2025 (non-archival track), arXiv:2509.02555"
)
BIBTEX = """@inproceedings{akizuki2025smmbench,
  title     = {Surrogate Benchmarks for Model Merging Optimization},
  author    = {Akizuki, Rio and Kudo, Yuya and Yoshinari, Nozomu and Hirose, Yoichi and
               Nishimoto, Toshiyuki and Uchida, Kento and Shirakawa, Shinichi},
  booktitle = {AutoML Conference 2025 (Non-Archival Track)},
  year      = {2025},
  eprint    = {2509.02555},
  archivePrefix = {arXiv}
}"""


#: What the official benchmarks' accuracies measure (``meta["task"]``).
OFFICIAL_TASK = (
    "accuracy of a merge of two Mistral-7B fine-tunes (Japanese, math) on Japanese math word problems: "
    "gsm8k-ja (1,069 problems, train_acc) and MGSM-ja (250, test_acc)"
)
#: What the merge lab's accuracies measure (``meta["task"]`` of ``smm-mini-*`` and ``smm-mini-*-true``).
LAB_TASK = (
    "accuracy of a merge of the lab's two small source networks on its math task with rotated inputs "
    "(1,000 optimisation points, train_acc; 1,000 mildly shifted test points, test_acc); see docs/merge-lab.md"
)


def infer_space(
    directory: str | os.PathLike[str], name: str, *, fix: str = DEFAULT_FIX, expected: Mapping[str, str] | None = None
) -> SearchSpace:
    """The search space of a benchmark directory.

    ``space.json`` if present (its names must equal ``label.json``'s, if that exists too); else from
    ``label.json``: 64 names -> :func:`ps_space`, 95 names -> :func:`dfs_space`; else an error.
    """
    d = Path(directory)
    expected = expected or {}
    label_path, space_path = d / LABEL_FILE, d / SPACE_FILE
    labels = (
        read_labels(label_path, fix=fix, expected_sha256=expected.get(LABEL_FILE))
        if label_path.is_file() or not space_path.is_file()
        else None
    )
    if space_path.is_file():
        space = read_space(space_path, fix=fix, expected_sha256=expected.get(SPACE_FILE))
        if labels is not None and space.names != labels:
            raise ModelFileError(
                space_path, f"names do not match {label_path.name} ({space.names[:2]} vs {labels[:2]})", fix
            )
        return space
    assert labels is not None
    if len(labels) == 64:
        return ps_space(name=name, names=labels)
    if len(labels) == 95:
        return dfs_space(name=name, names=labels)
    raise ModelFileError(
        label_path,
        f"lists {len(labels)} variables; SMM-Bench-PS has 64 and SMM-Bench-DFS 95, "
        f"and a directory for another space needs a {SPACE_FILE}",
        fix,
    )


class SurrogateBenchmark(Benchmark):
    """An SMM-Bench surrogate (two LightGBM CV boosters) loaded from a directory.

    Parameters
    ----------
    directory:
        Folder in the official layout (``train_acc_ja_best_model.json[.gz]``,
        ``test_acc_ja_best_model.json[.gz]``, ``label.json``, optional ``space.json``), optionally
        with a ``features.json`` naming the built-in feature map (:mod:`smm_plugins.features`) the
        boosters were trained on; it is applied to each validated raw configuration.
    name:
        Benchmark name (default: the folder name).
    verify:
        If the folder has an install manifest, check the files against it (sizes now, SHA-256 of each
        model file when it is loaded) and raise :class:`~smm_plugins.model_files.ModelFileError`
        naming a changed file. ``False`` skips the check.
    fix:
        The repair named in file errors (e.g. ``"run `smm-bench install PATH`"``).
    space:
        Override the inferred search space (must have as many variables as the models have features).
    n_problems_full:
        Problems per split of a full evaluation (``{"train_acc": n, "test_acc": m}``), the upper end of
        the ``n_problems`` fidelity; default: the space metadata's, else the official 1,069 / 250.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        name: str | None = None,
        verify: bool = True,
        fix: str = DEFAULT_FIX,
        space: SearchSpace | None = None,
        meta: Mapping[str, Any] | None = None,
        cost_model: Any = None,
        n_problems_full: Mapping[str, int] | None = None,
    ) -> None:
        d = Path(directory).expanduser()
        if not d.is_dir():
            raise ModelFileMissingError(d, "benchmark directory does not exist", fix)
        self.directory = d
        self.name = name or d.resolve().name
        self.fix = fix
        self.verify = verify
        self._expected: dict[str, str] = (verify_manifest(d, fix=fix, full=False) or {}) if verify else {}
        self.space = space if space is not None else infer_space(d, self.name, fix=fix, expected=self._expected)
        self.kind: str = str(self.space.metadata.get("kind", "custom"))
        self._input_names: list[str] = list(self.space.names)
        self.feature_map: FeatureMap | None = self._read_feature_map()
        # Split sizes of the data the surrogate models (the fidelity's upper end): an argument, else
        # the space's metadata (written by the builder), else the official splits' sizes.
        sizes = n_problems_full or self.space.metadata.get("n_problems_full")
        if sizes:
            self.n_problems_full = {obj: int(sizes[obj]) for obj in self.objectives}
        if cost_model is not None:  # resolved now: a wrong name fails at load, not at the first cost
            self.cost_model = cost_model_for(self, cost_model)
        self.meta: dict[str, Any] = {
            "citation": CITATION,
            "bibtex": BIBTEX,
            "reference": "https://github.com/shiralab/SMM-Bench",
            "directory": str(d),
            "kind": self.kind,
            "dim": self.space.dim,
            "objectives": list(self.objectives),
            "feature_map": self.feature_map.key if self.feature_map is not None else None,
        }
        if meta:
            self.meta.update(meta)
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()
        # Fail early if a model file is absent (its content is read on first use).
        for objective in self.objectives:
            find_model_file(d, objective, fix=fix)

    # -- models --------------------------------------------------------------------------------
    def model_path(self, objective: str) -> Path:
        """Path of ``objective``'s CV-booster file."""
        self._check_objective(objective)
        return find_model_file(self.directory, objective, fix=self.fix)

    def ensemble(self, objective: str) -> Any:
        """The loaded :class:`~smm_plugins.engine.TreeEnsemble` of ``objective`` (loaded once, cached)."""
        self._check_objective(objective)
        model = self._models.get(objective)
        if model is None:
            with self._lock:
                model = self._models.get(objective)
                if model is None:
                    model = self._load(objective)
                    self._models[objective] = model
        return model

    def preload(self) -> SurrogateBenchmark:
        """Load every objective's models now (e.g. before forking workers). Returns ``self``."""
        for objective in self.objectives:
            self.ensemble(objective)
        return self

    def _read_feature_map(self) -> FeatureMap | None:
        path = self.directory / FEATURES_FILE
        if not path.is_file():
            return None
        fmap = read_feature_map(path, fix=self.fix, expected_sha256=self._expected.get(FEATURES_FILE))
        try:
            self._input_names = fmap.output_names(self.space)
        except ValueError as exc:
            raise ModelFileError(
                path, f"names {fmap.key}, which does not apply to this space: {exc}", self.fix
            ) from None
        return fmap

    @property
    def input_names(self) -> list[str]:
        """Names of the boosters' inputs: the space's names, or the feature map's outputs."""
        return list(self._input_names)

    def _load(self, objective: str) -> Any:
        path = find_model_file(self.directory, objective, fix=self.fix)
        expected = self._expected.get(path.name)
        digest = _file_sha256(path)  # None if unreadable: read_cv_booster says why
        if digest is not None and expected in (None, digest):
            cached = engine_cache.load_cached(digest)
            if cached is not None:
                self._check_inputs(path, int(cached.n_features), list(cached.feature_names))
                log.debug("loaded %s from the engine cache", path)
                return cached
        cv = read_cv_booster(path, fix=self.fix, expected_sha256=expected)
        self._check_inputs(path, cv.n_features, list(cv.feature_names))
        ens = self._compile(path, cv)
        engine_cache.store(cv.sha256, ens)
        return ens

    def _check_inputs(self, path: Path, n_features: int, feature_names: list[str]) -> None:
        """The models of ``path`` take this benchmark's inputs (else :class:`ModelFileError`)."""
        n_inputs = len(self.input_names)
        if n_features != n_inputs:
            what = (
                f"{self.feature_map.key} gives {n_inputs} inputs"
                if self.feature_map is not None
                else f"the search space has {n_inputs} variables"
            )
            raise ModelFileError(path, f"models have {n_features} features but {what}", self.fix)
        declared = [n for n in feature_names if not n.startswith("Column_")]
        if declared and feature_names != self.input_names:
            log.warning("%s: feature names in the models differ from %s; using the label order", path, LABEL_FILE)

    def _compile(self, path: Path, cv: Any) -> Any:
        """The :class:`~smm_plugins.engine.TreeEnsemble` of a read CV-booster file."""
        from smm_plugins.engine import TreeEnsemble

        try:
            ens = TreeEnsemble.from_model_strings(list(cv.boosters))
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - the engine or LightGBM could not parse a model body
            raise ModelFileError(
                path, f"cannot be loaded as LightGBM models ({type(exc).__name__}: {exc})", self.fix
            ) from None
        if int(ens.n_features) != len(self.input_names):
            raise ModelFileError(
                path, f"models have {ens.n_features} features, expected {len(self.input_names)}", self.fix
            )
        log.debug("loaded %s: %d fold boosters", path, len(cv.boosters))
        return ens

    def model_inputs(self, X: np.ndarray) -> np.ndarray:
        """The boosters' inputs for validated raw rows ``X`` (the feature map applied, if any)."""
        return X if self.feature_map is None else self.feature_map.transform(X, self.space)

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        y = np.asarray(self.ensemble(objective).predict(self.model_inputs(X)), dtype=np.float64).reshape(-1)
        return np.clip(y, 0.0, 1.0)

    def fold_predictions(self, X: Any, objective: str = "train_acc", *, clip: bool = False) -> np.ndarray:
        """Each CV fold booster's prediction (n, n_folds) for configurations ``X`` (validated as in evaluate).

        :meth:`evaluate` returns their mean, clipped into [0, 1]; their spread shows where the boosters,
        each fitted on different rows, disagree (unclipped raw values).
        """
        self._check_objective(objective)
        batch = self.space.clip(X) if clip else self.space.validate(X)
        return self.ensemble(objective).predict_folds(self.model_inputs(batch))

    # -- the reference call forms --------------------------------------------------------------
    def __call__(self, *arrays: Any, mode: str = "train_acc", clip: bool = False) -> float | np.ndarray:
        """Reference call forms: PS ``bench(x, mode=...)``, DFS ``bench(c, x, mode=...)``.

        ``c``: layer choices (``n_categorical`` columns), ``x``: the continuous variables; both 1-D
        (one configuration -> float) or both 2-D with the same number of rows (-> array).
        A single full-width ``X`` works for every space. Strict validation unless ``clip=True``
        (reference semantics: continuous values clipped, categoricals unchecked).
        """
        if len(arrays) == 1:
            X = arrays[0]
        elif len(arrays) == 2:
            X = self._join(*arrays)
        else:
            raise TypeError(f"{self.name}(...) takes (x) or, for a DFS space, (c, x); got {len(arrays)} arrays")
        return self.evaluate(X, mode, clip=clip)

    def _join(self, c: Any, x: Any) -> np.ndarray:
        n_cat = self.space.n_categorical
        if n_cat == 0 or not self.space.is_categorical[:n_cat].all():
            raise TypeError(f"{self.name}: the (c, x) call form needs a space whose categorical variables come first")
        c_arr, x_arr = _as_array(c, "c"), _as_array(x, "x")
        if c_arr.ndim != x_arr.ndim or c_arr.ndim not in (1, 2):
            raise ValueError(
                "c and x must both be 1-D (one configuration) or both 2-D (a batch); "
                f"got {c_arr.ndim}-D and {x_arr.ndim}-D"
            )
        n_x = self.space.dim - n_cat
        for arr, label, need, what in ((c_arr, "c", n_cat, "layer choices"), (x_arr, "x", n_x, "continuous values")):
            if arr.shape[-1] != need:
                raise ValueError(f"{label} has {arr.shape[-1]} columns; {self.name} needs {need} {what}")
        if c_arr.ndim == 1:
            return np.concatenate([c_arr, x_arr])
        if c_arr.shape[0] != x_arr.shape[0]:
            raise ValueError(f"c has {c_arr.shape[0]} rows but x has {x_arr.shape[0]}; they must match")
        return np.concatenate([c_arr, x_arr], axis=1)

    # -- pickling (workers reload lazily) ------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_models"] = {}
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _file_sha256(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def _as_array(a: Any, label: str) -> np.ndarray:
    if a is None:
        raise ValueError(f"{label} is None; expected an array")
    if hasattr(a, "to_numpy") and not isinstance(a, np.ndarray):
        a = a.to_numpy()
    arr = np.asarray(a)
    if arr.dtype.kind == "b":
        raise ValueError(f"{label} must be numeric, got a boolean array")
    if arr.dtype.kind not in "iuf":
        arr = np.asarray(a, dtype=object)
    return arr
