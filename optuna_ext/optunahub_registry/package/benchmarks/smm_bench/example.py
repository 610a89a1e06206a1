"""SMM-Bench through OptunaHub: TPE on the PS surrogate, NSGA-II on the DFS accuracy-hops trade-off.

Run it from a checkout to check this package (``test_local = True`` loads it from the registry folder
next to this file), or with ``test_local = False`` from the registry once it is published there.
Needs ``pip install "smm-plugins[optuna] @ git+https://github.com/<owner>/smm-plugins"`` (see README.md).
"""

from __future__ import annotations

from pathlib import Path

import optuna
import optunahub

package_name = "benchmarks/smm_bench"
repo_owner = "optuna"  # owner of the registry repository (a fork's owner to try a pull request)
ref = "main"
test_local = True

if test_local:
    # This file sits in <registry root>/benchmarks/smm_bench/.
    registry_root = str(Path(__file__).resolve().parents[2])
    smm_bench = optunahub.load_local_module(package=package_name, registry_root=registry_root)
else:
    smm_bench = optunahub.load_module(package=package_name, repo_owner=repo_owner, ref=ref)

optuna.logging.set_verbosity(optuna.logging.WARNING)

problem = smm_bench.Problem("smm-mini-ps")
study = optuna.create_study(directions=problem.directions, sampler=optuna.samplers.TPESampler(seed=0))
study.optimize(problem, n_trials=30)
print(f"PS, TPE: best train_acc {study.best_value:.4f}, its test_acc {study.best_trial.user_attrs['test_acc']:.4f}")

hops = smm_bench.HopsProblem("smm-mini-dfs")
study = optuna.create_study(directions=hops.directions, sampler=optuna.samplers.NSGAIISampler(seed=0))
study.optimize(hops, n_trials=30)
front = sorted((t.values[1], t.values[0]) for t in study.best_trials)
print("DFS, NSGA-II Pareto front (hops, train_acc):", ", ".join(f"({h:.0f}, {a:.4f})" for h, a in front))
