"""Reference configurations on the report's curves: grey horizontal lines, and a note for those off the plot.

The curves zoom on where the optimisers are; a reference far below them (a poor source model) would squeeze
the curves into a thin band if the y-range included it. Such a line stays out of the range, and the plot says
where it is instead: its legend entry is marked "below the plot" (or "above") and an arrow note at the edge
gives its value.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["draw_references", "mark_off_range"]

#: Line styles of the reference configurations on the curves, in the order reference_configs lists them.
REF_STYLES = ((0, (1, 1.5)), (0, (5, 2, 1, 2)), (0, (5, 3)), (0, (2, 2)), (0, (8, 2)))


def draw_references(ax: Any, refs: pd.DataFrame, column: str) -> list[tuple[Any, str, float]]:
    """Draw a horizontal line at ``column`` (train_acc / test_acc) of each reference.

    Returns ``(line, reference name, value)`` of each line drawn.
    """
    drawn = []
    for (_, r), style in zip(refs.iterrows(), REF_STYLES * 4, strict=False):
        v = float(r[column])
        line = ax.axhline(v, color="0.35", lw=1.1, ls=style, label=f"{r['reference']}: {v:.3f}")
        drawn.append((line, str(r["reference"]), v))
    return drawn


def mark_off_range(ax: Any, drawn: list[tuple[Any, str, float]]) -> list[str]:
    """Mark the references ``drawn`` (:func:`draw_references`) outside the axes' y-range (after ``set_ylim``).

    Each such line's legend label gets "(below the plot)" or "(above the plot)", and an arrow note at the
    bottom or top edge names it with its value. Returns the notes' texts.
    """
    lo, hi = ax.get_ylim()
    notes: list[str] = []
    for where, outside, y0, arrow in (("below", lambda v: v < lo, 0.0, "↓"), ("above", lambda v: v > hi, 1.0, "↑")):
        off = [(line, name, v) for line, name, v in drawn if outside(v)]
        for k, (line, name, v) in enumerate(off):
            line.set_label(f"{name}: {v:.3f} ({where} the plot {arrow})")
            text = f"{arrow} {name}: {v:.3f}"
            x = 0.02 + 0.22 * k
            ax.annotate(
                text,
                xy=(x, y0),
                xycoords="axes fraction",
                xytext=(x, 0.09 if y0 == 0.0 else 0.91),
                textcoords="axes fraction",
                fontsize=7,
                color="0.25",
                arrowprops={"arrowstyle": "->", "color": "0.35", "lw": 0.9},
            )
            notes.append(text)
    return notes
