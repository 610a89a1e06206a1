"""Surrogate builder: a table of merge configurations and accuracies -> an SMM-Bench surrogate directory.

Recipe (the same for the lab's data and for a user's own merge logs):

1. Read DATA (a Parquet file, a folder of Parquet/CSV parts, or a CSV file) and check it against the
   search space: every parameter and objective column present, no unknown columns (metadata columns
   such as ``strategy`` or ``run_id`` are allowed), values inside their bounds, categorical codes
   valid, accuracies finite and in [0, 1]. Each problem raises a ``ValueError`` naming column and row.
2. Split the rows into train / validation / test by a seeded permutation (default 80/10/10).
3. Per objective, tune LightGBM hyperparameters with Optuna's seeded TPE sampler: each trial trains on
   (a subsample of) the train split with early stopping on the validation split, scored by validation
   RMSE.
4. Per objective, ``lightgbm.cv`` (5 folds by default) with the tuned parameters on train + validation,
   early stopping on the folds' mean RMSE; the resulting CV booster is written in the official format
   (``{"boosters": [...], "best_iteration": n}``, as ``CVBooster.save_model`` writes it) next to
   ``label.json``, ``space.json`` and ``build_info.json``.
5. The held-out test split is predicted as the benchmark does (mean over folds, clipped to [0, 1]) and
   summarised in ``report.json`` (R², Kendall tau, RMSE, MAE, mean signed error = over-estimation)
   and ``scatter.png``.

Same inputs and seed give the same files (single-threaded, deterministic LightGBM; seeded Optuna;
gzip without time stamps; no wall-clock times in any written file).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from smm_plugins._io import atomic_save_png, atomic_write_text
from smm_plugins.features import FeatureMap, get_feature_map
from smm_plugins.model_files import FEATURES_FILE, OFFICIAL_FILES, write_cv_booster, write_feature_map, write_labels
from smm_plugins.provenance import check_user_name, is_reserved_name
from smm_plugins.space import SearchSpace, dfs_space, ps_space

if TYPE_CHECKING:
    pass

__all__ = [
    "BuildConfig",
    "BuildResult",
    "DEFAULT_OBJECTIVES",
    "METADATA_COLUMNS",
    "MODEL_FILES",
    "build_surrogate",
    "built_space_name",
    "fidelity_metrics",
    "read_table",
    "resolve_space",
    "split_indices",
    "validate_table",
]

logger = logging.getLogger(__name__)

#: Objectives (accuracy columns in [0, 1]) a surrogate models by default.
DEFAULT_OBJECTIVES: tuple[str, ...] = ("train_acc", "test_acc")
#: Official file name of each objective's CV booster (the core's table).
MODEL_FILES: dict[str, str] = OFFICIAL_FILES
#: Columns a merge log may carry besides parameters and objectives; they are ignored (``strategy`` is
#: used for the per-strategy breakdown of the report).
METADATA_COLUMNS: frozenset[str] = frozenset(
    {
        "strategy",
        "run_id",
        "eval_seconds",
        "seed",
        "trial",
        "trial_id",
        "step",
        "iteration",
        "timestamp",
        "source",
        "n_problems",
        "worker",
        "host",
        "note",
    }
)


@dataclass(frozen=True)
class BuildConfig:
    """Settings of one build.

    Fractions are of all rows (test and validation are carved out first; the rest trains).
    ``tune_rows``: at most this many training rows are used inside each tuning trial (``None``: all);
    the final CV booster always uses all train + validation rows.
    ``max_rounds``: cap on boosting rounds (trees per fold), which also caps the file size.
    """

    seed: int = 0
    n_trials: int = 30
    n_folds: int = 5
    test_fraction: float = 0.1
    val_fraction: float = 0.1
    num_threads: int = 1
    max_rounds: int = 2000
    early_stopping_rounds: int = 50
    tune_rows: int | None = 30_000
    #: Search ranges of the tuner: learning rate and leaves per tree. With a small ``max_rounds`` (small
    #: files) a higher learning-rate floor keeps trials from stopping far from convergence.
    learning_rate_range: tuple[float, float] = (0.01, 0.3)
    num_leaves_range: tuple[int, int] = (15, 255)
    #: Declare the space's categorical parameters as LightGBM categorical features.
    categorical: bool = True
    #: Write gzipped ``*.json.gz`` model files (byte-identical JSON inside) instead of plain ``*.json``.
    compress: bool = False
    #: Write both plain and gzipped model files (overrides ``compress``'s "instead").
    keep_plain: bool = False
    objectives: tuple[str, ...] = DEFAULT_OBJECTIVES
    allow_extra_columns: bool = False
    #: Fixed LightGBM parameters to use instead of tuning (``n_trials`` is then ignored): one dict for every
    #: objective, or ``{objective: dict}`` with one entry per objective (e.g. a build's ``tuned_params``).
    params: Mapping[str, Any] | None = None
    #: Name written into ``space.json``, e.g. the benchmark's name. Default: the space's own name if the
    #: user gave it (a SPACE.json or SearchSpace), else (``"ps"``/``"dfs"``) the output folder's name. Names
    #: starting with ``smm-bench-`` are the official files' and are refused.
    space_name: str | None = None
    #: Built-in feature map (:mod:`smm_plugins.features`) the boosters are trained on, e.g. ``"dfs-path"``;
    #: None: the space's metadata ``"features"`` if any, else the raw inputs.
    features: str | None = None
    #: Sample weight of each ``extra_data`` row relative to a DATA row (e.g. > 1 so that many DATA rows do
    #: not dilute a few thousand rows where optimisers go).
    extra_weight: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "objectives", tuple(self.objectives))
        if (
            not 0 < self.test_fraction < 1
            or not 0 < self.val_fraction < 1
            or self.test_fraction + self.val_fraction >= 0.9
        ):
            raise ValueError(
                f"test_fraction={self.test_fraction} and val_fraction={self.val_fraction} must each be in (0, 1) "
                "and together leave at least 10% of the rows for training"
            )
        if self.n_folds < 2:
            raise ValueError(f"n_folds = {self.n_folds} is not allowed; allowed: an integer >= 2")
        if not (math.isfinite(self.extra_weight) and self.extra_weight > 0):
            raise ValueError(f"extra_weight = {self.extra_weight!r} is not allowed; allowed: a finite number > 0")
        if self.n_trials < 0 or self.max_rounds < 1 or self.num_threads < 1 or self.early_stopping_rounds < 1:
            raise ValueError("n_trials must be >= 0; max_rounds, num_threads and early_stopping_rounds >= 1")
        object.__setattr__(self, "learning_rate_range", tuple(float(v) for v in self.learning_rate_range))
        object.__setattr__(self, "num_leaves_range", tuple(int(v) for v in self.num_leaves_range))
        lr, nl = self.learning_rate_range, self.num_leaves_range
        if len(lr) != 2 or not 0 < lr[0] <= lr[1] <= 1 or len(nl) != 2 or not 2 <= nl[0] <= nl[1]:
            raise ValueError(
                f"learning_rate_range {lr} must be 0 < lo <= hi <= 1 and num_leaves_range {nl} 2 <= lo <= hi"
            )
        if self.space_name is not None:
            check_user_name(self.space_name, "space_name (--space-name)", _NAME_FIX)
        unknown = [o for o in self.objectives if o not in MODEL_FILES]
        if unknown or not self.objectives:
            raise ValueError(
                f"objectives {list(self.objectives)} not allowed; allowed: a subset of {list(MODEL_FILES)}"
            )
        for obj in self.objectives if self.params is not None else ():
            _fixed_params(self, obj)  # params keyed by objective must cover every objective


_NAME_FIX = "pass --space-name NAME (BuildConfig.space_name) with a name of your own"


def built_space_name(space: SearchSpace, out_dir: str | os.PathLike[str], space_name: str | None = None) -> str:
    """Name of the space a build writes: ``space_name``, else ``space``'s own unless it is an official
    ``smm-bench-*`` name (``--space ps``/``dfs``), else the output folder's name (never ``smm-bench-*``)."""
    if space_name:
        return check_user_name(space_name, "space_name (--space-name)", _NAME_FIX)
    if not is_reserved_name(space.name):
        return space.name
    folder = Path(out_dir).resolve().name
    return check_user_name(folder, "the output folder's name (--out)", _NAME_FIX + " or write to another folder")


