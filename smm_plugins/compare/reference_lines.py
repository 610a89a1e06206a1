"""Reference configurations on the report's curves: grey horizontal lines, and a note for those off the plot.

The curves zoom on where the optimisers are; a reference far below them (a poor source model) would squeeze
the curves into a thin band if the y-range included it. Such a line stays out of the range, and the plot says
where it is instead: its legend entry is marked "below the plot ↓" (or "above ↑") and a note at the plot's
edge names it with its value.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["draw_references", "mark_off_range"]

#: Line styles of the reference configurations on the curves, in the order Benchmark.reference_configs() lists them
#: (the space's references, then the benchmark's own, such as the lab's "QP merge"; cycled beyond five).
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

    Each such line's legend label gets "(below the plot ↓)" or "(above the plot ↑)", and a boxed note at the
    bottom (top) left corner names the lines below (above) with their values. Returns the notes' texts.
    """
    lo, hi = ax.get_ylim()
    notes: list[str] = []
    for where, outside, y, arrow in (("below", lambda v: v < lo, 0.02, "↓"), ("above", lambda v: v > hi, 0.98, "↑")):
        off = [(line, name, v) for line, name, v in drawn if outside(v)]
        for line, name, v in off:
            line.set_label(f"{name}: {v:.3f} ({where} the plot {arrow})")
        if not off:
            continue
        text = f"{arrow} {where}: " + ", ".join(f"{name} {v:.3f}" for _, name, v in off)
        ax.text(
            0.02,
            y,
            text,
            transform=ax.transAxes,
            ha="left",
            va="bottom" if where == "below" else "top",
            fontsize=7,
            color="0.2",
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.9},
        )
        notes.append(text)
    return notes
