"""Optimisers of the comparison runner, and the hook to register your own.

An optimiser is a function ``fn(benchmark, seed, budget, *, objective="train_acc", **options) -> None``.
``benchmark`` is a :class:`TracedBenchmark`: a :class:`~smm_plugins.benchmark.Benchmark` that records
every evaluation of ``objective`` (configuration, value, wall-clock time). The optimiser only has to make
``budget`` evaluations through it, directly or through a framework adapter that is handed the traced
benchmark; the runner turns the trace into one row per evaluation (test accuracy of the same
configuration and simulated time are added afterwards, out of the optimiser's sight). Evaluations
beyond ``budget`` are not recorded, and an evaluation started after the budget is used up raises
:class:`BudgetExhausted`, which the runner treats as normal termination.

Register your own with :func:`register_optimizer`, or name it ``"package.module:function"`` on the
command line (the module is imported wherever the run executes, Ray workers included).

Built-in optimisers, each driving the benchmark through its framework's native adapter:

* Optuna (``optuna_ext.Problem``, one in-memory study per run, ask/tell): ``random``, ``tpe``, ``cmaes``,
  ``sep-cmaes``, ``qmc`` (scrambled Sobol), ``gp`` (needs torch), ``nsga2`` (on DFS benchmarks: the
  two-objective accuracy/hops problem; elsewhere the single objective).
* Syne Tune (simulated tuning of a ``synetune_ext`` blackbox): ``synetune-random``, ``synetune-rea``,
  ``synetune-kde`` (alias ``synetune-tpe``), ``synetune-bore``.
* HPOBench: ``hpobench-random``, ConfigSpace random search through ``hpobench_ext.get_benchmark``.
* ``de``: differential evolution, :func:`scipy.optimize.differential_evolution` on the canonical search
  space (DE/rand/1/bin, population 20, categoricals as integer codes, whole generations evaluated as one
  batch), restarted until the budget is used and stopped exactly at the budget.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smm_plugins._deps import available, require
from smm_plugins.benchmark import Benchmark

__all__ = [
    "BudgetExhausted",
    "OptimizerFn",
    "OptimizerInfo",
    "TracedBenchmark",
    "get_optimizer",
    "list_optimizers",
    "register_optimizer",
]

logger = logging.getLogger(__name__)

#: ``fn(benchmark, seed, budget, *, objective, **options) -> None``: see the module docstring.
OptimizerFn = Callable[..., Any]


class BudgetExhausted(RuntimeError):
    """Raised by :class:`TracedBenchmark` when an evaluation starts after the budget is used up."""


class TracedBenchmark(Benchmark):
    """A benchmark that records every evaluation of one objective (what an optimiser sees).

    Everything else (other objectives, attributes such as ``cost``) is delegated to the wrapped
    benchmark unchanged, so framework adapters can be handed this object instead of the original.
    """

    def __init__(self, inner: Benchmark, objective: str = "train_acc", budget: int | None = None) -> None:
        self._inner = inner
        self.name = inner.name
        self.space = inner.space
        self.objectives = tuple(inner.objectives)
        self.n_problems_full = inner.n_problems_full
        self.cost_model = getattr(inner, "cost_model", None)
        self.traced_objective = objective
        self.budget = budget
        self._rows: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._times: list[np.ndarray] = []
        self._n = 0
        #: Seconds spent inside the wrapped benchmark's evaluate (any objective): the surrogate's share.
        self.surrogate_seconds = 0.0
        self._t0 = time.perf_counter()

    # Anything the core benchmark offers beyond the contract (cost, hops, engine, ...) stays reachable.
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)

    @property
    def inner(self) -> Benchmark:
        """The wrapped (untraced) benchmark."""
        return self._inner

    @property
    def n_evaluations(self) -> int:
        """Evaluations recorded so far (never more than the budget)."""
        return self._n

    @property
    def remaining(self) -> int | None:
        """Evaluations left in the budget (None without a budget)."""
        return None if self.budget is None else max(0, self.budget - self._n)

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        return self._inner._predict(X, objective)

    def evaluate(self, X: Any, objective: str = "train_acc", **kwargs: Any) -> float | np.ndarray:
        """Evaluate through the wrapped benchmark and record the call if it is the traced objective."""
        if objective != self.traced_objective:
            t = time.perf_counter()
            y = self._inner.evaluate(X, objective, **kwargs)
            self.surrogate_seconds += time.perf_counter() - t
            return y
        if self.budget is not None and self._n >= self.budget:
            raise BudgetExhausted(f"the budget of {self.budget} evaluations is used up")
        t = time.perf_counter()
        y = self._inner.evaluate(X, objective, **kwargs)
        self.surrogate_seconds += time.perf_counter() - t
        # Record what was evaluated: with clip=True that is the clipped configuration.
        self.record(self.space.clip(X) if kwargs.get("clip") else X, y)
        return y

    def record(self, X: Any, values: Any) -> None:
        """Record evaluations made out of this object's sight (e.g. by an adapter that loads its own copy).

        ``X``: one configuration (1-D, model-input order) or a batch; ``values``: the objective value(s).
        Rows beyond the budget are dropped.
        """
        rows = np.array(X, dtype=np.float64, ndmin=2)
        vals = np.array(values, dtype=np.float64, ndmin=1).reshape(-1)
        if rows.shape[0] != vals.shape[0]:
            raise ValueError(f"record got {rows.shape[0]} configurations but {vals.shape[0]} values")
        if self.budget is not None:
            keep = max(0, self.budget - self._n)
            rows, vals = rows[:keep], vals[:keep]
        if not len(vals):
            return
        self._rows.append(rows)
        self._values.append(vals)
        self._times.append(np.full(len(vals), time.perf_counter() - self._t0))
        self._n += len(vals)

    def trace(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, values, wall_seconds)`` of the recorded evaluations, in order."""
        if not self._n:
            return np.empty((0, self.space.dim)), np.empty(0), np.empty(0)
        return np.vstack(self._rows), np.concatenate(self._values), np.concatenate(self._times)


