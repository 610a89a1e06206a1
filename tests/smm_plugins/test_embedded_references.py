"""The embedded surrogates are right where every report looks: at the reference configurations.

``smm-bench report`` draws each source alone, the base model and the default as grey lines; on a
surrogate those are the surrogate's values. Each must be within 0.01 accuracy of the exact twin
(``smm-mini-*-true``), both objectives (``python benchmarks/reference_fidelity.py`` prints the table).
"""

from __future__ import annotations

import pytest

from smm_plugins import load_benchmark
from smm_plugins.references import reference_configs

TOLERANCE = 0.01


def _gaps(name: str) -> dict[tuple[str, str], float]:
    bench, truth = load_benchmark(name), load_benchmark(f"{name}-true")
    gaps = {}
    for label, x in reference_configs(bench.space).items():
        for obj in bench.objectives:
            gaps[(label, obj)] = float(bench.evaluate(x, obj)) - float(truth.evaluate(x, obj))
    return gaps


@pytest.mark.slow
def test_smm_mini_ps_is_within_a_hundredth_of_the_truth_at_every_reference() -> None:
    gaps = _gaps("smm-mini-ps")
    assert len(gaps) == 8  # A alone, B alone, base, default x train_acc, test_acc
    off = {k: round(v, 4) for k, v in gaps.items() if abs(v) > TOLERANCE}
    assert not off, f"surrogate - truth beyond {TOLERANCE}: {off}"


# The shipped smm-mini-dfs has no reference rows: "A alone" (= default) is 0.018 / 0.021 below the truth
# (docs/surrogates.md, "Reference configurations"; a rebuild with them closed the gap but over-estimated optimisers'
# picks more and was not shipped, docs/records/2026-12-03-dfs-reference-rows.md). The 0.01 goal is open for DFS;
# this bound keeps the gap from growing unnoticed, and the report's truth check shows both values to every user.
DFS_TOLERANCE = 0.025


@pytest.mark.slow
def test_smm_mini_dfs_stays_within_its_measured_gap_at_every_reference() -> None:
    gaps = _gaps("smm-mini-dfs")
    assert len(gaps) == 6
    off = {k: round(v, 4) for k, v in gaps.items() if abs(v) > DFS_TOLERANCE}
    assert not off, f"surrogate - truth beyond {DFS_TOLERANCE}: {off}"
