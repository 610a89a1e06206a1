"""Critical-difference diagrams (Demšar 2006) of a :class:`~smm_plugins.compare.stats.CriticalDifference`.

An axis of average ranks (rank 1 = best, on the left), each optimiser's name joined to its average rank by
an elbow line (the better half on the left, the others on the right), and thick bars under the axis joining
optimisers that are not significantly different (Friedman test, then pairwise Wilcoxon tests with Holm's
correction, or across benchmarks the Nemenyi critical difference, drawn as a scale bar above the axis).
"""

from __future__ import annotations

import math
from typing import Any

from smm_plugins.compare.stats import METRICS, CriticalDifference

__all__ = ["draw_cd_diagram"]


def _title(cd: CriticalDifference) -> str:
    if math.isfinite(cd.friedman_p):
        test = f"Friedman p = {cd.friedman_p:.3g}"
    else:
        test = "two optimisers: Wilcoxon test only"
    post_hoc = f"Nemenyi CD = {cd.critical_difference:.2f}" if math.isfinite(cd.critical_difference) else "Holm"
    return f"{cd.benchmark}: {METRICS[cd.metric]} ({cd.n_seeds} {cd.blocks}; {test}; α = {cd.alpha:g}, {post_hoc})"


def draw_cd_diagram(ax: Any, cd: CriticalDifference) -> None:
    """Draw the critical-difference diagram of ``cd`` into the matplotlib axes ``ax``."""
    names = list(cd.ranks)
    k = len(names)
    ax.set_axis_off()
    ax.set_title(_title(cd), fontsize=10)
    if k == 0 or not all(math.isfinite(r) for r in cd.ranks.values()):
        ax.text(0.5, 0.5, "no seed finished by every optimiser", ha="center", va="center", transform=ax.transAxes)
        return
    lo, hi = 1, max(k, 2)
    n_left = math.ceil(k / 2)
    n_rows = max(n_left, k - n_left)
    y_axis = 0.0
    ax.set_xlim(lo - 0.9 - 0.25 * k, hi + 0.9 + 0.25 * k)
    with_cd = math.isfinite(cd.critical_difference)
    ax.set_ylim(-(n_rows + 0.6 + 0.35 * len(cd.groups)), 1.4 if with_cd else 0.9)
    if with_cd:  # Demšar's scale bar: average ranks further apart than this differ significantly
        ax.plot([lo, lo + cd.critical_difference], [1.0, 1.0], color="black", lw=1.2)
        for x in (lo, lo + cd.critical_difference):
            ax.plot([x, x], [0.92, 1.08], color="black", lw=1.0)
        ax.text(lo + cd.critical_difference / 2, 1.12, "CD", ha="center", va="bottom", fontsize=9)
    # The rank axis with integer ticks.
    ax.plot([lo, hi], [y_axis, y_axis], color="black", lw=1.2)
    for t in range(lo, hi + 1):
        ax.plot([t, t], [y_axis, y_axis + 0.18], color="black", lw=1.0)
        ax.text(t, y_axis + 0.28, str(t), ha="center", va="bottom", fontsize=9)
    # Names: elbow lines from each rank down to its label on the left or right side.
    for i, name in enumerate(names):
        r = cd.ranks[name]
        left = i < n_left
        row = (i if left else k - 1 - i) + 1
        y = -(row + 0.35 * len(cd.groups))
        x_text = lo - 0.35 if left else hi + 0.35
        ax.plot([r, r, x_text], [y_axis, y, y], color="0.25", lw=0.9)
        ax.text(
            x_text + (-0.05 if left else 0.05),
            y,
            f"{name} ({r:.2f})" if left else f"({r:.2f}) {name}",
            ha="right" if left else "left",
            va="center",
            fontsize=9,
        )
    # Bars joining optimisers that are not significantly different, stacked just under the axis.
    for j, group in enumerate(cd.groups):
        rs = [cd.ranks[n] for n in group]
        y = -(0.3 + 0.3 * j)
        ax.plot([min(rs) - 0.04, max(rs) + 0.04], [y, y], color="black", lw=3.2, solid_capstyle="round")
