"""Replicates that are replicates: an Optuna sampler class named as an optimiser gets each run's seed, and a
sampler known to ignore it (QMC without scrambling) is named at start-up, before any run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from smm_plugins.compare.experiment import Experiment
from smm_plugins.compare.results import read_runs
from smm_plugins.compare.runner import run_experiment

pytest.importorskip("optuna")  # the Optuna plugin is an optional part of the distribution

QMC = "optuna.samplers:QMCSampler"


def _grid(tmp_path: Path, options: dict[str, object], seeds: int = 2) -> Experiment:
    return Experiment(
        benchmarks=["smm-mini-ps"], optimizers=[QMC], seeds=seeds, budget=12, workers=1, options={QMC: options}
    )


def _values_by_seed(out: Path) -> dict[int, list[float]]:
    df = read_runs(out, reproducible=True)
    return {int(s): g["value"].tolist() for s, g in df.groupby("seed")}


@pytest.mark.slow
def test_unscrambled_qmc_is_named_at_start_up_and_scrambled_qmc_gets_the_seed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="smm_plugins"):
        run_experiment(_grid(tmp_path, {}), tmp_path / "plain", progress=False)
    (warning,) = [r.getMessage() for r in caplog.records if "ignores the run seed" in r.getMessage()]
    assert QMC in warning and "scramble=true" in warning and "2 seed(s)" in warning
    runs = _values_by_seed(tmp_path / "plain")
    # What the warning is about: after the first trial (Optuna's seeded independent sampler), the same run.
    assert runs[0][0] != runs[1][0] and runs[0][1:] == runs[1][1:]

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="smm_plugins"):
        run_experiment(_grid(tmp_path, {"scramble": True}), tmp_path / "scrambled", progress=False)
    assert not [r for r in caplog.records if "ignores the run seed" in r.getMessage()]
    runs = _values_by_seed(tmp_path / "scrambled")
    assert runs[0][1:] != runs[1][1:]  # each run's own seed scrambles its own sequence


def test_a_seed_option_is_refused_before_any_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"option seed=7 of optimizer 'optuna.samplers:QMCSampler'.*each run's own"):
        run_experiment(_grid(tmp_path, {"seed": 7}, seeds=1), tmp_path / "o", progress=False)
    assert not (tmp_path / "o" / "runs").exists()
