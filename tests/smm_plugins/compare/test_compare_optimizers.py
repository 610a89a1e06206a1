"""Every built-in optimiser of smm_plugins.compare: exact budget through its framework's adapter, values in
range, and the same values on a second run with the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins.benchmark import Benchmark
from smm_plugins.compare.optimizers import TracedBenchmark, get_optimizer, list_optimizers
from smm_plugins.space import dfs_space, ps_space
from smm_plugins.testing import synthetic_accuracy


class _Toy(Benchmark):
    def __init__(self, space):
        self.space, self.name = space, space.name

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        return synthetic_accuracy(self.space, X, objective)


BENCHES = {"ps": _Toy(ps_space("toy-ps", n_layers=5)), "dfs": _Toy(dfs_space("toy-dfs", n_layers=4))}
SLOW = {"gp", "synetune-bore"}  # seconds per run: checked once, not twice


def _run(name: str, bench: Benchmark, seed: int, budget: int) -> tuple[np.ndarray, np.ndarray]:
    traced = TracedBenchmark(bench, budget=budget)
    try:
        get_optimizer(name)(traced, seed, budget)
    except Exception as exc:
        from smm_plugins.compare.traced import BudgetExhausted, caused_by

        if not (caused_by(exc, BudgetExhausted) and traced.n_evaluations >= budget):
            raise
    X, v, _ = traced.trace()
    return X, v


@pytest.mark.slow
@pytest.mark.parametrize("space", sorted(BENCHES))
@pytest.mark.parametrize("name", sorted(i.name for i in list_optimizers() if i.name != "synetune-tpe"))
def test_builtin_optimizer(name: str, space: str) -> None:
    info = get_optimizer(name)
    if not info.available:
        pytest.skip(f"{name} needs {info.requires}")
    bench = BENCHES[space]
    budget = 8 if name in SLOW else 13
    X, v = _run(name, bench, 3, budget)
    assert X.shape == (budget, bench.space.dim) and v.shape == (budget,)
    assert np.all((v >= 0) & (v <= 1))
    bench.space.validate(X)  # every evaluated configuration is a valid one
    assert len({tuple(r) for r in X}) > budget // 2  # it explores
    if name not in SLOW:
        X2, v2 = _run(name, bench, 3, budget)
        np.testing.assert_array_equal(X, X2)
        np.testing.assert_array_equal(v, v2)


def test_de_keeps_its_budget_on_a_plain_benchmark() -> None:
    # Outside the runner nothing else stops scipy's DE (tol=0, huge maxiter): it must count itself.
    from smm_plugins import ps_space
    from smm_plugins.compare.de import differential_evolution
    from smm_plugins.testing import SyntheticBenchmark

    calls: list[int] = []

    class Counting(SyntheticBenchmark):
        def _predict(self, X, objective):
            calls.append(len(X))
            return super()._predict(X, objective)

    differential_evolution(Counting(ps_space("de-budget")), seed=0, budget=50)
    assert sum(calls) == 50
