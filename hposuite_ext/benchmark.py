"""An SMM-Bench benchmark described for hpoglue / hposuite: metrics, test metric, cost and fidelity."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import numpy as np

from smm_plugins._deps import require
from smm_plugins.benchmark import Benchmark
from smm_plugins.configspace import configuration_space
from smm_plugins.fidelity import fidelity_range, fidelity_to_n_problems
from smm_plugins.registry import load_benchmark
from smm_plugins.surrogate import BIBTEX

hpoglue = require("hpoglue", "hposuite", who="hposuite_ext")

from hpoglue import BenchmarkDescription, Config, Measure, Query, Result, SurrogateBenchmark  # noqa: E402
from hpoglue.fidelity import RangeFidelity  # noqa: E402

from hposuite_ext.results import RESULT_VALUES, keep_values_in_results  # noqa: E402

__all__ = ["ACCURACY", "COST", "FIDELITY", "METRIC", "TEST_METRIC", "VALUES", "benchmark_description"]

#: Metric optimised: error on the optimisation split, ``1 - train_acc`` (minimised), in [0, 1]. Minimised
#: because hposuite 0.1.3's Optuna wrapper minimises a metric declared as maximised (it creates a
#: "maximize" study and then tells it the negated value); a minimised metric every optimiser reads one way.
METRIC = "train_error"
#: Accuracy on the optimisation split, in [0, 1]: ``1 - train_error``, in every result and results file.
ACCURACY = "train_acc"
#: Test metric: accuracy on the held-out split, always at full size.
TEST_METRIC = "test_acc"
#: Cost: simulated seconds of the real evaluation (:meth:`Benchmark.cost`).
COST = "sim_seconds"
#: Fidelity: evaluation size (problems of the optimisation split).
FIDELITY = "n_problems"
#: Every value a query returns; hposuite's results files keep them all (``result.values.<name>``).
VALUES = (METRIC, ACCURACY, TEST_METRIC, COST)


def benchmark_description(
    benchmark: str | os.PathLike[str] | Benchmark,
    *,
    name: str | None = None,
    subset_seed: int = 0,
    conditions: bool = True,
) -> BenchmarkDescription:
    """The ``hpoglue.BenchmarkDescription`` of a registered name, a surrogate directory or a Benchmark.

    Metric ``train_error`` = 1 - ``train_acc`` (minimised, so that every hposuite optimiser improves the
    accuracy) and test metric ``test_acc``, in [0, 1]; cost ``sim_seconds``; each query also returns
    ``train_acc``, and hposuite's results files keep all four (:mod:`hposuite_ext.results`);
    fidelity ``n_problems`` in :func:`~smm_plugins.fidelity.fidelity_range` (the ladder's bottom to the full
    split, the default, deterministic), checked by :func:`~smm_plugins.fidelity.fidelity_to_n_problems` as
    in every adapter (another fidelity name is an error; 111.0 is 111). Below full, the accuracy is the one
    on the fixed subset of problems chosen by ``subset_seed``. ``name`` (default: the benchmark's) is what
    hposuite files results under. ``conditions=False`` describes a conditional space (``smm-mini-op-true``)
    flat, for hposuite optimisers that refuse conditions (its Optuna wrapper): all parameters are then
    sampled and the objective ignores the inactive ones.
    """
    bench = benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark)
    full = int(bench.n_problems_full["train_acc"])
    cs = configuration_space(bench.space, conditions=conditions)
    return BenchmarkDescription(
        name=name or bench.name,
        config_space=cs,
        load=partial(_load, benchmark=bench, subset_seed=subset_seed),
        metrics={METRIC: Measure.metric((0.0, 1.0), minimize=True)},
        test_metrics={TEST_METRIC: Measure.metric((0.0, 1.0), minimize=False)},
        costs={COST: Measure.cost((0.0, np.inf), minimize=True)},
        fidelities={FIDELITY: RangeFidelity.from_tuple((*fidelity_range(full), 1), supports_continuation=False)},
        predefined_points={
            "default": Config(
                config_id="default",
                description="the search space's default configuration",
                values=bench.space.default_config() if conditions else _flat_default(bench),
            )
        },
        extra={
            "source": dict(getattr(bench, "meta", None) or {}).get("source"),
            "citation": BIBTEX,
            "dimensions": bench.space.dim,
            "n_problems_full": full,
            RESULT_VALUES: list(VALUES),
        },
    )


def _flat_default(bench: Benchmark) -> dict[str, Any]:
    # A flat space's configuration holds every parameter (categoricals by label, as the space declares them).
    return {p.name: p.label(int(p.default)) if p.kind == "categorical" else p.default for p in bench.space.parameters}


def _load(description: BenchmarkDescription, *, benchmark: Benchmark, subset_seed: int) -> SurrogateBenchmark:
    keep_values_in_results()  # hposuite loads the benchmark in the process that writes the run's file
    return SurrogateBenchmark(
        desc=description,
        config_space=description.config_space,
        benchmark=benchmark,
        query=partial(_query, benchmark=benchmark, subset_seed=subset_seed),
    )


def _query(query: Query, *, benchmark: Benchmark, subset_seed: int) -> Result:
    x = benchmark.space.to_vector(dict(query.config.values or {}))
    # hpoglue passes None, ("n_problems", value) or {"n_problems": value}: the core's contract decides
    # (another name, e.g. ("epochs", 10), is an error, never 10 problems).
    n = fidelity_to_n_problems(query.fidelity, int(benchmark.n_problems_full["train_acc"]))
    values: dict[str, Any] = {
        ACCURACY: float(benchmark.evaluate(x, "train_acc", n_problems=n, seed=subset_seed)),
        TEST_METRIC: float(benchmark.evaluate(x, "test_acc")),
        COST: float(benchmark.cost(x, "train_acc", n)),
    }
    values[METRIC] = 1.0 - values[ACCURACY]
    return Result(query=query, fidelity=query.fidelity, values=values)
