"""hposuite adapter: SMM-Bench benchmarks as ``hpoglue.BenchmarkDescription`` objects.

    import hposuite
    from hposuite_ext import benchmark_description
    study = hposuite.create_study(output_dir="hpo", name="smm", optimizers=["RandomSearch", "Optuna"],
                                  benchmarks=[benchmark_description("smm-mini-ps")], num_seeds=2, budget=50)
    study.optimize()  # hposuite minimises train_error = 1 - train_acc; results keep train_acc, test_acc, sim_seconds

Needs hposuite: ``pip install "smm-plugins[hposuite]"``.
"""

from __future__ import annotations

from hposuite_ext.benchmark import ACCURACY, COST, FIDELITY, METRIC, TEST_METRIC, VALUES, benchmark_description
from hposuite_ext.results import value_column

__all__ = ["ACCURACY", "COST", "FIDELITY", "METRIC", "TEST_METRIC", "VALUES", "benchmark_description", "value_column"]
