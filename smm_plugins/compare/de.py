"""Differential evolution (scipy): the core's own optimiser, needing no HPO framework."""

from __future__ import annotations

import numpy as np

from smm_plugins.benchmark import Benchmark
from smm_plugins.compare.traced import BudgetExhausted

__all__ = ["differential_evolution"]


def differential_evolution(
    benchmark: Benchmark,
    seed: int,
    budget: int,
    *,
    objective: str = "train_acc",
    population_size: int = 20,
    mutation: tuple[float, float] | float = (0.5, 1.0),
    recombination: float = 0.7,
    strategy: str = "rand1bin",
) -> None:
    """Differential evolution (scipy) on the canonical space with an exact evaluation budget.

    Categorical variables are optimised as integer indices into their choices. scipy evaluates a whole
    generation as one batch (``vectorized=True``, ``updating="deferred"``: classic generational DE).
    scipy stops early once the population has converged; DE then restarts from a fresh population until
    the budget is used, and the evaluation that would exceed it raises :class:`BudgetExhausted`.
    """
    from scipy.optimize import differential_evolution as scipy_de

    if population_size < 5:
        raise ValueError(f"population_size = {population_size!r} is not allowed; allowed: an integer >= 5")
    space = benchmark.space
    is_cat = space.is_categorical
    # Categorical column -> its choices; DE searches the index into them.
    choices = {
        j: np.asarray(p.choices, dtype=np.float64) for j, p in enumerate(space.parameters) if p.kind == "categorical"
    }
    lo = np.where(is_cat, 0.0, space.lower)
    hi = np.array([len(choices[j]) - 1 if j in choices else u for j, u in enumerate(space.upper)], dtype=np.float64)
    rng = np.random.default_rng(seed)

    def to_rows(Z: np.ndarray) -> np.ndarray:
        X = Z.copy()
        for j, c in choices.items():
            X[:, j] = c[np.clip(np.rint(Z[:, j]), 0, len(c) - 1).astype(int)]
        return X

    used = 0  # DE counts its own budget, so it stops on any Benchmark, traced or not

    def negated(Zt: np.ndarray) -> np.ndarray:
        nonlocal used
        X = to_rows(np.atleast_2d(Zt.T))
        remaining = budget - used
        if remaining < len(X):
            if remaining:
                benchmark.evaluate(X[:remaining], objective)
                used = budget
            raise BudgetExhausted("budget reached inside a generation")
        used += len(X)
        return -np.asarray(benchmark.evaluate(X, objective), dtype=np.float64)

    try:
        while True:
            init = rng.uniform(lo, hi, size=(population_size, space.dim))
            scipy_de(
                negated,
                list(zip(lo, hi, strict=True)),
                strategy=strategy,
                maxiter=10**9,
                tol=0.0,
                atol=0.0,
                mutation=mutation,
                recombination=recombination,
                rng=int(rng.integers(2**32)),
                polish=False,
                init=init,
                updating="deferred",
                vectorized=True,
                integrality=is_cat,
            )
            # Converged before the budget: restart from a fresh population.
    except BudgetExhausted:
        if used < budget:  # raised by a traced benchmark's own (smaller) budget: let the runner see it
            raise
