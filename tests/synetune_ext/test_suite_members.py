"""Every member of the suite smm-mini by name in Syne Tune: load_blackbox, its ladder and a simulated Tuner run."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")

from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
from syne_tune.blackbox_repository import load_blackbox
from syne_tune.blackbox_repository.simulated_tabular_backend import BlackboxRepositoryBackend
from syne_tune.optimizer.baselines import RandomSearch

import synetune_ext as S
from smm_plugins.fidelity import fidelity_ladder
from smm_plugins.registry import list_benchmarks, load_benchmark
from synetune_ext.tuning import _quiet_experiment, _SilentTunerLogger

MEMBERS = list_benchmarks(suite="smm-mini")


@pytest.mark.parametrize("name", MEMBERS)
def test_member_by_name(name: str) -> None:
    core = load_benchmark(name)
    bb = load_blackbox(name)
    full = int(core.n_problems_full["train_acc"])
    assert bb.benchmark is core and bb.fidelity_values.tolist() == fidelity_ladder(full)
    callback = SimulatorCallback()
    with _quiet_experiment(None):
        np.random.seed(0)  # noqa: NPY002 - Syne Tune's random search draws from the global state
        Tuner(
            trial_backend=BlackboxRepositoryBackend(blackbox_name=name, elapsed_time_attr=S.ELAPSED_TIME),
            scheduler=RandomSearch(bb.configuration_space, metrics=["train_acc"], do_minimize=False, random_seed=0),
            stop_criterion=StoppingCriterion(max_num_trials_finished=2),
            n_workers=1,
            sleep_time=0,
            callbacks=[callback],
            save_tuner=False,
            output_logger=_SilentTunerLogger(),
        ).run()
    df = callback.dataframe()
    assert df["trial_id"].nunique() >= 2 and set(df["n_problems"]) == set(bb.fidelity_values.tolist())
    for _, row in df.iterrows():
        config = {
            k: row[f"config_{k}"] for k in core.space.names if f"config_{k}" in row and row.notna()[f"config_{k}"]
        }
        x = core.space.to_vector(config)
        n = int(row["n_problems"])
        assert row["train_acc"] == (core.evaluate(x) if n == full else core.evaluate(x, n_problems=n, seed=0))
        assert row[S.ELAPSED_TIME] == pytest.approx(core.cost(x, n_problems=n))