@dataclass
class BuildResult:
    """What :func:`build_surrogate` wrote and measured."""

    out_dir: Path
    files: dict[str, Path]
    report: dict[str, Any]
    build_info: dict[str, Any]
    sizes_bytes: dict[str, int] = field(default_factory=dict)


# -- space ------------------------------------------------------------------------------------------


def resolve_space(spec: str | os.PathLike[str] | SearchSpace) -> SearchSpace:
    """Turn ``"ps"``, ``"dfs"``, a SPACE.json path or a :class:`SearchSpace` into a search space.

    ``"ps"``/``"dfs"`` are the core's SMM-Bench spaces (64 weights / 32 choices + 63 scales; the merge
    lab uses the same parameters); ``--space-name`` names the result.
    """
    if isinstance(spec, SearchSpace):
        return spec
    text = os.fspath(spec)
    if text.lower() in ("ps", "dfs"):
        return ps_space() if text.lower() == "ps" else dfs_space()
    path = Path(text)
    if path.is_dir() and (path / "space.json").is_file():
        path = path / "space.json"
    if not path.is_file():
        raise ValueError(
            f"--space {text!r} is neither 'ps', 'dfs' nor an existing SPACE.json file; "
            "write one with SearchSpace.to_json (see docs/surrogates.md)"
        )
    return SearchSpace.from_json(str(path))


