"""Optuna / OptunaHub adapter: any registered SMM-Bench benchmark as an OptunaHub benchmark problem.

    import optuna, optuna_ext
    problem = optuna_ext.Problem("smm-mini-ps")
    study = optuna.create_study(directions=problem.directions)
    study.optimize(problem, n_trials=20)

``HopsProblem("smm-mini-dfs")`` is multi-objective (maximise accuracy, minimise hops). The folder
``optuna_ext/optunahub_registry`` is ready for the OptunaHub registry (``REGISTRY_ROOT``, ``REGISTRY_PACKAGE``).
Needs Optuna and OptunaHub: ``pip install "smm-plugins[optuna]"``.
"""

from __future__ import annotations

from pathlib import Path

from optuna_ext.problem import HopsProblem, Problem, resolve, search_space

#: ``registry_root`` for ``optunahub.load_local_module`` (a checkout of this repository).
REGISTRY_ROOT: str = str(Path(__file__).resolve().parent / "optunahub_registry" / "package")
#: ``package`` for ``optunahub.load_local_module`` / ``optunahub.load_module``.
REGISTRY_PACKAGE: str = "benchmarks/smm_bench"

__all__ = ["HopsProblem", "Problem", "REGISTRY_PACKAGE", "REGISTRY_ROOT", "resolve", "search_space"]
