"""A BlackboxRepositoryBackend by name keeps its benchmark and settings wherever it is unpickled.

Each check runs in a fresh Python process that has not imported ``synetune_ext`` and has no registration of
the name: pickle, ``Tuner.load`` (dill) and a Ray worker (cloudpickle).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")

from syne_tune.blackbox_repository import load_blackbox
from syne_tune.blackbox_repository.simulated_tabular_backend import BlackboxRepositoryBackend

import synetune_ext as S
from smm_plugins.fidelity import fidelity_ladder

CUSTOM = "smm-mini-ps-two-levels-test"  # a name only the test process registers


def _fresh_python(code: str, tmp_path: Path, **env: str) -> Any:
    """Run ``code`` in a new interpreter; the last line it prints is JSON, returned parsed."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1", **env},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def custom_name() -> str:
    return S.register_blackbox("smm-mini-ps", name=CUSTOM, fidelities=[100, 1000], seed=5)


def _expected(name: str) -> dict:
    bb = load_blackbox(name)
    config = bb.benchmark.space.default_config()
    return {"levels": bb.fidelity_values.tolist(), "seed": bb.seed, "table": bb.objective_function(config).tolist()}


@pytest.mark.slow
def test_pickled_backends_carry_their_blackboxes_to_a_fresh_process(custom_name, tmp_path):
    from smm_plugins.space import ps_space
    from smm_plugins.testing import write_cv_booster_dir

    folder = str(write_cv_booster_dir(tmp_path / "tiny", ps_space("tiny"), n_trees=5, n_samples=200, n_folds=2))
    S.register_blackbox(folder, fidelities=False)
    names = ["smm-mini-ps", custom_name, folder]
    backends = [BlackboxRepositoryBackend(blackbox_name=n, elapsed_time_attr=S.ELAPSED_TIME) for n in names]
    (tmp_path / "backends.pkl").write_bytes(pickle.dumps(backends))
    got = _fresh_python(
        """
        import json, pickle, sys
        backends = pickle.loads(open("backends.pkl", "rb").read())
        imported = "synetune_ext" in sys.modules  # by unpickling, not by this script
        from syne_tune.blackbox_repository import load_blackbox
        out = []
        for backend in backends:
            bb = backend.blackbox
            config = bb.benchmark.space.default_config()
            out.append({"levels": bb.fidelity_values.tolist(), "seed": bb.seed,
                        "table": bb.objective_function(config).tolist(), "imported": imported,
                        "by_name": load_blackbox(backend.blackbox_name).fidelity_values.tolist()})
        print(json.dumps(out))
        """,
        tmp_path,
    )
    for name, report in zip(names, got, strict=True):
        assert report.pop("imported") is True and report.pop("by_name") == report["levels"]
        assert report == _expected(name)
    ladder = fidelity_ladder(load_blackbox("smm-mini-ps").full_fidelity)
    assert [r["levels"] for r in got] == [ladder, [100, 1000], [1069]]


@pytest.mark.slow
def test_tuner_load_in_a_fresh_process_keeps_settings_and_the_full_fidelity_incumbent(custom_name, tmp_path):
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.optimizer.baselines import ASHA

    from synetune_ext.tuning import _quiet_experiment, _SilentTunerLogger

    bb = load_blackbox(custom_name)
    callback = SimulatorCallback()
    with _quiet_experiment(str(tmp_path)):
        tuner = Tuner(
            trial_backend=BlackboxRepositoryBackend(blackbox_name=custom_name, elapsed_time_attr=S.ELAPSED_TIME),
            scheduler=ASHA(
                bb.configuration_space,
                metric="train_acc",
                do_minimize=False,
                random_seed=0,
                time_attr=S.FIDELITY,
                max_t=1000,
                grace_period=100,
                reduction_factor=10,
            ),  # fmt: skip
            stop_criterion=StoppingCriterion(max_num_trials_finished=12),
            n_workers=2,
            sleep_time=0,
            callbacks=[callback],
            tuner_name="smm-tuner-load-test",
            output_logger=_SilentTunerLogger(),
        )
        tuner.run()
    got = _fresh_python(
        f"""
        import json, sys
        from syne_tune import Tuner
        from syne_tune.experiments import load_experiment
        tuner = Tuner.load({str(tuner.tuner_path)!r})
        imported = "synetune_ext" in sys.modules  # by unpickling, not by this script
        from syne_tune.blackbox_repository import load_blackbox
        import synetune_ext
        bb = tuner.trial_backend.blackbox
        experiment = load_experiment(tuner.name, load_tuner=True)
        best = synetune_ext.best_full_fidelity(experiment)  # knows the benchmark from the loaded tuner
        config = {{k[len("config_"):]: v for k, v in best.items() if k.startswith("config_")}}
        print(json.dumps({{"levels": bb.fidelity_values.tolist(), "seed": bb.seed, "imported": imported,
                          "by_name": load_blackbox({custom_name!r}).fidelity_values.tolist(), "best": best,
                          "again": bb.objective_function(config, fidelity=1000)["train_acc"],
                          "noisy_max": float(experiment.results["train_acc"].max())}}))
        """,
        tmp_path,
        SYNETUNE_FOLDER=str(tmp_path),
    )
    assert got["imported"] is True and got["levels"] == got["by_name"] == [100, 1000] and got["seed"] == 5
    best = got["best"]
    assert best["n_problems"] == 1000 and best["train_acc"] == got["again"]  # the full-size value of its config
    mine = S.best_full_fidelity(callback.dataframe(), custom_name)  # the run's own view agrees
    assert (mine["trial_id"], mine["train_acc"]) == (best["trial_id"], best["train_acc"])
    assert best["train_acc"] <= got["noisy_max"]


@pytest.mark.slow
def test_ray_worker_unpickles_the_backend_with_its_settings(custom_name, tmp_path):
    pytest.importorskip("ray")
    backend = BlackboxRepositoryBackend(blackbox_name=custom_name, elapsed_time_attr=S.ELAPSED_TIME)
    (tmp_path / "backend.pkl").write_bytes(pickle.dumps(backend))
    ray_tmp = tempfile.mkdtemp(prefix="rs", dir="/tmp")  # Ray's socket paths must stay short
    got = _fresh_python(
        f"""
        import json, pickle, ray
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, _temp_dir={ray_tmp!r})

        @ray.remote
        def report(backend):
            import sys
            from syne_tune.blackbox_repository import load_blackbox
            imported, bb, NAME = "synetune_ext" in sys.modules, backend.blackbox, {custom_name!r}
            config = bb.benchmark.space.default_config()
            return {{"levels": bb.fidelity_values.tolist(), "seed": bb.seed, "imported": imported,
                     "table": bb.objective_function(config).tolist(),
                     "by_name": load_blackbox(NAME).fidelity_values.tolist()}}

        # The driver ships the backend object itself; the worker process never imported synetune_ext.
        backend = pickle.loads(open("backend.pkl", "rb").read())
        print(json.dumps(ray.get(report.remote(backend))))
        ray.shutdown()
        """,
        tmp_path,
        RAY_USAGE_STATS_ENABLED="0",
    )
    assert got.pop("imported") is True and got.pop("by_name") == [100, 1000]
    assert got == _expected(custom_name)
