"""Any Optuna sampler in `smm-bench compare`: a sampler class by import path, a user's sampler class, and an
OptunaHub package from a local registry folder; serially and through Ray, bit-identical."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("optunahub")

from smm_plugins.compare import Experiment, get_optimizer, read_runs, run_experiment

# A user's module: sampler classes (one seeded, one without a seed argument), a sampler instance, another class.
USER = textwrap.dedent(
    """
    import numpy as np
    import optuna

    class Perturb(optuna.samplers.RandomSampler):
        '''Random search that, past `warmup` trials, perturbs the best configuration so far.'''

        def __init__(self, seed=None, warmup=5, scale=0.1):
            super().__init__(seed=seed)
            self._rng_local = np.random.default_rng(seed)
            self.warmup, self.scale = warmup, scale

        def sample_independent(self, study, trial, name, dist):
            done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if len(done) < self.warmup or not isinstance(dist, optuna.distributions.FloatDistribution):
                return super().sample_independent(study, trial, name, dist)
            best = study.best_trial.params[name]
            step = self.scale * (dist.high - dist.low) * self._rng_local.standard_normal()
            return float(np.clip(best + step, dist.low, dist.high))

    class Unseeded(optuna.samplers.RandomSampler):
        def __init__(self):
            super().__init__(seed=0)

    class NotASampler:
        pass

    SAMPLER = optuna.samplers.RandomSampler(seed=0)
    """
)

# An OptunaHub package in a local registry folder, laid out like the registry's sampler template.
HUB_INIT = "from ._sampler import AnnealingSampler\n\n__all__ = ['AnnealingSampler']\n"
HUB_SAMPLER = textwrap.dedent(
    """
    import math
    import numpy as np
    import optunahub


    class AnnealingSampler(optunahub.samplers.SimpleBaseSampler):
        '''Simulated annealing over the float parameters of the search space.'''

        def __init__(self, search_space=None, seed=None, temperature=0.05):
            super().__init__(search_space, seed)
            self._rng = np.random.default_rng(seed)
            self.temperature = temperature
            self._current = None

        def sample_relative(self, study, trial, search_space):
            if not search_space:
                return {}
            done = [t for t in study.trials if t.values is not None]
            if not done:
                return {n: d.to_external_repr(self._random_sampler.sample_independent(study, trial, n, d))
                        for n, d in search_space.items()}
            last = done[-1]
            if self._current is None or last.values[0] >= self._current.values[0] or self._rng.random() < math.exp(
                (last.values[0] - self._current.values[0]) / self.temperature
            ):
                self._current = last
            out = {}
            for name, dist in search_space.items():
                value = self._current.params[name]
                if hasattr(dist, "low"):
                    value = float(np.clip(value + 0.1 * (dist.high - dist.low) * self._rng.standard_normal(),
                                          dist.low, dist.high))
                out[name] = value
            return out
    """
)


@pytest.fixture()
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "spec_user.py").write_text(USER)
    hub = tmp_path / "registry" / "samplers" / "annealing"
    hub.mkdir(parents=True)
    (hub / "__init__.py").write_text(HUB_INIT)
    (hub / "_sampler.py").write_text(HUB_SAMPLER)
    monkeypatch.syspath_prepend(str(mods))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(mods), env.get("PYTHONPATH", "")) if p)
    return {"hub": f"optunahub:samplers/annealing@{tmp_path / 'registry'}", **env}


@pytest.mark.slow
def test_a_sampler_class_by_import_path_equals_the_builtin(user: dict[str, str], tmp_path: Path) -> None:
    # QMC by import path with the built-in's options gives the built-in `qmc` runs: the run seed arrives
    # as `seed` and the options as keyword arguments, from the command line.
    base = [sys.executable, "-m", "smm_plugins.compare.cli", "compare", "--benchmarks", "smm-mini-ps,smm-mini-dfs"]
    grid = ["--seeds", "2", "--budget", "12", "--workers", "1", "--no-progress"]
    spec = "optuna.samplers:QMCSampler"
    by_path = base + ["--optimizers", spec, *grid, "--out", str(tmp_path / "path")]
    by_path += ["--option", f"{spec}.scramble=true", "--option", f"{spec}.warn_independent_sampling=false"]
    builtin = base + ["--optimizers", "qmc", *grid, "--out", str(tmp_path / "builtin")]
    for cmd in (by_path, builtin):
        res = subprocess.run(cmd, env=user, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
    a, b = read_runs(tmp_path / "path", reproducible=True), read_runs(tmp_path / "builtin", reproducible=True)
    assert set(a["optimizer"]) == {spec} and len(a) == 2 * 2 * 12
    pd.testing.assert_frame_equal(a.drop(columns="optimizer"), b.drop(columns="optimizer"))
    saved = (tmp_path / "path" / "experiment.toml").read_text()
    assert '[options."optuna.samplers:QMCSampler"]' in saved and "scramble = true" in saved


@pytest.mark.slow
def test_a_users_sampler_class_and_an_optunahub_package(user: dict[str, str], tmp_path: Path) -> None:
    hub = user["hub"]
    exp = Experiment(
        benchmarks=["smm-mini-ps", "smm-mini-dfs"],
        optimizers=["spec_user:Perturb", hub, "random"],
        seeds=2,
        budget=15,
        workers=1,
        options={"spec_user:Perturb": {"warmup": 4}, hub: {"temperature": 0.02}},
    )
    s = run_experiment(exp, tmp_path / "a", progress=False)
    assert (s.done, s.failed) == (12, 0), s.failures
    df = read_runs(tmp_path / "a")
    assert df.groupby(["benchmark", "optimizer", "seed"]).size().eq(15).all()
    assert df["value"].between(0, 1).all()
    # Each is its own optimiser: not random search under another name.
    finals = df.pivot_table(index=["benchmark", "seed", "trial"], columns="optimizer", values="value")
    assert not finals[hub].equals(finals["random"]) and not finals["spec_user:Perturb"].equals(finals["random"])
    info = get_optimizer(hub)
    assert (info.framework, info.name) == ("optunahub", hub)
    # Same seed, same numbers.
    run_experiment(exp, tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(
        read_runs(tmp_path / "a", reproducible=True), read_runs(tmp_path / "b", reproducible=True)
    )


def test_spec_errors_name_the_problem(user: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sampler instance; name its class"):
        get_optimizer("spec_user:SAMPLER")
    with pytest.raises(ValueError, match="takes no `seed` argument"):
        get_optimizer("spec_user:Unseeded")
    with pytest.raises(ValueError, match="expected optunahub:PACKAGE@FOLDER"):
        get_optimizer("optunahub:samplers/annealing")
    with pytest.raises(ValueError, match="does not exist"):
        get_optimizer(f"optunahub:samplers/nope@{tmp_path / 'registry'}")
    with pytest.raises(ValueError, match="no sampler class 'Nope'"):
        get_optimizer(f"optunahub:samplers/annealing:Nope@{tmp_path / 'registry'}")
    with pytest.raises(ValueError, match="is the class spec_user.NotASampler, not an optimizer function"):
        get_optimizer("spec_user:NotASampler")  # a class that no plugin runs
    with pytest.raises(ValueError, match="cannot import"):
        get_optimizer("spec_user:no_such_sampler")


@pytest.mark.slow
def test_samplers_by_spec_through_ray_match_serial(user: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("ray")
    hub = user["hub"]
    exp = Experiment(
        benchmarks=["smm-mini-ps", "smm-mini-dfs"],
        optimizers=["optuna.samplers:QMCSampler", "spec_user:Perturb", hub],
        seeds=2,
        budget=10,
        options={"optuna.samplers:QMCSampler": {"scramble": True}},
    )
    env = {k: v for k, v in user.items() if k != "hub"}
    # The Ray workers import the user's module from PYTHONPATH, as on a cluster.
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env["PYTHONPATH"]
    try:
        ray_summary = run_experiment(exp, tmp_path / "ray", workers=2, progress=False)
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    assert (ray_summary.backend, ray_summary.done, ray_summary.failed) == ("ray", 12, 0), ray_summary.failures
    run_experiment(exp, tmp_path / "serial", workers=1, progress=False)
    pd.testing.assert_frame_equal(
        read_runs(tmp_path / "ray", reproducible=True), read_runs(tmp_path / "serial", reproducible=True)
    )


def test_cmaes_margin_searches_layer_choices_as_integers(tiny_dfs) -> None:
    from smm_plugins.compare.traced import TracedBenchmark

    space = tiny_dfs.space
    cat = space.is_categorical
    runs = {}
    for name in ("cmaes", "cmaes-margin"):
        traced = TracedBenchmark(tiny_dfs, "train_acc", budget=60)
        get_optimizer(name)(traced, 7, 60, objective="train_acc")
        runs[name] = traced.trace()[0]
    X = runs["cmaes-margin"]
    assert X.shape == (60, space.dim)
    # Every layer choice stays a valid code of its parameter, and it is CMA-ES's (not independent sampling):
    # the same seed gives other layer choices than the independent-sampling `cmaes`, the same on a rerun.
    codes = [set(p.codes) for p in space.parameters if p.kind != "float"]
    assert all(set(np.unique(X[:, i])) <= c for i, c in zip(np.flatnonzero(cat), codes, strict=True))
    assert not np.array_equal(X[:, cat], runs["cmaes"][:, cat])
    again = TracedBenchmark(tiny_dfs, "train_acc", budget=60)
    get_optimizer("cmaes-margin")(again, 7, 60, objective="train_acc")
    assert np.array_equal(again.trace()[0], X)
    assert "integers" in get_optimizer("cmaes-margin").description
