"""smm_plugins.compare.stats: Holm adjustment and pairwise Wilcoxon tests (as the report uses them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def test_holm_adjustment_matches_hand_computed_values() -> None:
    from smm_plugins.compare.report import _holm

    # m = 4: sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, 2*0.03, max(1*0.04, 0.06) (monotone)
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert _holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert _holm(np.array([0.5, 0.6])) == pytest.approx([1.0, 1.0])  # capped at 1


def test_pairwise_wilcoxon_uses_scipy_per_pair_and_holm_per_block() -> None:
    from scipy.stats import wilcoxon

    from smm_plugins.compare.report import _holm, pairwise_wilcoxon

    rng = np.random.default_rng(0)
    finals = {"a": rng.uniform(0.6, 0.7, 8), "b": rng.uniform(0.5, 0.6, 8), "c": rng.uniform(0.55, 0.65, 8)}
    rows = [
        {
            "benchmark": "x",
            "optimizer": o,
            "seed": s,
            "trial": 1,
            "best_train": v[s],
            "inc_test": v[s],
            "sim_time": 1.0,
            "wall_time": 1.0,
        }
        for o, v in finals.items()
        for s in range(8)
    ]
    df = pd.DataFrame(rows)
    wil = pairwise_wilcoxon(df)
    block = wil[wil["metric"] == wil["metric"].iloc[0]]
    assert list(zip(block["a"], block["b"], strict=True)) == [("a", "b"), ("a", "c"), ("b", "c")]
    for _, r in block.iterrows():
        assert r["p_value"] == pytest.approx(wilcoxon(finals[r["a"]], finals[r["b"]]).pvalue)
    assert block["p_holm"].to_numpy() == pytest.approx(_holm(block["p_value"].to_numpy()))
