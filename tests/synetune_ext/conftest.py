"""Syne Tune adapter fixtures: a registered name whose benchmark uses the real-merge cost model."""

from __future__ import annotations

import copy

import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")


@pytest.fixture(scope="session")
def mini_ps_7b() -> str:
    """``smm-mini-ps`` with the 7B merge-and-evaluate cost model, registered under its own name.

    The simulated-time tests check the simulator against the cost model the benchmark reports, so they pin
    the realistic one (minutes per full evaluation) instead of whichever the embedded benchmark defaults to.
    """
    import synetune_ext
    from smm_plugins.cost import OfficialCostModel
    from smm_plugins.registry import load_benchmark

    bench = copy.copy(load_benchmark("smm-mini-ps"))  # a copy: the registry's cached instance stays as it is
    bench.cost_model = OfficialCostModel()
    return synetune_ext.register_blackbox(bench, name="smm-mini-ps-7b-test")


@pytest.fixture(scope="session")
def simulated_tuning():
    """``run(name, trials, workers=1, scheduler=None, seed=0)``: Syne Tune's ``Tuner`` on the blackbox ``name``,
    simulated (``BlackboxRepositoryBackend`` + ``SimulatorCallback``), as a user runs it; ``scheduler``
    defaults to ``RandomSearch`` with ``seed``. Returns the callback's dataframe."""
    import numpy as np
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository import load_blackbox
    from syne_tune.blackbox_repository.simulated_tabular_backend import BlackboxRepositoryBackend
    from syne_tune.optimizer.baselines import RandomSearch

    import synetune_ext as S
    from synetune_ext.tuning import _quiet_experiment, _SilentTunerLogger

    def run(name: str, trials: int, workers: int = 1, scheduler=None, seed: int = 0):
        bb = load_blackbox(name)
        callback = SimulatorCallback()
        sched = scheduler or RandomSearch(
            bb.configuration_space, metrics=["train_acc"], do_minimize=False, random_seed=seed
        )
        with _quiet_experiment(None):
            np.random.seed(seed)  # noqa: NPY002 - Syne Tune's random search draws from the global state
            Tuner(
                trial_backend=BlackboxRepositoryBackend(blackbox_name=name, elapsed_time_attr=S.ELAPSED_TIME),
                scheduler=sched,
                stop_criterion=StoppingCriterion(max_num_trials_finished=trials),
                n_workers=workers,
                sleep_time=0,
                callbacks=[callback],
                save_tuner=False,
                output_logger=_SilentTunerLogger(),
            ).run()
        return callback.dataframe()

    return run
