"""smm_plugins.compare.optimizers: unknown names, the registry's contents and name checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from smm_plugins.compare import optimizers as opt_mod
from smm_plugins.compare.experiment import Experiment
from smm_plugins.compare.optimizers import get_optimizer, register_optimizer
from smm_plugins.compare.runner import run_experiment


def test_unknown_optimizer_lists_known_names(toy_modules: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError) as err:
        get_optimizer("simulated-annealing")
    msg = str(err.value)
    assert "simulated-annealing" in msg and all(n in msg for n in ("random", "tpe", "cmaes", "sep-cmaes", "de"))
    exp = Experiment(benchmarks=["cmp_toy:ps"], optimizers=["random", "nope"], seeds=1, budget=3, workers=1)
    with pytest.raises(ValueError, match="unknown optimizer 'nope'"):
        run_experiment(exp, tmp_path, progress=False)
    assert not (tmp_path / "runs").exists()
    with pytest.raises(ValueError, match="module"):
        get_optimizer("no_such_module_xyz:fn")
    with pytest.raises(ValueError, match="unknown benchmark 'smm-nope'; known: .*smm-mini-ps"):
        run_experiment(exp.replace(benchmarks=["smm-nope"], optimizers=["random"]), tmp_path, progress=False)


def test_registry_contents_and_validation() -> None:
    # Every built-in optimiser is listed, or reported with the reason its plugin cannot load here.
    names = {i.name for i in opt_mod.list_optimizers()} | set(opt_mod.optimizer_plugin_errors())
    assert {
        "random",
        "tpe",
        "cmaes",
        "sep-cmaes",
        "qmc",
        "gp",
        "nsga2",
        "de",
        "es",
        "hpobench-random",
        "synetune-random",
        "synetune-rea",
        "synetune-kde",
        "synetune-bore",
    } <= names
    with pytest.raises(ValueError, match="already registered"):
        register_optimizer("random", lambda *a, **k: None, framework="x", description="x")
    with pytest.raises(ValueError, match="without spaces"):
        register_optimizer("my opt", lambda *a, **k: None, framework="x", description="x")