@dataclass(frozen=True)
class OptimizerInfo:
    """A registered optimiser."""

    name: str
    fn: OptimizerFn
    framework: str
    description: str
    requires: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: Rough milliseconds of the optimiser's own work per trial; Ray starts the slowest runs first.
    cost_hint: float = 5.0

    @property
    def available(self) -> bool:
        """True if every module it needs can be imported here."""
        return all(available(m) for m in self.requires)

    def __call__(
        self, benchmark: Benchmark, seed: int, budget: int, *, objective: str = "train_acc", **options: Any
    ) -> Any:
        return self.fn(benchmark, seed, budget, objective=objective, **{**self.defaults, **options})


_REGISTRY: dict[str, OptimizerInfo] = {}


def register_optimizer(
    name: str,
    fn: OptimizerFn,
    *,
    framework: str,
    description: str,
    requires: Sequence[str] = (),
    overwrite: bool = False,
    cost_hint: float = 5.0,
    **defaults: Any,
) -> OptimizerInfo:
    """Register optimiser ``fn`` under ``name`` (see the module docstring for its signature).

    ``requires``: modules it imports (for ``smm-bench compare --list-optimizers``); ``cost_hint``: rough
    milliseconds of its own work per trial (the Ray runner starts slow runs first so that no long run is
    left alone at the end); ``defaults``: keyword options passed to ``fn`` unless the experiment overrides
    them. Registering an existing name raises unless ``overwrite=True``.
    """
    if not isinstance(name, str) or not name or any(c in name for c in " ,/:") or name.startswith("_"):
        raise ValueError(f"optimizer name {name!r} must be a non-empty string without spaces, ',', '/' or ':'")
    if not callable(fn):
        raise TypeError(f"optimizer {name!r}: fn must be callable, got {type(fn).__name__}")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"optimizer {name!r} is already registered (pass overwrite=True to replace it)")
    info = OptimizerInfo(name, fn, framework, description, tuple(requires), dict(defaults), float(cost_hint))
    _REGISTRY[name] = info
    return info


def list_optimizers(*, only_available: bool = False) -> list[OptimizerInfo]:
    """Registered optimisers, sorted by framework then name."""
    infos = sorted(_REGISTRY.values(), key=lambda i: (i.framework, i.name))
    return [i for i in infos if i.available] if only_available else infos


