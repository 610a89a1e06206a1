"""CARP-S task configs (Hydra YAML) for SMM-Bench benchmarks, generated from the benchmarks themselves.

Each benchmark gets a black-box task (full fidelity) and a multi-fidelity task (budget = ``n_problems``,
from the bottom of :func:`smm_plugins.fidelity.fidelity_ladder` to the full optimisation split), written
as ``<out>/task/SMM/{blackbox,multifidelity}/<name>.yaml`` in CARP-S's own layout. The shipped configs in
:data:`CONFIG_DIR` are made by ``python -m carps_ext.generate_tasks``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from smm_plugins._deps import require
from smm_plugins._io import atomic_write_text
from smm_plugins.benchmark import Benchmark
from smm_plugins.configspace import configuration_space
from smm_plugins.fidelity import fidelity_ladder
from smm_plugins.registry import BenchmarkNotInstalledError, benchmark_entry, list_benchmarks, load_benchmark
from smm_plugins.space import SearchSpace, dfs_space, ps_space

__all__ = ["BENCHMARK_ID", "CONFIG_DIR", "SEARCH_PATH", "default_n_trials", "task_config", "write_task_configs"]

#: CARP-S ``benchmark_id`` of every SMM-Bench task (the config group ``task/SMM``).
BENCHMARK_ID = "SMM"
#: The shipped configs (``task/SMM/...``): the folder to put on Hydra's search path.
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
#: Hydra search-path entry of the shipped configs, for ``hydra.searchpath=[...]``.
SEARCH_PATH = "pkg://carps_ext.configs"
_KINDS = ("blackbox", "multifidelity")


def default_n_trials(dimensions: int) -> int:
    """CARP-S's trial budget for a search space of ``dimensions`` (>= 1) variables: ``ceil(20 + 40 sqrt(d))``."""
    return math.ceil(20 + 40 * math.sqrt(dimensions))


def task_config(
    benchmark: str | os.PathLike[str], *, multifidelity: bool, n_trials: int | None = None
) -> dict[str, Any]:
    """The CARP-S task config (a dict, as in CARP-S's YAML files) of a registered name or surrogate directory.

    ``n_trials`` defaults to :func:`default_n_trials` of the space's dimension. An official benchmark
    that is not installed still gets its config (its space and split sizes are fixed by the paper).
    """
    spec = os.fspath(benchmark)
    space, n_full, approximation = _describe(spec)
    cs = configuration_space(space)
    kind = _KINDS[multifidelity]
    ladder = fidelity_ladder(n_full)
    n_cat = int(space.n_categorical)
    return {
        "benchmark_id": BENCHMARK_ID,
        "task_id": "${task.name}",
        "task": {
            "_target_": "carps.utils.task.Task",
            "name": f"smm/{kind}/{space.name}",
            "seed": "${seed}",
            "objective_function": {"_target_": "carps_ext.SMMObjectiveFunction", "benchmark": spec, "seed": "${seed}"},
            "input_space": {
                "_target_": "carps.utils.task.InputSpace",
                "configuration_space": {
                    "_target_": "ConfigSpace.configuration_space.ConfigurationSpace.from_serialized_dict",
                    "_convert_": "object",
                    "d": cs.to_serialized_dict(),
                },
                "fidelity_space": {
                    "_target_": "carps.utils.task.FidelitySpace",
                    "is_multifidelity": multifidelity,
                    "fidelity_type": "n_problems" if multifidelity else None,
                    "min_fidelity": ladder[0] if multifidelity else None,
                    "max_fidelity": n_full if multifidelity else None,
                },
                "instance_space": None,
            },
            "output_space": {"_target_": "carps.utils.task.OutputSpace", "n_objectives": 1, "objectives": ["error"]},
            "optimization_resources": {
                "_target_": "carps.utils.task.OptimizationResources",
                "n_trials": default_n_trials(space.dim) if n_trials is None else n_trials,
                "time_budget": None,
                "n_workers": 1,
            },
            "metadata": {
                "_target_": "carps.utils.task.TaskMetadata",
                "has_constraints": False,
                "domain": "model merging",
                "objective_function_approximation": approximation,
                "has_virtual_time": True,
                # Below the full split an accuracy is measured on a subset of problems: not deterministic.
                "deterministic": not multifidelity,
                "dimensions": space.dim,
                "search_space_n_categoricals": n_cat,
                "search_space_n_ordinals": 0,
                "search_space_n_integers": 0,
                "search_space_n_floats": space.dim - n_cat,
                "search_space_has_conditionals": bool(cs.conditions),
                "search_space_has_forbiddens": bool(cs.forbidden_clauses),
                "search_space_has_priors": False,
            },
        },
    }


def write_task_configs(
    out: str | os.PathLike[str] = CONFIG_DIR, benchmarks: list[str] | None = None, *, n_trials: int | None = None
) -> list[Path]:
    """Write a black-box and a multi-fidelity task config per benchmark (default: every registered one).

    Files go to ``<out>/task/SMM/<kind>/<label>.yaml`` (``label`` = the name, or a directory's base name),
    each written atomically; returns their paths. Put ``out`` on Hydra's search path to run them.
    """
    yaml = require("yaml", "carps", who="carps_ext.write_task_configs")
    paths = []
    for spec in list_benchmarks() if benchmarks is None else benchmarks:
        label = Path(spec).name if os.path.isdir(spec) else spec
        for multifidelity, kind in enumerate(_KINDS):
            cfg = task_config(spec, multifidelity=bool(multifidelity), n_trials=n_trials)
            path = Path(out) / "task" / BENCHMARK_ID / kind / f"{label}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            text = "# @package _global_\n# Generated by `python -m carps_ext.generate_tasks`; do not edit.\n"
            atomic_write_text(path, text + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
            paths.append(path)
    return paths


def _describe(spec: str) -> tuple[SearchSpace, int, str]:
    """(space, full optimisation-split size, CARP-S approximation kind) of a benchmark spec."""
    kind = benchmark_entry(spec).kind if spec in list_benchmarks() else "custom"
    try:
        bench = load_benchmark(spec)
    except BenchmarkNotInstalledError:
        if kind != "official":
            raise
        # The official spaces and splits are the paper's; the files are only needed to evaluate.
        space = ps_space() if spec.endswith("-ps") else dfs_space()
        return space, int(Benchmark.n_problems_full["train_acc"]), "surrogate"
    return bench.space, int(bench.n_problems_full["train_acc"]), "real" if kind == "true" else "surrogate"
