"""best_full_fidelity: the incumbent by its full-split value, never a low-fidelity maximum."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")

import synetune_ext as S


def _frame(full: int = 1069) -> pd.DataFrame:
    # Trial 0 has the best low-fidelity row (a lucky subset); trial 2 is best at the full split.
    return pd.DataFrame(
        {
            "trial_id": [0, 0, 1, 1, 2, 2, 3],
            "n_problems": [39, full, 39, full, 39, full, 39],
            "train_acc": [0.90, 0.50, 0.55, 0.52, 0.60, 0.58, 0.95],
            "test_acc": [0.49, 0.49, 0.51, 0.51, 0.57, 0.57, 0.40],
            "elapsed_time": [70.0, 327.0, 70.0, 327.0, 70.0, 327.0, 70.0],
            "st_tuner_time": [70.0, 330.0, 75.0, 335.0, 140.0, 400.0, 160.0],
            "config_w": [0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4],
        }
    )


def test_best_is_taken_among_full_fidelity_results_only(tiny_ps):
    best = S.best_full_fidelity(_frame(), tiny_ps)
    assert best == {
        "trial_id": 2,
        "n_problems": 1069,
        "train_acc": 0.58,
        "test_acc": 0.57,
        "elapsed_time": 327.0,
        "config_w": 0.3,
    }
    assert type(best["trial_id"]) is int and type(best["train_acc"]) is float  # plain Python values, as columns
    assert S.best_full_fidelity(_frame(), tiny_ps, metric="train_acc", mode="min")["trial_id"] == 0
    assert S.best_full_fidelity(_frame(), S.SMMBlackbox(tiny_ps))["trial_id"] == 2


def test_the_benchmark_is_found_by_syne_tune_name_or_from_the_frame(tiny_ps):
    S.register_blackbox(tiny_ps, name="tiny-ps-results-test")
    assert S.best_full_fidelity(_frame(), "tiny-ps-results-test")["trial_id"] == 2
    frame = _frame()
    frame.attrs[S.results.FULL_FIDELITY_ATTR] = 1069  # as run_simulated_tuning's frames carry it
    assert S.best_full_fidelity(frame)["trial_id"] == 2


def test_clear_errors(tiny_ps):
    with pytest.raises(ValueError, match="benchmark"):
        S.best_full_fidelity(_frame())
    with pytest.raises(ValueError, match=r"no result at the full fidelity n_problems = 1069 \(levels reported: \[39\]"):
        S.best_full_fidelity(_frame()[lambda d: d["n_problems"] == 39], tiny_ps)
    with pytest.raises(ValueError, match="mode = 'best'"):
        S.best_full_fidelity(_frame(), tiny_ps, mode="best")
    with pytest.raises(ValueError, match="column 'accuracy'"):
        S.best_full_fidelity(_frame(), tiny_ps, metric="accuracy")
    with pytest.raises(ValueError, match="results = "):
        S.best_full_fidelity([1, 2, 3], tiny_ps)
