"""Local fidelity: surrogate and truth judging an optimiser's steps against its incumbent."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins.surrogate_tools.validate import step_agreement


def test_steps_are_judged_against_the_incumbent_and_truth_ties_are_left_out() -> None:
    truth = [0.1, 0.3, 0.2, 0.3, 0.5, 0.4]
    sur = [0.1, 0.3, 0.35, 0.2, 0.6, 0.7]
    # step 1: both improve; 2: truth rejects, surrogate accepts; 3: truth tie (left out); 4: both improve;
    # 5: truth rejects (incumbent is step 4), surrogate accepts.
    got = step_agreement([truth], [sur], margin=0.05)
    assert got == {
        "steps": 4,
        "agreement": 0.5,
        "false_improvement": 1.0,
        "missed_improvement": 0.0,
        "margin": 0.05,
        "clear_rejections": 2,  # steps 2 and 5, each 0.1 below its incumbent
        "false_improvement_beyond_margin": 1.0,
    }


def test_the_first_of_tied_best_values_stays_the_incumbent() -> None:
    # Step 2 is compared with step 0 (first of the tied 0.5s): the surrogate rates it higher -> false improvement.
    assert step_agreement([[0.5, 0.5, 0.4]], [[0.1, 0.9, 0.5]])["false_improvement"] == 1.0


def test_a_faithful_surrogate_agrees_everywhere_and_a_flat_one_misses_every_improvement() -> None:
    rng = np.random.default_rng(0)
    runs = [rng.random(50) for _ in range(3)]
    same = step_agreement(runs, [2.0 * r + 1.0 for r in runs])  # any increasing map judges alike
    assert same["agreement"] == 1.0 and same["false_improvement"] == 0.0 and same["missed_improvement"] == 0.0
    assert same["steps"] == 3 * 49
    flat = step_agreement(runs, [np.full(50, 0.6) for _ in runs])
    assert flat["false_improvement"] == 0.0 and flat["missed_improvement"] == 1.0


def test_a_surrogate_that_smooths_away_a_local_optimum_shows_false_improvements() -> None:
    rng = np.random.default_rng(1)
    truth = np.concatenate([[0.6], 0.6 - rng.random(199) * 0.1])  # stuck: every later step is truly worse
    sur = 0.55 + 0.01 * rng.standard_normal(200)  # a noisy plateau around the optimum ...
    sur[0] = 0.55  # ... at whose level the surrogate puts the optimum itself: about half the steps look better
    got = step_agreement([truth], [sur])
    assert got["steps"] == 199 and np.isnan(got["missed_improvement"])
    assert 0.3 < got["false_improvement"] < 0.7


def test_the_margin_separates_clear_rejections_from_fine_scale_ones() -> None:
    # Incumbent 0.6 throughout; steps 0.595 (fine: within the margin) and 0.5 (clear: 0.1 below).
    truth = [0.6, 0.595, 0.5, 0.595, 0.5]
    sur = [0.6, 0.61, 0.59, 0.59, 0.65]
    got = step_agreement([truth], [sur], margin=0.02)
    assert got["steps"] == 4 and got["false_improvement"] == 0.5
    assert got["clear_rejections"] == 2 and got["false_improvement_beyond_margin"] == 0.5  # step 4 of steps 2, 4
    assert step_agreement([truth], [sur], margin=0.0)["clear_rejections"] == 4
    assert step_agreement([truth], [sur], margin=0.2)["clear_rejections"] == 0
    assert np.isnan(step_agreement([truth], [sur], margin=0.2)["false_improvement_beyond_margin"])


def test_short_runs_and_bad_input() -> None:
    got = step_agreement([[0.5]], [[0.4]])
    assert got["steps"] == 0 and np.isnan(got["agreement"])
    with pytest.raises(ValueError, match="truth_runs has 2 runs and surrogate_runs 1"):
        step_agreement([[0.1, 0.2], [0.3, 0.4]], [[0.1, 0.2]])
    with pytest.raises(ValueError, match=r"run 0: truth has shape \(2,\), surrogate \(3,\)"):
        step_agreement([[0.1, 0.2]], [[0.1, 0.2, 0.3]])
    for bad in (-0.01, float("nan")):
        with pytest.raises(ValueError, match="margin is .*; allowed: a finite accuracy difference >= 0"):
            step_agreement([[0.1, 0.2]], [[0.1, 0.2]], margin=bad)
