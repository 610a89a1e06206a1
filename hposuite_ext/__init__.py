"""hposuite adapter: SMM-Bench benchmarks as ``hpoglue.BenchmarkDescription`` objects.

    import hposuite
    from hposuite_ext import benchmark_description
    study = hposuite.create_study(output_dir="hpo", name="smm", optimizers=["RandomSearch", "Optuna"],
                                  benchmarks=[benchmark_description("smm-mini-ps")], num_seeds=2, budget=50)
    study.optimize()

Needs hposuite: ``pip install "smm-plugins[hposuite]"``.
"""

from __future__ import annotations

from hposuite_ext.benchmark import COST, FIDELITY, METRIC, TEST_METRIC, benchmark_description

__all__ = ["COST", "FIDELITY", "METRIC", "TEST_METRIC", "benchmark_description"]