def get_optimizer(name: str) -> OptimizerInfo:
    """The optimiser registered as ``name``, or ``"module:function"`` imported on the spot.

    Raises ``ValueError`` listing the known names for an unknown one.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    if isinstance(name, str) and ":" in name:
        module, _, attr = name.partition(":")
        try:
            fn = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"optimizer {name!r}: cannot import {attr!r} from module {module!r} ({exc})") from None
        return OptimizerInfo(name, fn, "user", f"{module}.{attr}")
    known = ", ".join(sorted(_REGISTRY))
    raise ValueError(
        f"unknown optimizer {name!r}; known: {known}; or give 'package.module:function' "
        "(see smm_plugins.compare.optimizers.register_optimizer)"
    )


# -- helpers -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # Frameworks print and warn per trial; a comparison of thousands of trials must stay readable.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(io.StringIO()):
            yield


def _is_dfs(benchmark: Benchmark) -> bool:
    from smm_plugins.cost import is_dfs_space

    return is_dfs_space(benchmark.space)


# -- Optuna ---------------------------------------------------------------------------------------


def _optuna_problem(benchmark: Benchmark, objective: str, multi_objective: bool = False) -> Any:
    optuna_ext = require("optuna_ext", "optuna", who="the Optuna optimisers")
    if multi_objective:
        return optuna_ext.HopsProblem(benchmark, objective=objective)  # (accuracy max, hops min)
    return optuna_ext.Problem(benchmark, objective=objective)


def _optuna_run(
    benchmark: Benchmark,
    seed: int,
    budget: int,
    objective: str,
    make_sampler: Callable[[Any, int], Any],
    multi_objective: bool = False,
) -> None:
    optuna = require("optuna", "optuna", who="the Optuna optimisers")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = _optuna_problem(benchmark, objective, multi_objective)
    with _quiet():
        sampler = make_sampler(optuna, seed)
        # In-memory storage: journal/SQLite cost 40-180 ms per trial (frameworks.md), more than the sampler.
        study = optuna.create_study(directions=problem.directions, sampler=sampler)
        # Ask/tell with the problem's search space and evaluate(): the same trials as
        # study.optimize(problem), without the per-trial test_acc/cost user attributes that
        # Problem.__call__ adds (the runner computes test_acc for all configurations afterwards).
        space = problem.search_space
        for _ in range(budget):
            trial = study.ask(space)
            study.tell(trial, problem.evaluate(trial.params))


def _sampler_opt(name: str, factory: Callable[[Any, int, dict[str, Any]], Any]) -> OptimizerFn:
    def run(benchmark: Benchmark, seed: int, budget: int, *, objective: str = "train_acc", **options: Any) -> None:
        _optuna_run(benchmark, seed, budget, objective, lambda optuna, s: factory(optuna, s, options))

    run.__name__ = f"optuna_{name.replace('-', '_')}"
    run.__doc__ = f"Optuna {name} on optuna_ext.Problem (one in-memory study)."
    return run


def _nsga2(
    benchmark: Benchmark,
    seed: int,
    budget: int,
    *,
    objective: str = "train_acc",
    population_size: int = 50,
    **options: Any,
) -> None:
    """NSGA-II: two objectives (accuracy, hops) on DFS benchmarks, the single objective elsewhere."""
    multi = _is_dfs(benchmark) and objective == "train_acc"
    _optuna_run(
        benchmark,
        seed,
        budget,
        objective,
        lambda optuna, s: optuna.samplers.NSGAIISampler(seed=s, population_size=population_size, **options),
        multi_objective=multi,
    )


# -- Syne Tune ------------------------------------------------------------------------------------


def _synetune_opt(scheduler: str) -> OptimizerFn:
    def run(benchmark: Benchmark, seed: int, budget: int, *, objective: str = "train_acc", **options: Any) -> None:
        synetune_ext = require("synetune_ext", "synetune", who="the Syne Tune optimisers")
        # One simulated worker, stopped after `budget` finished trials; the helper seeds the global numpy
        # generator that RandomSearch draws from (frameworks.md) and silences the tuner.
        with _quiet():
            synetune_ext.run_simulated_tuning(
                benchmark, scheduler, max_trials=budget, seed=seed, metric=objective, scheduler_kwargs=options or None
            )

    run.__name__ = f"synetune_{scheduler.lower()}"
    run.__doc__ = f"Syne Tune {scheduler} on a synetune_ext blackbox, simulated tuning with one worker."
    return run


# -- HPOBench -------------------------------------------------------------------------------------


def _hpobench_random(benchmark: Benchmark, seed: int, budget: int, *, objective: str = "train_acc") -> None:
    """Random search: ConfigSpace samples evaluated through the HPOBench ``objective_function``."""
    if objective != "train_acc":
        raise ValueError(f"hpobench-random optimises train_acc only (HPOBench's function_value), not {objective!r}")
    hpobench_ext = require("hpobench_ext", "hpobench", who="the HPOBench optimiser")
    # Handed the instance itself, the adapter evaluates this (traced, budgeted) benchmark.
    hb = hpobench_ext.get_benchmark(benchmark, rng=seed)
    cs = hb.get_configuration_space(seed)
    with _quiet():
        for _ in range(budget):
            hb.objective_function(dict(cs.sample_configuration()))


# -- differential evolution ----------------------------------------------------------------------


def _de(
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
    from scipy.optimize import differential_evolution

    if population_size < 5:
        raise ValueError(f"population_size = {population_size!r} is not allowed; allowed: an integer >= 5")
    space = benchmark.space
    is_cat = space.is_categorical
    choices = [np.asarray(p.choices, dtype=np.float64) if p.kind == "categorical" else None for p in space.parameters]
    lo = np.where(is_cat, 0.0, space.lower)
    hi = np.where(is_cat, [len(c) - 1 if c is not None else 0 for c in choices], space.upper).astype(np.float64)
    rng = np.random.default_rng(seed)

    def to_rows(Z: np.ndarray) -> np.ndarray:
        X = Z.copy()
        for j in np.flatnonzero(is_cat):
            X[:, j] = choices[j][np.clip(np.rint(Z[:, j]), 0, len(choices[j]) - 1).astype(int)]
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
            differential_evolution(
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


# -- registration ---------------------------------------------------------------------------------


def _register_builtins() -> None:
    opt = ("optuna", "optuna_ext")
    samplers: dict[str, tuple[Callable[[Any, int, dict[str, Any]], Any], str]] = {
        "random": (lambda o, s, kw: o.samplers.RandomSampler(seed=s, **kw), "uniform random sampling"),
        "tpe": (lambda o, s, kw: o.samplers.TPESampler(seed=s, **kw), "Tree-structured Parzen Estimator"),
        "cmaes": (
            lambda o, s, kw: o.samplers.CmaEsSampler(seed=s, **{"warn_independent_sampling": False, **kw}),
            "CMA-ES (categoricals sampled independently at random, as Optuna does)",
        ),
        "sep-cmaes": (
            lambda o, s, kw: o.samplers.CmaEsSampler(
                seed=s, use_separable_cma=True, **{"warn_independent_sampling": False, **kw}
            ),
            "separable CMA-ES (diagonal covariance)",
        ),
        "qmc": (
            lambda o, s, kw: o.samplers.QMCSampler(seed=s, scramble=True, **{"warn_independent_sampling": False, **kw}),
            "scrambled Sobol quasi-Monte Carlo",
        ),
        "gp": (
            lambda o, s, kw: o.samplers.GPSampler(seed=s, **kw),
            "Gaussian-process Bayesian optimisation (slow: ~0.5-2 s per trial)",
        ),
    }
    # Per-trial milliseconds measured here (frameworks.md), for scheduling only.
    hints = {"random": 4, "tpe": 50, "cmaes": 20, "sep-cmaes": 5, "qmc": 4, "gp": 1000}
    for name, (factory, desc) in samplers.items():
        req = opt + (("torch",) if name == "gp" else ())
        register_optimizer(
            name, _sampler_opt(name, factory), framework="optuna", description=desc, requires=req, cost_hint=hints[name]
        )
    register_optimizer(
        "nsga2",
        _nsga2,
        framework="optuna",
        requires=opt,
        cost_hint=6,
        description="NSGA-II; on DFS the two-objective (accuracy, hops) problem",
    )
    st = ("syne_tune", "synetune_ext")
    for name, sched, desc, hint in [
        ("synetune-random", "RandomSearch", "random search", 5),
        ("synetune-rea", "REA", "regularized evolution", 5),
        ("synetune-kde", "TPE", "kernel-density TPE", 15),
        ("synetune-tpe", "TPE", "alias of synetune-kde", 15),
        ("synetune-bore", "BORE", "Bayesian optimisation by density-ratio estimation (slow)", 300),
    ]:
        register_optimizer(
            name, _synetune_opt(sched), framework="syne-tune", description=desc, requires=st, cost_hint=hint
        )
    register_optimizer(
        "hpobench-random",
        _hpobench_random,
        framework="hpobench",
        description="ConfigSpace random search through the HPOBench interface",
        requires=("ConfigSpace", "hpobench_ext"),
        cost_hint=3,
    )
    register_optimizer(
        "de",
        _de,
        framework="scipy",
        requires=("scipy",),
        cost_hint=0.5,
        description="differential evolution (scipy, DE/rand/1/bin, population 20)",
    )


_register_builtins()