# -- data -------------------------------------------------------------------------------------------


def _data_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"DATA {str(path)!r} does not exist (expected a Parquet/CSV file or a folder of parts)")
    # Hidden and underscore files are writers' temporaries or markers (_SUCCESS), not data.
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() in (".parquet", ".pq", ".csv")
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )
    if not files:
        raise ValueError(f"DATA folder {str(path)!r} holds no .parquet or .csv files")
    return files


def read_table(data: str | os.PathLike[str]) -> Any:
    """Read DATA (Parquet file, CSV file, or a folder of Parquet/CSV parts) into one pandas DataFrame.

    Parts are concatenated in sorted path order, so the row order (and every seeded split) is stable.
    """
    import pandas as pd

    frames = []
    for f in _data_files(Path(data)):
        if f.suffix.lower() == ".csv":
            frames.append(pd.read_csv(f))
        else:
            try:
                frames.append(pd.read_parquet(f))
            except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for one cause: a bad file
                raise ValueError(f"cannot read Parquet file {str(f)!r}: {exc}") from None
    table = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    if len(table) == 0:
        raise ValueError(f"DATA {os.fspath(data)!r} has no rows")
    logger.info("read %d rows x %d columns from %d file(s) under %s", len(table), table.shape[1], len(frames), data)
    return table


