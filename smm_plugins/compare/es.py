"""A (1+1)-ES with the 1/5th success rule: the core's own local search, needing no HPO framework.

Registered as the optimiser ``es`` of ``smm-bench compare`` (entry point of group ``smm_plugins.optimizers``);
``smm-bench validate`` runs the same function.
"""

from __future__ import annotations

import numpy as np

from smm_plugins.benchmark import Benchmark
from smm_plugins.compare.optimizers import OptimizerInfo

__all__ = ["ES", "one_plus_one_es"]


def one_plus_one_es(benchmark: Benchmark, seed: int, budget: int, *, objective: str = "train_acc") -> None:
    """(1+1)-ES maximising ``objective`` with exactly ``budget`` evaluations of ``benchmark``.

    Gaussian steps on the continuous variables (step size by the 1/5th success rule, in units of each
    range, starting at 0.1 and kept in [0.001, 1]); each categorical is resampled to another of its
    choices with probability 1 / dim. Ties are accepted (the search moves across plateaus).
    """
    if budget < 1:
        raise ValueError(f"budget = {budget!r} is not allowed; allowed: an integer >= 1")
    space = benchmark.space
    rng = np.random.default_rng(seed)
    span = space.upper - space.lower
    cat = space.is_categorical
    choices = [np.asarray(p.choices or (0,), dtype=np.float64) for p in space.parameters]
    p_cat = 1.0 / space.dim
    sigma = 0.1
    x = space.sample(1, rng)[0]
    best = float(benchmark.evaluate(x, objective))
    for _ in range(budget - 1):
        step = np.clip(x + sigma * span * rng.standard_normal(space.dim), space.lower, space.upper)
        y = np.where(cat, x, step)
        for i in np.flatnonzero(cat & (rng.random(space.dim) < p_cat)):
            others = choices[i][choices[i] != x[i]]
            y[i] = rng.choice(others) if len(others) else x[i]
        v = float(benchmark.evaluate(y, objective))
        success = v >= best
        # 1/5th rule: sigma is stationary when one step in five succeeds.
        sigma = float(np.clip(sigma * (np.exp(0.2) if success else np.exp(-0.05)), 1e-3, 1.0))
        if success:
            x, best = y, v


#: The optimiser ``es`` (entry point ``es = "smm_plugins.compare.es:ES"``).
ES = OptimizerInfo(
    "es",
    one_plus_one_es,
    framework="numpy",
    description="(1+1)-ES with the 1/5th success rule (Gaussian steps, categoricals resampled with p = 1/dim)",
    cost_hint=0.05,
)
