"""How related the SMM-Mini tasks are: rank correlation of one shared set of uniform configurations.

Tasks whose benchmarks share a search space (same space kind, depth and, in PS, number of sources) are
compared on the same uniform random configurations: Spearman's rank correlation of their ``train_acc``
values, for every pair. High values mean an optimiser's knowledge of one task transfers to the other
(what transfer and meta-learning HPO rely on). ``smm-bench lab relatedness`` prints the matrices and
draws the heat map of docs/suite.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from smm_plugins._deps import require
from smm_plugins.lab.suite import KINDS, TASKS, SuiteTask, get_task, task_benchmark

__all__ = ["RelatednessGroup", "task_groups", "relatedness", "format_relatedness", "plot_relatedness"]


@dataclass(frozen=True)
class RelatednessGroup:
    """Tasks sharing one search space and the Spearman matrix of their values on shared configurations."""

    kind: str
    n_blocks: int
    n_sources: int
    tasks: tuple[str, ...]
    #: Spearman rank correlation of ``train_acc`` between tasks ``i`` and ``j`` (symmetric, ones on the diagonal).
    spearman: np.ndarray
    n_configs: int

    @property
    def label(self) -> str:
        """E.g. ``"PS, 32 blocks, 2 sources"`` or ``"DFS, 16 blocks"``."""
        tail = f", {self.n_sources} sources" if self.kind == "ps" else ""
        return f"{self.kind.upper()}, {self.n_blocks} blocks{tail}"


def task_groups(tasks: Sequence[str | SuiteTask] = TASKS) -> dict[tuple[str, int, int], list[SuiteTask]]:
    """Tasks by shared space: ``(kind, n_blocks, n_sources)`` (DFS always merges 2 sources) -> tasks."""
    groups: dict[tuple[str, int, int], list[SuiteTask]] = {}
    for t in map(get_task, tasks):
        for kind in KINDS:
            key = (kind, t.n_blocks, t.n_sources if kind == "ps" else 2)
            groups.setdefault(key, []).append(t)
    return groups


def relatedness(
    tasks: Sequence[str | SuiteTask] = TASKS,
    *,
    n_configs: int = 500,
    seed: int = 0,
    objective: str = "train_acc",
) -> list[RelatednessGroup]:
    """Spearman matrices of every group of >= 2 tasks sharing a space, on ``n_configs`` shared uniform configurations.

    The configurations of a group are drawn once (``seed``) from the group's space and evaluated on each task.
    """
    from scipy.stats import spearmanr

    out = []
    for (kind, n_blocks, n_sources), members in task_groups(tasks).items():
        if len(members) < 2:
            continue
        benches = [task_benchmark(t, kind) for t in members]
        X = benches[0].space.sample(n_configs, np.random.default_rng(seed))
        values = np.stack([b.evaluate(X, objective) for b in benches], axis=1)
        stat = np.asarray(spearmanr(values).statistic, dtype=np.float64)
        # Two tasks give one coefficient, more give the matrix.
        rho = stat if stat.ndim == 2 else np.array([[1.0, float(stat)], [float(stat), 1.0]])
        out.append(RelatednessGroup(kind, n_blocks, n_sources, tuple(t.name for t in members), rho, n_configs))
    return out


def format_relatedness(groups: Sequence[RelatednessGroup]) -> str:
    """Markdown: one table per group, Spearman's rho with two decimals."""
    parts = []
    for g in groups:
        lines = [f"**{g.label}** ({g.n_configs} shared uniform configurations)", ""]
        lines.append("| task | " + " | ".join(g.tasks) + " |")
        lines.append("|---|" + "---:|" * len(g.tasks))
        for name, row in zip(g.tasks, g.spearman, strict=True):
            lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def plot_relatedness(groups: Sequence[RelatednessGroup], path: str | os.PathLike[str]) -> None:
    """A heat map per group (Spearman's rho, -1..1) side by side, written to ``path`` (PNG)."""
    require("matplotlib", "report", who="smm-bench lab relatedness --plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_cols = min(2, len(groups))
    n_rows = -(-len(groups) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(6.0 * n_cols, 5.2 * n_rows), squeeze=False)
    image: Any = None
    for ax, g in zip(axes.flat, groups, strict=False):
        image = ax.imshow(g.spearman, vmin=-1, vmax=1, cmap="RdBu_r")
        ticks = range(len(g.tasks))
        ax.set_xticks(ticks, g.tasks, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(ticks, g.tasks, fontsize=8)
        for i in ticks:
            for j in ticks:
                rho = g.spearman[i, j]
                ax.text(j, i, f"{rho:.2f}", ha="center", va="center", fontsize=9, color="w" if abs(rho) > 0.6 else "k")
        ax.set_title(g.label, fontsize=10)
    for ax in list(axes.flat)[len(groups) :]:
        ax.set_axis_off()
    fig.subplots_adjust(wspace=0.6, hspace=0.5)
    fig.colorbar(
        image, ax=axes.ravel().tolist(), shrink=0.6, label="Spearman rho of train_acc (shared uniform configurations)"
    )
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
