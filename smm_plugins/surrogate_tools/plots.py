"""Figures of the surrogate tools (matplotlib, the ``report`` extra): the build's held-out scatter plot and
validation's best-so-far trajectories. Without matplotlib the tools skip them (:func:`can_plot`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins._deps import available, require
from smm_plugins._io import atomic_save_png

__all__ = ["can_plot", "scatter_png", "trajectories_png"]

logger = logging.getLogger(__name__)

_WHO = "the figures of build-surrogate and validate"


def can_plot(path: Path) -> bool:
    """True if matplotlib is installed; else log that ``path`` is skipped and remove a stale copy of it."""
    if available("matplotlib"):
        return True
    logger.warning('%s not drawn: matplotlib is missing (pip install "smm-plugins[report]")', path)
    if path.exists():
        path.unlink()  # a previous run's figure would not show these results
    return False


def _pyplot() -> Any:
    matplotlib = require("matplotlib", "report", who=_WHO)
    matplotlib.use("Agg", force=False)
    return require("matplotlib.pyplot", "report", who=_WHO)


def scatter_png(
    path: Path, tests: Mapping[str, tuple[np.ndarray, np.ndarray]], metrics: Mapping[str, Any], title: str
) -> None:
    """Surrogate prediction against the true accuracy of each held-out row, one panel per objective."""
    plt = _pyplot()

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


def trajectories_png(
    path: Path, curves: Mapping[str, Mapping[str, np.ndarray]], labels: Mapping[str, str], title: str
) -> None:
    """Best-so-far curves (median and inter-quartile band over seeds), one panel per side (truth, surrogate)."""
    plt = _pyplot()

    colours = {"random": "tab:gray", "cmaes": "tab:red", "tpe": "tab:blue", "es": "tab:green"}
    fig, axes = plt.subplots(1, len(curves), figsize=(5.2 * len(curves), 4.0), squeeze=False, sharey=True)
    for ax, (side, by_opt) in zip(axes[0], curves.items(), strict=True):
        for opt, mat in by_opt.items():
            x = np.arange(1, mat.shape[1] + 1)
            q25, med, q75 = np.percentile(mat, [25, 50, 75], axis=0)
            ax.plot(x, med, color=colours.get(opt), label=f"{opt} (median, n={mat.shape[0]})", lw=1.5)
            ax.fill_between(x, q25, q75, color=colours.get(opt), alpha=0.2, lw=0)
        ax.set_title(labels[side], fontsize=10)
        ax.set_xlabel("evaluations")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("best train_acc so far (IQR band)")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    atomic_save_png(fig, path)
