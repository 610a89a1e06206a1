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

The work is split by job: :mod:`~smm_plugins.surrogate_tools.table` (read, check, split),
:mod:`~smm_plugins.surrogate_tools.fit` (tuning and CV training), :mod:`~smm_plugins.surrogate_tools.artefacts`
(files written) and :mod:`~smm_plugins.surrogate_tools.config` (settings); this module runs them in order.
Optuna is needed only for tuning (``n_trials > 0`` without fixed ``params``), matplotlib only for
``scatter.png`` (skipped with a warning without it).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins._deps import require
from smm_plugins.space import SearchSpace
from smm_plugins.surrogate_tools.artefacts import (
    collect_build_info,
    held_out_report,
    write_build_info,
    write_inputs,
    write_models,
    write_test_report,
)
from smm_plugins.surrogate_tools.config import (
    DEFAULT_OBJECTIVES,
    MODEL_FILES,
    BuildConfig,
    BuildResult,
    built_space_name,
)
from smm_plugins.surrogate_tools.fit import (
    DEFAULT_LGB_PARAMS,
    TUNING,
    fit_objective,
    model_inputs,
    needs_tuning,
    predict_files,
    resolve_feature_map,
)
from smm_plugins.surrogate_tools.metrics import fidelity_metrics
from smm_plugins.surrogate_tools.table import (
    METADATA_COLUMNS,
    Rows,
    read_rows,
    read_table,
    resolve_space,
    split_indices,
    validate_table,
)

__all__ = [
    "BuildConfig",
    "BuildResult",
    "DEFAULT_LGB_PARAMS",
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
    if needs_tuning(cfg):
        require("optuna", "optuna", who=TUNING)  # before any work, not after the first fit
    t0 = time.perf_counter()
    sp = resolve_space(space)
    sp = dataclasses.replace(sp, name=built_space_name(sp, out_dir, cfg.space_name))
    fmap = resolve_feature_map(sp, cfg)
    rows = read_rows(data, extra_data, sp, cfg)
    X_model, names, cat_cols = model_inputs(rows.X, sp, fmap, cfg)
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
    fits = _fit_all(out, rows, X_model, names, cat_cols, cfg, progress)
    files = fits.files
    files.update(write_inputs(out, sp, fmap))
    report = held_out_report(rows, sp, fits.metrics, fits.tests)
    files.update(write_test_report(out, report, fits.tests, fits.metrics, sp.name))
    categorical = [names[i] for i in cat_cols]
    info = collect_build_info(sp, fmap, rows, cfg, categorical, fits.tuned, fits.tuning, fits.cv_info)
    files["build_info"] = write_build_info(out, info)
    sizes = {k: p.stat().st_size for k, p in files.items()}
    logger.info("built %s in %.1f s (%.2f MB of files)", out, time.perf_counter() - t0, sum(sizes.values()) / 1e6)
    return BuildResult(out_dir=out, files=files, report=report, build_info=info, sizes_bytes=sizes)


@dataclasses.dataclass
class _Fits:
    """Per objective: the model files written, tuned parameters, tuning and CV summaries, test metrics."""

    files: dict[str, Path] = dataclasses.field(default_factory=dict)
    tuned: dict[str, Any] = dataclasses.field(default_factory=dict)
    tuning: dict[str, Any] = dataclasses.field(default_factory=dict)
    cv_info: dict[str, Any] = dataclasses.field(default_factory=dict)
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    tests: dict[str, tuple[np.ndarray, np.ndarray]] = dataclasses.field(default_factory=dict)


def _fit_all(
    out: Path, rows: Rows, X_model: np.ndarray, names: list[str], cat_cols: list[int], cfg: BuildConfig, progress: bool
) -> _Fits:
    """Fit each objective, write its model files and score them on the held-out test split."""
    fits = _Fits()
    test = rows.split["test"]
    for obj in cfg.objectives:
        cvb, fits.tuned[obj], fits.tuning[obj], fits.cv_info[obj] = fit_objective(
            obj, rows, X_model, names, cat_cols, cfg, progress
        )
        # Same JSON as CVBooster.save_model, but through the core writer (atomic, reproducible gzip).
        boosters = [b.model_to_string(num_iteration=None) for b in cvb.boosters]
        fits.files.update(write_models(out, obj, boosters, cvb.best_iteration, cfg))
        fits.tests[obj] = (rows.ys[obj][test], predict_files(boosters, X_model[test]))
        fits.metrics[obj] = fidelity_metrics(*fits.tests[obj])
        logger.info(
            "%s: test R2 %.4f tau %.4f RMSE %.5f", obj, *(fits.metrics[obj][k] for k in ("r2", "kendall_tau", "rmse"))
        )
    return fits