def validate_table(
    table: Any,
    space: SearchSpace,
    objectives: Sequence[str] = DEFAULT_OBJECTIVES,
    *,
    allow_extra_columns: bool = False,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Check a table against ``space`` and return ``X`` (n, dim) float64 and ``{objective: y}``.

    Raises ``ValueError`` naming the column (and row and value) for: missing parameter/objective
    columns, unknown columns (unless ``allow_extra_columns`` or listed in :data:`METADATA_COLUMNS`),
    non-numeric or NaN parameters, values out of bounds, invalid categorical codes, NaN/inf
    accuracies, accuracies outside [0, 1].
    """
    import pandas as pd

    cols = [str(c) for c in table.columns]
    missing = [n for n in space.names if n not in cols]
    missing_obj = [o for o in objectives if o not in cols]
    if missing or missing_obj:
        parts = []
        if missing:
            parts.append(
                f"{len(missing)} parameter column(s) of search space {space.name!r}: {missing[:6]}"
                + (" ..." if len(missing) > 6 else "")
            )
        if missing_obj:
            parts.append(f"objective column(s) {missing_obj}")
        raise ValueError(
            "DATA is missing "
            + " and ".join(parts)
            + f"; the table has columns {cols[:8]}"
            + (" ..." if len(cols) > 8 else "")
            + ". Pass the matching --space (ps, dfs or a SPACE.json)."
        )
    known = set(space.names) | set(objectives) | set(MODEL_FILES) | METADATA_COLUMNS
    extra = [c for c in cols if c not in known]
    if extra and not allow_extra_columns:
        raise ValueError(
            f"DATA has column(s) {extra[:6]} that are not parameters of search space {space.name!r} "
            f"({space.dim} parameters) nor known metadata; a merge of more source models needs its own "
            "SPACE.json, or pass --ignore-extra-columns if they are just annotations"
        )
    for name in space.names + list(objectives):
        if not pd.api.types.is_numeric_dtype(table[name]) or pd.api.types.is_bool_dtype(table[name]):
            bad = table[name][pd.to_numeric(table[name], errors="coerce").isna()]
            where = f" (row {bad.index[0]}: {bad.iloc[0]!r})" if len(bad) else ""
            raise ValueError(f"DATA column {name!r} is not numeric (dtype {table[name].dtype}){where}")
    X = table[space.names].to_numpy(dtype=np.float64, copy=True)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise ValueError(
            f"DATA column {space.names[c]!r} row {r} = {float(X[r, c])!r} is not finite ({int(bad[:, c].sum())} such "
            f"rows); allowed: {space.parameters[c].allowed}"
        )
    # space.validate names the first offending variable and value; re-raise with the table's wording.
    try:
        space.validate(X, argname="DATA row")
    except ValueError as exc:
        raise ValueError(f"{exc} (in DATA column of that name)") from None
    ys: dict[str, np.ndarray] = {}
    for obj in objectives:
        y = table[obj].to_numpy(dtype=np.float64, copy=True)
        nonfinite = ~np.isfinite(y)
        if nonfinite.any():
            r = int(np.flatnonzero(nonfinite)[0])
            raise ValueError(
                f"DATA column {obj!r} has {int(nonfinite.sum())} NaN/inf accuracy value(s), first at row {r} "
                f"({float(y[r])!r}); drop or fix those rows"
            )
        out = (y < 0.0) | (y > 1.0)
        if out.any():
            r = int(np.flatnonzero(out)[0])
            raise ValueError(
                f"DATA column {obj!r} row {r} = {float(y[r])!r} is out of range; accuracies must be in [0, 1] "
                "(percentages? divide by 100)"
            )
        ys[obj] = y
    return X, ys


def _data_hash(space: SearchSpace, X: np.ndarray, ys: Mapping[str, np.ndarray]) -> str:
    # Hash of the content the models see (not of the files), so Parquet vs CSV of the same table agree.
    h = hashlib.sha256()
    h.update(json.dumps(space.names).encode())
    h.update(np.ascontiguousarray(X, dtype="<f8").tobytes())
    for obj in sorted(ys):
        h.update(obj.encode())
        h.update(np.ascontiguousarray(ys[obj], dtype="<f8").tobytes())
    return "sha256:" + h.hexdigest()


def split_indices(n: int, *, seed: int, test_fraction: float = 0.1, val_fraction: float = 0.1) -> dict[str, np.ndarray]:
    """Deterministic train/val/test row indices (sorted) from a seeded permutation of ``range(n)``."""
    if n < 10:
        raise ValueError(f"DATA has {n} rows; a surrogate needs at least 10 (better thousands)")
    perm = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(test_fraction * n)))
    n_val = max(1, int(round(val_fraction * n)))
    return {
        "test": np.sort(perm[:n_test]),
        "val": np.sort(perm[n_test : n_test + n_val]),
        "train": np.sort(perm[n_test + n_val :]),
    }


# -- metrics --------------------------------------------------------------------------------------


def fidelity_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """R², Kendall tau (tau-b), RMSE, MAE and mean signed error (pred - true; > 0 = over-estimation).

    Errors are in accuracy units (fractions in [0, 1]).
    """
    from scipy.stats import kendalltau

    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    err = p - t
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")
    tau = kendalltau(t, p).statistic if len(t) > 1 else float("nan")
    return {
        "n": int(len(t)),
        "r2": float(r2),
        "kendall_tau": float(tau) if tau is not None else float("nan"),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "mean_signed_error": float(np.mean(err)),
        "true_mean": float(t.mean()),
        "pred_mean": float(p.mean()),
    }


# -- LightGBM ---------------------------------------------------------------------------------------


def _base_params(cfg: BuildConfig, seed: int) -> dict[str, Any]:
    return {
        "objective": "regression",
        "metric": "rmse",
        "verbosity": -1,
        "num_threads": cfg.num_threads,
        "seed": seed,
        "deterministic": True,
        # LightGBM otherwise picks row/col-wise histograms by timing them: make the choice fixed.
        "force_col_wise": True,
    }


def _suggest_params(trial: Any, cfg: BuildConfig) -> dict[str, Any]:
    bagging_fraction = trial.suggest_float("bagging_fraction", 0.5, 1.0)
    return {
        "num_leaves": trial.suggest_int("num_leaves", *cfg.num_leaves_range, log=True),
        "learning_rate": trial.suggest_float("learning_rate", *cfg.learning_rate_range, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 5, 200, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.3, 1.0),
        "bagging_fraction": bagging_fraction,
        "bagging_freq": 1,
        "lambda_l1": trial.suggest_float("lambda_l1", 1e-8, 10.0, log=True),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-8, 10.0, log=True),
    }


#: Parameters used when no tuning is asked for (n_trials = 0) and Optuna's first, enqueued trial.
DEFAULT_LGB_PARAMS: dict[str, Any] = {
    "num_leaves": 63,
    "learning_rate": 0.05,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l1": 1e-8,
    "lambda_l2": 1e-8,
}


def _dataset(
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    cat_cols: list[int],
    reference: Any = None,
    weight: np.ndarray | None = None,
) -> Any:
    import lightgbm as lgb

    return lgb.Dataset(
        X,
        y,
        weight=weight,
        feature_name=names,
        categorical_feature=cat_cols or "auto",
        free_raw_data=False,
        reference=reference,
        # Tuning trials vary min_data_in_leaf on one Dataset; pre-filtering would freeze it (LightGBM fatal).
        params={"verbosity": -1, "feature_pre_filter": False},
    )


def _tune(
    objective: str,
    X_tr: np.ndarray,
    y_tr: np.ndarray,
    X_va: np.ndarray,
    y_va: np.ndarray,
    names: list[str],
    cat_cols: list[int],
    cfg: BuildConfig,
    progress: bool,
    w_tr: np.ndarray | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optuna TPE over LightGBM parameters; returns (best params, tuning summary)."""
    import lightgbm as lgb
    import optuna
    from tqdm.auto import tqdm

    if cfg.tune_rows is not None and len(y_tr) > cfg.tune_rows:
        # A fixed subsample keeps each trial cheap; the final CV uses every row.
        idx = np.sort(np.random.default_rng(cfg.seed + 17).choice(len(y_tr), cfg.tune_rows, replace=False))
        X_tr, y_tr = X_tr[idx], y_tr[idx]
        w_tr = None if w_tr is None else w_tr[idx]
    d_tr = _dataset(X_tr, y_tr, names, cat_cols, weight=w_tr)
    d_va = _dataset(X_va, y_va, names, cat_cols, reference=d_tr)

    def run(trial: Any) -> float:
        params = {**_base_params(cfg, cfg.seed), **_suggest_params(trial, cfg)}
        booster = lgb.train(
            params,
            d_tr,
            num_boost_round=cfg.max_rounds,
            valid_sets=[d_va],
            valid_names=["val"],
            callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)],
        )
        trial.set_user_attr("best_iteration", int(booster.best_iteration))
        return float(booster.best_score["val"]["rmse"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=cfg.seed))
    first = {k: v for k, v in DEFAULT_LGB_PARAMS.items() if k != "bagging_freq"}
    first["learning_rate"] = float(np.clip(first["learning_rate"], *cfg.learning_rate_range))
    first["num_leaves"] = int(np.clip(first["num_leaves"], *cfg.num_leaves_range))
    study.enqueue_trial(first)
    bar = tqdm(total=cfg.n_trials, desc=f"tune {objective}", unit="trial", disable=not progress, leave=False)
    try:
        for _ in range(cfg.n_trials):
            study.optimize(run, n_trials=1, gc_after_trial=False)
            bar.update(1)
            bar.set_postfix(best_rmse=f"{study.best_value:.4f}")
    finally:
        bar.close()
    best = dict(study.best_params)
    best["bagging_freq"] = 1
    summary = {
        "n_trials": len(study.trials),
        "tune_rows": int(len(y_tr)),
        "val_rows": int(len(y_va)),
        "best_val_rmse": float(study.best_value),
        "best_trial": int(study.best_trial.number),
        "best_trial_iterations": int(study.best_trial.user_attrs["best_iteration"]),
    }
    logger.info(
        "%s: tuned in %d trials, val RMSE %.5f, params %s", objective, len(study.trials), study.best_value, best
    )
    return best, summary


