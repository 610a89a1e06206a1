"""Simulated tuning as Syne Tune users run it: Tuner + SimulatorCallback on a blackbox by name, 4 workers.

Simulated time must follow the benchmark's cost model (not the tuner's bookkeeping), multi-fidelity
schedulers must pay less per trial, and the same seed must give the same trials.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")

from syne_tune.blackbox_repository import load_blackbox
from syne_tune.optimizer.baselines import ASHA

import synetune_ext as S

N_TRIALS, N_WORKERS = 24, 4


def _simulate(simulated_tuning, name: str, scheduler: str, seed: int = 0) -> pd.DataFrame:
    """The standard workflow on a registered name, with the backend's default tuner_sleep_time (5 s)."""
    bb = load_blackbox(name)
    levels = bb.fidelity_values
    sched = None
    if scheduler == "ASHA":
        sched = ASHA(
            bb.configuration_space, metric="train_acc", do_minimize=False, random_seed=seed,
            time_attr=bb.fidelity_name(), max_t=int(levels[-1]), grace_period=int(levels[0]),
        )  # fmt: skip
    return simulated_tuning(name, trials=N_TRIALS, workers=N_WORKERS, scheduler=sched, seed=seed)


@pytest.fixture(scope="module")
def runs(mini_ps_7b: str, simulated_tuning) -> dict[str, pd.DataFrame]:
    return {sched: _simulate(simulated_tuning, mini_ps_7b, sched) for sched in ("RandomSearch", "ASHA")}


@pytest.mark.parametrize("scheduler", ["RandomSearch", "ASHA"])
def test_simulated_time_is_the_evaluation_cost_spread_over_the_workers(runs, scheduler):
    df = runs[scheduler]
    per_trial = df.groupby("trial_id")[S.ELAPSED_TIME].max()  # cumulative: what each trial was charged
    assert df["trial_id"].nunique() >= N_TRIALS
    ratio = df["st_tuner_time"].max() / (per_trial.sum() / N_WORKERS)
    assert 0.7 <= ratio <= 1.3, f"{scheduler}: simulated time / (summed cost / workers) = {ratio:.3f}"


def test_asha_is_cheaper_per_trial_and_random_search_sees_every_trial_in_full(runs, mini_ps_7b):
    bb = load_blackbox(mini_ps_7b)
    full, bench = int(bb.fidelity_values[-1]), bb.benchmark
    random, asha = runs["RandomSearch"], runs["ASHA"]
    cost = {name: df.groupby("trial_id")[S.ELAPSED_TIME].max().mean() for name, df in runs.items()}
    assert cost["ASHA"] < 0.75 * cost["RandomSearch"], cost
    assert (asha.groupby("trial_id")["n_problems"].max() < full).any()
    # A single-fidelity scheduler's trials run to the full split: the value it learns from is exact.
    finished = random.groupby("trial_id").filter(lambda t: t["n_problems"].max() == full)
    assert finished["trial_id"].nunique() >= N_TRIALS
    for _, row in finished[finished["n_problems"] == full].head(3).iterrows():
        x = np.array([row[f"config_{n}"] for n in bench.space.names])
        assert row["train_acc"] == bench.evaluate(x) and row[S.ELAPSED_TIME] == pytest.approx(bench.cost(x))


def test_same_seed_same_trials_and_values(runs, mini_ps_7b, simulated_tuning):
    again = _simulate(simulated_tuning, mini_ps_7b, "ASHA")
    first = runs["ASHA"]
    keys = ["trial_id", "n_problems", "train_acc", "test_acc", S.ELAPSED_TIME]
    shared = first[keys].merge(again[keys], on=["trial_id", "n_problems"], suffixes=("", "_again"))
    assert len(shared) >= 0.9 * min(len(first), len(again))  # the last in-flight reports may differ
    for col in ("train_acc", "test_acc", S.ELAPSED_TIME):
        np.testing.assert_array_equal(shared[col], shared[f"{col}_again"])
    configs = [c for c in first.columns if c.startswith("config_")]
    pd.testing.assert_frame_equal(
        first.groupby("trial_id")[configs].first().head(N_TRIALS),
        again.groupby("trial_id")[configs].first().head(N_TRIALS),
    )


@pytest.mark.parametrize("scheduler", ["RandomSearch", "ASHA", "BOHB"])
def test_run_simulated_tuning_is_quiet_and_reproducible(tiny_ps, capfd, scheduler):
    df = S.run_simulated_tuning(tiny_ps, scheduler, max_trials=12, seed=3)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert {"train_acc", "test_acc", "elapsed_time", "n_problems", "st_tuner_time", "trial_id"} <= set(df.columns)
    assert df["trial_id"].nunique() >= 12
    assert df["st_tuner_time"].is_monotonic_increasing
    again = S.run_simulated_tuning(tiny_ps, scheduler, max_trials=12, seed=3)
    # Same trials and values; the simulated clock also adds the scheduler's real compute time (ms).
    timing = ["st_tuner_time", "st_tuner_timestamp"]
    assert df.drop(columns=timing, errors="ignore").equals(again.drop(columns=timing, errors="ignore"))
    np.testing.assert_allclose(df["st_tuner_time"], again["st_tuner_time"], rtol=0.01)
    best = S.best_full_fidelity(df)  # the frame knows its benchmark's full size
    assert best["n_problems"] == 1069 and best["train_acc"] == df.loc[df["n_problems"] == 1069, "train_acc"].max()
    if scheduler == "RandomSearch":  # single-fidelity: one report per trial, at the full split
        assert set(df["n_problems"]) == {1069} and len(df) == df["trial_id"].nunique()
    else:  # multi-fidelity: the ladder, some trials stopped below full
        assert set(df["n_problems"]) <= {39, 118, 356, 1069} and df["n_problems"].min() == 39
        assert (df.groupby("trial_id")["n_problems"].max() < 1069).any()


def test_run_simulated_tuning_on_four_workers_follows_the_cost_model(mini_ps_7b):
    bb = load_blackbox(mini_ps_7b)
    df = S.run_simulated_tuning(bb.benchmark, "RandomSearch", max_trials=16, n_workers=4, seed=0)
    full_cost = bb.benchmark.cost(bb.benchmark.space.default_vector())  # PS: the same for every configuration
    assert df["elapsed_time"].tolist() == pytest.approx([full_cost] * len(df))
    assert df["st_tuner_time"].max() == pytest.approx(len(df) * full_cost / 4, rel=0.3)
