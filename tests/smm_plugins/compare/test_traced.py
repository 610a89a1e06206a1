"""smm_plugins.compare.traced: the traced benchmark records evaluations and enforces the budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smm_plugins.compare import optimizers as opt_mod
from smm_plugins.compare.optimizers import TracedBenchmark


def test_traced_benchmark_records_and_caps(toy_modules: Path) -> None:
    import cmp_toy

    bench = cmp_toy.ps()
    t = TracedBenchmark(bench, budget=3)
    X = bench.space.sample(2, 0)
    assert np.allclose(t.evaluate(X), bench.evaluate(X))
    t.evaluate(bench.space.sample(2, 1))  # crosses the budget: only one row is recorded
    t.evaluate(X, "test_acc")  # another objective: not traced, not capped
    Xr, v, w = t.trace()
    assert Xr.shape == (3, bench.space.dim) and v.shape == (3,) and np.all(np.diff(w) >= 0)
    with pytest.raises(opt_mod.BudgetExhausted):
        t.evaluate(X[0])
    assert t.cost(X).shape == (2,)  # attributes of the wrapped benchmark stay reachable
