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
@pytest.mark.parametrize(
    ("name", "n_gaps"),
    [
        ("smm-mini-ps", 8),  # A alone, B alone, base, default x train_acc, test_acc
        ("smm-mini-dfs", 6),  # A alone, B alone, default (= A alone) x train_acc, test_acc
    ],
)
def test_embedded_surrogate_is_within_a_hundredth_of_the_truth_at_every_reference(name: str, n_gaps: int) -> None:
    gaps = _gaps(name)
    assert len(gaps) == n_gaps
    off = {k: round(v, 4) for k, v in gaps.items() if abs(v) > TOLERANCE}
    assert not off, f"{name}: surrogate - truth beyond {TOLERANCE}: {off}"