def _cv_booster(
    objective: str,
    X: np.ndarray,
    y: np.ndarray,
    params: Mapping[str, Any],
    names: list[str],
    cat_cols: list[int],
    cfg: BuildConfig,
    progress: bool,
    weight: np.ndarray | None = None,
) -> tuple[Any, dict[str, Any]]:
    import lightgbm as lgb
    from tqdm.auto import tqdm

    bar = tqdm(total=cfg.max_rounds, desc=f"cv {objective}", unit="round", disable=not progress, leave=False)

    def tick(env: Any) -> None:
        bar.update(1)

    try:
        result: dict[str, Any] = lgb.cv(
            {**_base_params(cfg, cfg.seed), **params},
            _dataset(X, y, names, cat_cols, weight=weight),
            num_boost_round=cfg.max_rounds,
            nfold=cfg.n_folds,
            stratified=False,
            shuffle=True,
            seed=cfg.seed,
            callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False), tick],
            return_cvbooster=True,
        )
    finally:
        bar.close()
    cvb = result["cvbooster"]
    if cvb.best_iteration <= 0:  # no early stop happened: every round is "best"
        cvb.best_iteration = len(result["valid rmse-mean"])
        for b in cvb.boosters:
            b.best_iteration = cvb.best_iteration
    it = cvb.best_iteration
    summary = {
        "n_folds": cfg.n_folds,
        "rows": int(len(y)),
        "best_iteration": int(it),
        "hit_max_rounds": bool(it >= cfg.max_rounds),
        "cv_rmse_mean": float(result["valid rmse-mean"][it - 1]),
        "cv_rmse_std": float(result["valid rmse-stdv"][it - 1]),
    }
    if summary["hit_max_rounds"]:
        logger.warning("%s: CV used all %d rounds; a larger --max-rounds might fit better", objective, cfg.max_rounds)
    return cvb, summary


def _predict_files(model_strings: Sequence[str], X: np.ndarray) -> np.ndarray:
    """Benchmark semantics on the written model strings: mean over folds, clipped to [0, 1]."""
    import lightgbm as lgb

    preds = [lgb.Booster(model_str=s).predict(X, num_threads=1) for s in model_strings]
    return np.clip(np.mean(preds, axis=0), 0.0, 1.0)


