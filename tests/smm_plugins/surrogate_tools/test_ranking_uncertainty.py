"""How much optimiser-ranking agreement the runs support: bootstrap and per-pair tests on toy finals."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins.surrogate_tools.validate import ranking_uncertainty

OPTS = ("random", "cmaes", "tpe", "es")


def _finals(means: list[float], n_runs: int, spread: float, seed: int) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    return {o: (m + spread * rng.standard_normal(n_runs)).tolist() for o, m in zip(OPTS, means, strict=True)}


def test_well_separated_optimisers_in_the_same_order_give_tau_one_in_every_resample() -> None:
    truth = _finals([0.55, 0.60, 0.65, 0.70], 6, 0.002, seed=0)
    sur = _finals([0.50, 0.58, 0.61, 0.69], 6, 0.002, seed=1)
    unc = ranking_uncertainty(truth, sur, n_resamples=300)
    boot = unc["bootstrap"]
    assert boot["tau_median"] == pytest.approx(1.0) and boot["tau_interval"] == pytest.approx([1.0, 1.0])
    assert boot["share_tau_1"] == 1.0 and boot["n_resamples"] == 300
    assert unc["separated_pairs"] == 6 and unc["separated_pairs_agreeing"] == 6
    first = unc["pairs"][0]
    assert (first["a"], first["b"]) == ("random", "cmaes")
    assert first["truth_mean_difference"] == pytest.approx(np.mean(truth["random"]) - np.mean(truth["cmaes"]))
    assert first["truth_p_value"] < 0.05 and first["surrogate_p_value"] < 0.05


def test_a_reversed_surrogate_disagrees_on_every_separated_pair() -> None:
    truth = _finals([0.55, 0.60, 0.65, 0.70], 6, 0.002, seed=0)
    sur = _finals([0.70, 0.65, 0.60, 0.55], 6, 0.002, seed=1)
    unc = ranking_uncertainty(truth, sur, n_resamples=200)
    assert unc["bootstrap"]["tau_median"] == pytest.approx(-1.0) and unc["bootstrap"]["share_tau_1"] == 0.0
    assert unc["separated_pairs"] == 6 and unc["separated_pairs_agreeing"] == 0
    assert not any(p["same_order"] for p in unc["pairs"])


def test_optimisers_the_truth_cannot_tell_apart_give_a_wide_interval_and_no_separated_pair() -> None:
    truth = _finals([0.6, 0.6, 0.6, 0.6], 5, 0.03, seed=2)
    sur = _finals([0.6, 0.6, 0.6, 0.6], 5, 0.03, seed=3)
    unc = ranking_uncertainty(truth, sur, n_resamples=500)
    low, high = unc["bootstrap"]["tau_interval"]
    assert low < 0.0 < high
    assert 0.0 < unc["bootstrap"]["share_tau_1"] < 0.5
    assert unc["separated_pairs"] == 0 and unc["separated_pairs_agreeing"] == 0


def test_seeded_and_independent_of_the_surrogate_dict_order() -> None:
    truth = _finals([0.55, 0.62, 0.63, 0.64], 5, 0.02, seed=4)
    sur = _finals([0.52, 0.60, 0.66, 0.61], 5, 0.02, seed=5)
    a = ranking_uncertainty(truth, sur, n_resamples=200, seed=7)
    assert ranking_uncertainty(truth, dict(reversed(list(sur.items()))), n_resamples=200, seed=7) == a
    assert ranking_uncertainty(truth, sur, n_resamples=200, seed=8)["bootstrap"] != a["bootstrap"]


def test_one_run_per_optimiser_has_pairs_but_no_bootstrap() -> None:
    truth = _finals([0.55, 0.60, 0.65, 0.70], 1, 0.0, seed=0)
    unc = ranking_uncertainty(truth, truth)
    assert unc["bootstrap"] is None
    assert len(unc["pairs"]) == 6 and all(np.isnan(p["truth_p_value"]) for p in unc["pairs"])
    assert unc["separated_pairs"] == 0 and all(p["same_order"] for p in unc["pairs"])


def test_different_optimisers_on_the_two_sides_are_an_error() -> None:
    truth = _finals([0.55, 0.60, 0.65, 0.70], 3, 0.01, seed=0)
    sur = {k: v for k, v in truth.items() if k != "es"}
    with pytest.raises(ValueError, match=r"optimizers differ: truth has .*'es'.*surrogate has"):
        ranking_uncertainty(truth, sur)
