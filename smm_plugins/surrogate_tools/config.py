"""Settings and result of a surrogate build: :class:`BuildConfig`, :class:`BuildResult` and the built space's name."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smm_plugins.model_files import OFFICIAL_FILES
from smm_plugins.provenance import check_user_name, is_reserved_name
from smm_plugins.space import SearchSpace

__all__ = ["DEFAULT_OBJECTIVES", "MODEL_FILES", "BuildConfig", "BuildResult", "built_space_name", "fixed_params"]

#: Objectives (accuracy columns in [0, 1]) a surrogate models by default.
DEFAULT_OBJECTIVES: tuple[str, ...] = ("train_acc", "test_acc")
#: Official file name of each objective's CV booster (the core's table).
MODEL_FILES: dict[str, str] = OFFICIAL_FILES


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
            fixed_params(self, obj)  # params keyed by objective must cover every objective


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


def fixed_params(cfg: BuildConfig, obj: str) -> dict[str, Any]:
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