def _scatter_png(
    path: Path, tests: Mapping[str, tuple[np.ndarray, np.ndarray]], metrics: Mapping[str, Any], title: str
) -> None:

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = len(tests)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 4.4), squeeze=False)
    for ax, (obj, (t, p)) in zip(axes[0], tests.items(), strict=True):
        lo = float(min(t.min(), p.min()))
        hi = float(max(t.max(), p.max()))
        pad = 0.02 * (hi - lo or 1.0)
        ax.scatter(t, p, s=3, alpha=0.25 if len(t) > 2000 else 0.6, linewidths=0, color="tab:blue", rasterized=True)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="black", lw=0.8, ls="--")
        m = metrics[obj]
        ax.set_title(
            f"{obj}: R²={m['r2']:.3f}  τ={m['kendall_tau']:.3f}\n"
            f"RMSE={m['rmse']:.4f}  bias={m['mean_signed_error']:+.4f}",
            fontsize=9,
        )
        ax.set_xlabel("true accuracy (held-out test split)")
        ax.set_ylabel("surrogate prediction")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    atomic_save_png(fig, path)


def _versions() -> dict[str, str]:
    import lightgbm
    import optuna

    import smm_plugins

    return {
        "smm_plugins": smm_plugins.__version__,
        "lightgbm": lightgbm.__version__,
        "optuna": optuna.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


# -- the build --------------------------------------------------------------------------------------


@dataclass
class _Rows:
    """The validated table: raw rows, objectives, the split, per-row weights (None: all equal)."""

    table: Any
    X: np.ndarray
    ys: dict[str, np.ndarray]
    split: dict[str, np.ndarray]
    n_data: int
    n_extra: int
    weight: np.ndarray | None


def _read_rows(data: Any, extra_data: Any, sp: SearchSpace, cfg: BuildConfig) -> _Rows:
    """Read and check DATA (and the training-only extra rows), split it, weight the extra rows."""
    table = data if hasattr(data, "columns") else read_table(data)
    X, ys = validate_table(table, sp, cfg.objectives, allow_extra_columns=cfg.allow_extra_columns)
    n = len(X)
    split = split_indices(n, seed=cfg.seed, test_fraction=cfg.test_fraction, val_fraction=cfg.val_fraction)
    n_extra = 0
    weight = None
    if extra_data is not None:
        extra = extra_data if hasattr(extra_data, "columns") else read_table(extra_data)
        X_extra, ys_extra = validate_table(extra, sp, cfg.objectives, allow_extra_columns=cfg.allow_extra_columns)
        n_extra = len(X_extra)
        # Extra rows join the training split only: tuning and CV see them, the test report does not.
        X = np.vstack([X, X_extra])
        ys = {o: np.concatenate([ys[o], ys_extra[o]]) for o in ys}
        split["train"] = np.concatenate([split["train"], np.arange(n, n + n_extra)])
        if cfg.extra_weight != 1.0:
            weight = np.ones(n + n_extra)
            weight[n:] = cfg.extra_weight
    if len(split["train"]) + len(split["val"]) < 2 * cfg.n_folds:
        raise ValueError(f"DATA has {n} rows: too few for {cfg.n_folds}-fold CV after the test split")
    return _Rows(table, X, ys, split, n, n_extra, weight)


def _resolve_feature_map(sp: SearchSpace, cfg: BuildConfig) -> FeatureMap | None:
    # --features wins; else a space may name its map in its metadata ({"features": "dfs-path"}).
    name = cfg.features if cfg.features is not None else sp.metadata.get("features")
    if not name:
        return None
    fmap = get_feature_map(str(name))
    try:
        fmap.check_space(sp)
    except ValueError as exc:
        raise ValueError(f"features = {fmap.key!r} does not apply to search space {sp.name!r}: {exc}") from None
    return fmap


def _fit_objective(
    obj: str, rows: _Rows, X_model: np.ndarray, names: list[str], cat_cols: list[int], cfg: BuildConfig, progress: bool
) -> tuple[Any, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Tune (unless fixed parameters are given) and CV-fit one objective: (CV booster, params, tuning, cv)."""
    y, split, w = rows.ys[obj], rows.split, rows.weight
    if cfg.params is not None or cfg.n_trials == 0:
        params = _fixed_params(cfg, obj) if cfg.params is not None else dict(DEFAULT_LGB_PARAMS)
        tuning: dict[str, Any] = {"n_trials": 0, "fixed_params": True}
    else:
        tr, va = split["train"], split["val"]
        params, tuning = _tune(
            obj,
            X_model[tr],
            y[tr],
            X_model[va],
            y[va],
            names,
            cat_cols,
            cfg,
            progress,
            w_tr=None if w is None else w[tr],
        )
    fit_idx = np.sort(np.concatenate([split["train"], split["val"]]))
    cvb, cv_info = _cv_booster(
        obj, X_model[fit_idx], y[fit_idx], params, names, cat_cols, cfg, progress, None if w is None else w[fit_idx]
    )
    return cvb, params, tuning, cv_info


def _fixed_params(cfg: BuildConfig, obj: str) -> dict[str, Any]:
    """``cfg.params`` for objective ``obj``: the one dict, or its entry when keyed by objective."""
    assert cfg.params is not None
    if not any(k in MODEL_FILES for k in cfg.params):
        return dict(cfg.params)
    missing = [o for o in cfg.objectives if not isinstance(cfg.params.get(o), Mapping)]
    if missing or set(cfg.params) - set(cfg.objectives):
        raise ValueError(
            f"params keyed by objective = {sorted(cfg.params)} is not allowed; allowed: one LightGBM parameter "
            f"dict per objective of {list(cfg.objectives)}, or a single dict for all"
        )
    return dict(cfg.params[obj])


def _write_models(out: Path, obj: str, boosters: list[str], best_iteration: int, cfg: BuildConfig) -> dict[str, Path]:
    files: dict[str, Path] = {}
    name = MODEL_FILES[obj]
    if not cfg.compress or cfg.keep_plain:
        files[obj] = write_cv_booster(out / name, boosters, best_iteration)
    if cfg.compress:
        files[obj + ".gz"] = write_cv_booster(out / (name + ".gz"), boosters, best_iteration)
    for stale in ([out / (name + ".gz")] if not cfg.compress else []) + (
        [out / name] if cfg.compress and not cfg.keep_plain else []
    ):
        # A previous build in another format would shadow or contradict this one.
        if stale.exists():
            stale.unlink()
    return files


def _test_report(
    rows: _Rows, sp: SearchSpace, metrics: dict[str, Any], tests: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "space": sp.name,
        "split": "held-out test split (never used for tuning or training)",
        "prediction": "mean over CV folds, clipped to [0, 1] (benchmark semantics)",
        "mean_signed_error": "pred - true: > 0 means the surrogate over-estimates accuracy",
        "objectives": metrics,
    }
    if "strategy" in rows.table.columns:
        strat = rows.table["strategy"].astype(str).to_numpy()[rows.split["test"]]
        report["by_strategy"] = {
            obj: {
                s: fidelity_metrics(t[strat == s], p[strat == s])
                for s in sorted(set(strat.tolist()))
                if int((strat == s).sum()) >= 2
            }
            for obj, (t, p) in tests.items()
        }
    return report


def build_surrogate(
    data: str | os.PathLike[str] | Any,
    space: str | os.PathLike[str] | SearchSpace,
    out_dir: str | os.PathLike[str],
    config: BuildConfig | None = None,
    *,
    extra_data: str | os.PathLike[str] | Any | None = None,
    progress: bool = False,
) -> BuildResult:
    """Build a surrogate directory (official CV-booster format) from a table of configurations.

    ``data``: a Parquet/CSV path, a folder of parts, or a pandas DataFrame with one column per
    parameter of ``space`` plus one accuracy column (in [0, 1]) per objective.
    ``space``: ``"ps"``, ``"dfs"``, a SPACE.json path or a :class:`SearchSpace`.
    ``extra_data``: optional second table (same columns) whose rows are only trained on, never held
    out, e.g. truth-labelled configurations where a first surrogate was exploited
    (:func:`smm_plugins.surrogate_tools.validate.exploit_rows`), weighted by ``config.extra_weight``; the test
    report stays on ``data`` alone. With ``config.features`` (or a space whose metadata names
    ``"features"``) the boosters are trained on that built-in feature map of the raw rows and the
    directory gets a ``features.json``; ``label.json`` and ``space.json`` stay the raw configuration's.
    Returns a :class:`BuildResult` (paths, the test-split report, build info, file sizes in bytes).
    """
    cfg = config or BuildConfig()
    t0 = time.perf_counter()
    sp = resolve_space(space)
    sp = dataclasses.replace(sp, name=built_space_name(sp, out_dir, cfg.space_name))
    fmap = _resolve_feature_map(sp, cfg)
    rows = _read_rows(data, extra_data, sp, cfg)
    X_model, names, cat_cols = _model_inputs(rows.X, sp, fmap, cfg)
    split = rows.split
    logger.info(
        "building %s surrogate of space %r (%d params, %d model inputs, %d categorical) from %d rows "
        "(+%d extra): train %d, val %d, test %d",
        "/".join(cfg.objectives),
        sp.name,
        sp.dim,
        len(names),
        len(cat_cols),
        rows.n_data,
        rows.n_extra,
        len(split["train"]),
        len(split["val"]),
        len(split["test"]),
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    tuned: dict[str, Any] = {}
    tuning: dict[str, Any] = {}
    cv_info: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    tests: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for obj in cfg.objectives:
        cvb, tuned[obj], tuning[obj], cv_info[obj] = _fit_objective(obj, rows, X_model, names, cat_cols, cfg, progress)
        # Same JSON as CVBooster.save_model, but through the core writer (atomic, reproducible gzip).
        boosters = [b.model_to_string(num_iteration=None) for b in cvb.boosters]
        files.update(_write_models(out, obj, boosters, cvb.best_iteration, cfg))
        tests[obj] = (rows.ys[obj][split["test"]], _predict_files(boosters, X_model[split["test"]]))
        metrics[obj] = fidelity_metrics(*tests[obj])
        logger.info(
            "%s: test R2 %.4f tau %.4f RMSE %.5f", obj, *(metrics[obj][k] for k in ("r2", "kendall_tau", "rmse"))
        )

    files.update(_write_inputs(out, sp, fmap))
    report = _test_report(rows, sp, metrics, tests)
    files.update(_write_test_report(out, report, tests, metrics, sp.name))
    build_info = _build_info(sp, fmap, rows, cfg, [names[i] for i in cat_cols], tuned, tuning, cv_info)
    atomic_write_text(out / "build_info.json", json.dumps(build_info, indent=1, sort_keys=True, default=_json_default))
    files["build_info"] = out / "build_info.json"
    sizes = {k: p.stat().st_size for k, p in files.items()}
    logger.info("built %s in %.1f s (%.2f MB of files)", out, time.perf_counter() - t0, sum(sizes.values()) / 1e6)
    return BuildResult(out_dir=out, files=files, report=report, build_info=build_info, sizes_bytes=sizes)


def _model_inputs(
    X: np.ndarray, sp: SearchSpace, fmap: FeatureMap | None, cfg: BuildConfig
) -> tuple[np.ndarray, list[str], list[int]]:
    """The boosters' inputs for raw rows ``X``: (matrix, column names, categorical column indices)."""
    if fmap is None:
        X_model, names = X, list(sp.names)
        cat_cols = [int(i) for i in np.flatnonzero(sp.is_categorical)]
    else:
        X_model, names, cat_cols = fmap.transform(X, sp), fmap.output_names(sp), fmap.categorical_outputs(sp)
    return X_model, names, (cat_cols if cfg.categorical else [])


def _write_test_report(
    out: Path,
    report: Mapping[str, Any],
    tests: Mapping[str, tuple[np.ndarray, np.ndarray]],
    metrics: Mapping[str, Any],
    space_name: str,
) -> dict[str, Path]:
    """report.json and the held-out scatter plot."""
    atomic_write_text(out / "report.json", json.dumps(report, indent=1, sort_keys=True))
    n_test = len(next(iter(tests.values()))[0]) if tests else 0
    _scatter_png(out / "scatter.png", tests, metrics, f"surrogate fidelity on {n_test} held-out rows ({space_name})")
    return {"report": out / "report.json", "scatter": out / "scatter.png"}


def _write_inputs(out: Path, sp: SearchSpace, fmap: FeatureMap | None) -> dict[str, Path]:
    """label.json and space.json (the raw configuration's), and features.json where a feature map is used."""
    write_labels(out / "label.json", sp.names)
    sp.to_json(str(out / "space.json"))
    files = {"label": out / "label.json", "space": out / "space.json"}
    features_path = out / FEATURES_FILE
    if fmap is not None:
        files["features"] = write_feature_map(features_path, fmap, sp)
    elif features_path.exists():
        features_path.unlink()  # a previous build's map would be applied to these raw-input models
    return files


def _build_info(
    sp: SearchSpace,
    fmap: FeatureMap | None,
    rows: _Rows,
    cfg: BuildConfig,
    categorical_features: list[str],
    tuned: dict[str, Any],
    tuning: dict[str, Any],
    cv_info: dict[str, Any],
) -> dict[str, Any]:
    """What build_info.json records: data hash and row counts, configuration, tuning, CV and versions."""
    cfg_dict = asdict(cfg)
    cfg_dict["objectives"] = list(cfg.objectives)
    table = rows.table
    split = rows.split
    return {
        "space": sp.name,
        "feature_map": fmap.key if fmap is not None else None,
        "data_sha256": _data_hash(sp, rows.X, rows.ys),
        "rows": {"total": rows.n_data, "extra_train_rows": rows.n_extra, **{k: int(len(v)) for k, v in split.items()}},
        "strategies": (
            {str(k): int(v) for k, v in table["strategy"].astype(str).value_counts().sort_index().items()}
            if "strategy" in table.columns
            else None
        ),
        "config": cfg_dict,
        "categorical_features": categorical_features,
        "tuned_params": tuned,
        "tuning": tuning,
        "cv": cv_info,
        "versions": _versions(),
    }


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
