"""Reference lines outside a plot's y-range are marked, in the legend and with an arrow note at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")


def test_a_reference_below_the_curves_gets_a_note_and_its_legend_says_so() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from smm_plugins.compare.reference_lines import draw_references, mark_off_range

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0.55, 0.60])
    refs = pd.DataFrame({"reference": ["A alone", "base", "default"], "train_acc": [0.58, 0.20, 0.70]})
    drawn = draw_references(ax, refs, "train_acc")
    ax.set_ylim(0.5, 0.65)
    notes = mark_off_range(ax, drawn)
    assert notes == ["↓ below: base 0.200", "↑ above: default 0.700"]
    labels = ax.get_legend_handles_labels()[1]
    assert "A alone: 0.580" in labels
    assert "base: 0.200 (below the plot ↓)" in labels and "default: 0.700 (above the plot ↑)" in labels
    assert [t.get_text() for t in ax.texts] == notes
    plt.close(fig)


def test_report_curves_mark_the_references_they_cut_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smm_plugins.compare import report

    figures: list[Any] = []
    monkeypatch.setattr(report, "atomic_save_png", lambda fig, path: figures.append(fig))
    rng = np.random.default_rng(0)
    rows = [
        {"benchmark": "b", "optimizer": o, "seed": s, "trial": t, "value": v, "test_acc": v, "sim_time": t + 1.0}
        for o in ("p", "q")
        for s in range(3)
        for t, v in enumerate(0.55 + 0.05 * np.sort(rng.random(40)))
    ]
    df = report.incumbent_curves(pd.DataFrame(rows).assign(wall_time=1.0))
    refs = pd.DataFrame(
        {"benchmark": "b", "reference": ["B alone", "default"], "train_acc": [0.19, 0.58], "test_acc": [0.2, 0.57]}
    )
    report._plot(df, "evals", tmp_path / "c.png", {"b": ["p", "q"]}, refs)
    ax = figures[0].axes[0]
    lo, hi = ax.get_ylim()
    assert lo > 0.19  # the curves keep their zoom ...
    assert [t.get_text() for t in ax.texts] == ["↓ below: B alone 0.190"]  # ... and the cut-off line is named
    assert "B alone: 0.190 (below the plot ↓)" in [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.slow
def test_the_qp_merge_is_a_reference_line_and_checked_on_the_truth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a user reads it: a report of the lab's surrogate draws the QP merge, lists it, and the truth check
    # gives its value on the surrogate and on the exact twin.
    from smm_plugins import load_benchmark
    from smm_plugins.compare import Experiment, make_report, report, run_experiment
    from smm_plugins.lab.qp import QP_LABEL

    figures: list[Any] = []
    real_save = report.atomic_save_png
    monkeypatch.setattr(report, "atomic_save_png", lambda fig, path: (figures.append(fig), real_save(fig, path)))
    exp = Experiment(benchmarks=["smm-mini-ps"], optimizers=["random"], seeds=2, budget=5, workers=1)
    run_experiment(exp, tmp_path / "grid", progress=False)
    res = make_report(tmp_path / "grid")

    x = load_benchmark("smm-mini-ps").reference_configs()[QP_LABEL]
    on_surrogate = load_benchmark("smm-mini-ps").evaluate(x, "train_acc")
    on_truth = load_benchmark("smm-mini-ps-true").evaluate(x, "train_acc")
    refs = pd.read_csv(tmp_path / "grid" / "report" / "references.csv").set_index("reference")
    assert refs.loc[QP_LABEL, "train_acc"] == pytest.approx(on_surrogate, abs=1e-6)
    legends = [
        t.get_text() for fig in figures for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    ]
    assert any(t.startswith(f"{QP_LABEL}: {on_surrogate:.3f}") for t in legends)
    md = res.markdown.read_text()
    line = next(s for s in md.splitlines() if s.startswith(f"| smm-mini-ps | {QP_LABEL} | ") and s.count("|") == 9)
    assert f"| {on_surrogate:.4f} | {on_truth:.4f} | {on_surrogate - on_truth:+.4f} |" in line
