"""What a build writes: the model files, label/space/features files, the held-out test report and
scatter plot, and ``build_info.json`` (data hash, settings, tuning, CV, versions; no wall-clock times)."""

from __future__ import annotations

import importlib.metadata
import json
import math
import platform
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins._io import atomic_write_text
from smm_plugins.features import FeatureMap
from smm_plugins.model_files import FEATURES_FILE, write_cv_booster, write_feature_map, write_labels
from smm_plugins.space import SearchSpace
from smm_plugins.surrogate_tools.config import MODEL_FILES, BuildConfig
from smm_plugins.surrogate_tools.metrics import fidelity_metrics
from smm_plugins.surrogate_tools.plots import can_plot, scatter_png
from smm_plugins.surrogate_tools.table import Rows, data_hash

__all__ = [
    "collect_build_info",
    "held_out_report",
    "write_build_info",
    "write_inputs",
    "write_models",
    "write_test_report",
]


def write_models(out: Path, obj: str, boosters: list[str], best_iteration: int, cfg: BuildConfig) -> dict[str, Path]:
    """Objective ``obj``'s CV booster as plain and/or gzipped JSON (per ``cfg``); a stale other format is removed."""
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


def held_out_report(
    rows: Rows, sp: SearchSpace, metrics: dict[str, Any], tests: Mapping[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, Any]:
    """report.json's content: the held-out metrics per objective and, with a ``strategy`` column, per strategy."""
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


def write_test_report(
    out: Path,
    report: Mapping[str, Any],
    tests: Mapping[str, tuple[np.ndarray, np.ndarray]],
    metrics: Mapping[str, Any],
    space_name: str,
) -> dict[str, Path]:
    """report.json and the held-out scatter plot."""
    atomic_write_text(out / "report.json", json.dumps(report, indent=1, sort_keys=True))
    files = {"report": out / "report.json"}
    if can_plot(out / "scatter.png"):
        n_test = len(next(iter(tests.values()))[0]) if tests else 0
        title = f"surrogate fidelity on {n_test} held-out rows ({space_name})"
        scatter_png(out / "scatter.png", tests, metrics, title)
        files["scatter"] = out / "scatter.png"
    return files


def write_inputs(out: Path, sp: SearchSpace, fmap: FeatureMap | None) -> dict[str, Path]:
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


def collect_build_info(
    sp: SearchSpace,
    fmap: FeatureMap | None,
    rows: Rows,
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
        "data_sha256": data_hash(sp, rows.X, rows.ys),
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


def write_build_info(out: Path, info: Mapping[str, Any]) -> Path:
    """``build_info.json`` in ``out`` (sorted keys, written atomically)."""
    atomic_write_text(out / "build_info.json", json.dumps(info, indent=1, sort_keys=True, default=_json_default))
    return out / "build_info.json"


def _json_default(obj: Any) -> Any:
    """JSON for NumPy scalars (non-finite floats as null) and paths."""
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _versions() -> dict[str, str | None]:
    """Versions of the packages a build depends on (None: not installed), from their installed metadata."""
    import smm_plugins

    versions: dict[str, str | None] = {"smm_plugins": smm_plugins.__version__}
    for name in ("lightgbm", "optuna", "numpy"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions
