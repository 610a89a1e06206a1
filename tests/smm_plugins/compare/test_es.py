"""smm_plugins.compare.es: the (1+1)-ES is a registered optimiser, the one ``smm-bench validate`` runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from smm_plugins.compare.es import ES, one_plus_one_es
from smm_plugins.compare.optimizers import TracedBenchmark, get_optimizer
from smm_plugins.space import dfs_space
from smm_plugins.surrogate_tools.validate import run_optimizer
from smm_plugins.testing import SyntheticBenchmark


def test_es_is_registered_and_validate_runs_the_same_function() -> None:
    info = get_optimizer("es")
    assert info.fn is one_plus_one_es and info.framework == ES.framework and info.available
    bench = SyntheticBenchmark(dfs_space("toy-dfs", n_layers=3))
    traced = TracedBenchmark(bench, budget=40)
    info(traced, 6, 40)
    X, values, _ = traced.trace()
    trace = run_optimizer(bench, "es", 6, 40)
    np.testing.assert_array_equal(trace.X, X)
    np.testing.assert_array_equal(trace.values, values)
    bench.space.validate(X)  # categoricals resampled to valid codes, floats inside their bounds
    assert values.max() > values[0]  # it climbs from its random start
    with pytest.raises(ValueError, match="budget = 0 is not allowed"):
        one_plus_one_es(bench, 0, 0)


def test_smm_bench_compare_runs_es(tmp_path: Path) -> None:
    from smm_plugins.compare.runner import read_runs

    smm_bench = str(Path(sys.executable).with_name("smm-bench"))
    cmd = [smm_bench, "compare", "--benchmarks", "smm-mini-ps", "--optimizers", "es", "--seeds", "2"]
    cmd += ["--budget", "15", "--workers", "1", "--no-progress", "--out", str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    df = read_runs(tmp_path)
    assert set(df["optimizer"]) == {"es"} and len(df) == 2 * 15
    assert df["value"].between(0, 1).all()
