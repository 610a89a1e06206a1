"""Fitting one objective: LightGBM parameters tuned with Optuna (or fixed), then a k-fold CV booster.

Single-threaded, deterministic LightGBM and a seeded TPE sampler: the same rows, settings and seed give
the same boosters. Optuna is needed only for tuning (``n_trials > 0`` without fixed ``params``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from smm_plugins._deps import require
from smm_plugins.features import FeatureMap, get_feature_map
from smm_plugins.space import SearchSpace
from smm_plugins.surrogate_tools.config import BuildConfig, fixed_params
from smm_plugins.surrogate_tools.table import Rows

__all__ = [
    "DEFAULT_LGB_PARAMS",
    "TUNING",
    "fit_objective",
    "model_inputs",
    "needs_tuning",
    "predict_files",
    "resolve_feature_map",
]

logger = logging.getLogger(__name__)

#: Who needs Optuna, in the one-line error when it is missing.
TUNING = "build-surrogate's tuning (n_trials > 0 without fixed params; --trials 0 needs no Optuna)"


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
    from tqdm.auto import tqdm

    optuna = require("optuna", "optuna", who=TUNING)
    if cfg.tune_rows is not None and len(y_tr) > cfg.tune_rows:
        # A fixed subsample keeps each trial cheap; the final CV uses every row.
        idx = np.sort(np.random.default_rng(cfg.seed + 17).choice(len(y_tr), cfg.tune_rows, replace=False))
        X_tr, y_tr = X_tr[idx], y_tr[idx]
        w_tr = None if w_tr is None else w_tr[idx]
    d_tr = _dataset(X_tr, y_tr, names, cat_cols, weight=w_tr)
    d_va = _dataset(X_va, y_va, names, cat_cols, reference=d_tr)
    run = _trial_rmse(d_tr, d_va, cfg)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=cfg.seed))
    study.enqueue_trial(_first_trial(cfg))
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


def _trial_rmse(d_tr: Any, d_va: Any, cfg: BuildConfig) -> Callable[[Any], float]:
    """Optuna's objective: train on ``d_tr`` with early stopping on ``d_va``; the validation RMSE."""
    import lightgbm as lgb

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

    return run


def _first_trial(cfg: BuildConfig) -> dict[str, Any]:
    """The default parameters inside the tuner's ranges: the study's first, enqueued trial."""
    first = {k: v for k, v in DEFAULT_LGB_PARAMS.items() if k != "bagging_freq"}
    first["learning_rate"] = float(np.clip(first["learning_rate"], *cfg.learning_rate_range))
    first["num_leaves"] = int(np.clip(first["num_leaves"], *cfg.num_leaves_range))
    return first


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


def predict_files(model_strings: Sequence[str], X: np.ndarray) -> np.ndarray:
    """Benchmark semantics on the written model strings: mean over folds, clipped to [0, 1]."""
    import lightgbm as lgb

    preds = [lgb.Booster(model_str=s).predict(X, num_threads=1) for s in model_strings]
    return np.clip(np.mean(preds, axis=0), 0.0, 1.0)


def needs_tuning(cfg: BuildConfig) -> bool:
    """True if a build with ``cfg`` tunes with Optuna (``n_trials > 0`` and no fixed ``params``)."""
    return cfg.params is None and cfg.n_trials > 0


def resolve_feature_map(sp: SearchSpace, cfg: BuildConfig) -> FeatureMap | None:
    """The feature map the boosters are trained on (None: the raw inputs), checked against ``sp``."""
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


def fit_objective(
    obj: str, rows: Rows, X_model: np.ndarray, names: list[str], cat_cols: list[int], cfg: BuildConfig, progress: bool
) -> tuple[Any, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Tune (unless fixed parameters are given) and CV-fit one objective: (CV booster, params, tuning, cv)."""
    y, split, w = rows.ys[obj], rows.split, rows.weight
    if not needs_tuning(cfg):
        params = fixed_params(cfg, obj) if cfg.params is not None else dict(DEFAULT_LGB_PARAMS)
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


def model_inputs(
    X: np.ndarray, sp: SearchSpace, fmap: FeatureMap | None, cfg: BuildConfig
) -> tuple[np.ndarray, list[str], list[int]]:
    """The boosters' inputs for raw rows ``X``: (matrix, column names, categorical column indices)."""
    if fmap is None:
        X_model, names = X, list(sp.names)
        cat_cols = [int(i) for i in np.flatnonzero(sp.is_categorical)]
    else:
        X_model, names, cat_cols = fmap.transform(X, sp), fmap.output_names(sp), fmap.categorical_outputs(sp)
    return X_model, names, (cat_cols if cfg.categorical else [])
