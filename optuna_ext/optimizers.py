"""Optuna samplers as optimisers of ``smm-bench compare`` (a plugin of ``smm_plugins.compare.optimizers``).

Built-in names (entry points of group ``smm_plugins.optimizers``): ``random``, ``tpe``, ``cmaes``,
``cmaes-margin`` (CMA-ES with margin, searching contiguous integer categoricals such as the DFS layer
choices as integers), ``sep-cmaes``, ``qmc`` (scrambled Sobol), ``gp`` (needs torch), ``nsga2`` (on DFS
benchmarks the two-objective accuracy/hops problem, elsewhere the single objective). Each run is one in-memory study on
:class:`optuna_ext.Problem`, asked and told ``budget`` times.

:func:`resolve` (entry point of group ``smm_plugins.optimizer_resolvers``) accepts any other sampler:

* ``"package.module:SamplerClass"``: a subclass of ``optuna.samplers.BaseSampler``, e.g.
  ``"optuna.samplers:QMCSampler"`` or your own class;
* ``"optunahub:PACKAGE@FOLDER"`` or ``"optunahub:PACKAGE:SamplerClass@FOLDER"``: the sampler of an
  OptunaHub package in a local registry folder, loaded with ``optunahub.load_local_module(PACKAGE,
  registry_root=FOLDER)``, e.g. ``"optunahub:samplers/simulated_annealing@~/optunahub-registry/package"``.
  ``SamplerClass`` is needed only when the package exports several samplers.

The class is constructed once per run as ``SamplerClass(seed=run_seed, **options)``; options come from
``--option SPEC.KEY=VALUE`` or the experiment file's ``[options."SPEC"]``. A class whose ``__init__``
takes no ``seed`` is refused. A sampler known to ignore its seed (``QMCSampler`` without
``scramble=True``: the same sequence on every seed) gets a warning at start-up
(:meth:`SamplerOptimizer.ignored_seed_reason`).
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optuna_ext.problem import HopsProblem, Problem, optuna, optunahub
from smm_plugins._optuna import optuna_distributions
from smm_plugins.benchmark import Benchmark
from smm_plugins.cost import is_dfs_space
from smm_plugins.optimizer_api import OptimizerInfo, quiet_output

__all__ = [
    "CMAES",
    "CMAES_MARGIN",
    "GP",
    "NSGA2",
    "QMC",
    "RANDOM",
    "SEP_CMAES",
    "TPE",
    "HubSampler",
    "SamplerOptimizer",
    "resolve",
    "run_study",
]

#: Spec prefix of an OptunaHub package in a local registry folder.
HUB_PREFIX = "optunahub:"


def run_study(
    benchmark: Benchmark,
    sampler: Any,
    budget: int,
    objective: str,
    *,
    two_objective: bool = False,
    integer_categoricals: bool = False,
) -> None:
    """Ask and tell ``budget`` trials of ``sampler`` on ``benchmark`` in one in-memory study.

    ``two_objective``: the (accuracy, hops) problem of a DFS benchmark (:class:`optuna_ext.HopsProblem`).
    ``integer_categoricals``: categoricals with contiguous integer codes are asked as ``IntDistribution``
    (see :func:`smm_plugins._optuna.optuna_distributions`), so numeric samplers such as CMA-ES search them.
    """
    problem = HopsProblem(benchmark, objective=objective) if two_objective else Problem(benchmark, objective=objective)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with quiet_output():
        # In-memory storage: journal or SQLite storage costs more per trial than most samplers.
        study = optuna.create_study(directions=problem.directions, sampler=sampler)
        # Ask/tell with the problem's search space and evaluate(): the same trials as study.optimize(problem),
        # without the per-trial test_acc/cost user attributes (the runner adds test_acc afterwards).
        space = (
            optuna_distributions(benchmark.space, integer_categoricals=True)
            if integer_categoricals
            else problem.search_space
        )
        for _ in range(budget):
            if benchmark.space.conditional:  # define-by-run: only the active parameters (Problem.suggest)
                trial = study.ask()
                study.tell(trial, problem.evaluate(problem.suggest(trial, space)))
            else:
                trial = study.ask(space)
                study.tell(trial, problem.evaluate(trial.params))


@dataclass(frozen=True)
class HubSampler:
    """A sampler class of an OptunaHub package in a local registry folder, loaded once per process."""

    package: str
    registry_root: str
    class_name: str | None = None

    def load(self) -> type:
        """The sampler class (``ValueError`` if the package has none, or several and no ``class_name``)."""
        key = (self.registry_root, self.package)
        with _HUB_LOCK:
            if key not in _HUB_MODULES:
                try:
                    _HUB_MODULES[key] = optunahub.load_local_module(self.package, registry_root=self.registry_root)
                except (ImportError, OSError) as exc:
                    raise ValueError(
                        f"OptunaHub package {self.package!r} cannot be loaded from {self.registry_root!r}: {exc}"
                    ) from None
        return _pick_sampler_class(_HUB_MODULES[key], self.class_name, where=f"OptunaHub package {self.package!r}")


_HUB_MODULES: dict[tuple[str, str], Any] = {}
_HUB_LOCK = threading.Lock()


@dataclass(frozen=True)
class SamplerOptimizer:
    """An optimiser function running one Optuna sampler class: ``SamplerClass(seed=run_seed, **options)``."""

    sampler: type | HubSampler
    #: On DFS benchmarks optimise (accuracy, hops) with a two-objective study (NSGA-II's problem).
    two_objective_on_dfs: bool = False
    #: Ask contiguous integer categoricals as integers (see :func:`run_study`).
    integer_categoricals: bool = False

    def __call__(
        self, benchmark: Benchmark, seed: int, budget: int, *, objective: str = "train_acc", **options: Any
    ) -> None:
        cls = self.sampler.load() if isinstance(self.sampler, HubSampler) else self.sampler
        _check_takes_seed(cls)
        with quiet_output():  # experimental-feature warnings of some sampler arguments
            sampler = cls(seed=seed, **options)
        two = self.two_objective_on_dfs and objective == "train_acc" and is_dfs_space(benchmark.space)
        run_study(
            benchmark, sampler, budget, objective, two_objective=two, integer_categoricals=self.integer_categoricals
        )

    def ignored_seed_reason(self, options: Mapping[str, Any]) -> str | None:
        """Why runs of this sampler with ``options`` do not depend on the run seed (None if they do).

        The runner calls it at start-up and warns: such runs are the same on every seed, not replicates.
        """
        cls = self.sampler.load() if isinstance(self.sampler, HubSampler) else self.sampler
        return _ignored_seed_reason(cls, options)


def _ignored_seed_reason(cls: type, options: Mapping[str, Any]) -> str | None:
    if issubclass(cls, optuna.samplers.QMCSampler):
        # Optuna uses the seed only to scramble the sequence (QMCSampler's documentation).
        param = inspect.signature(cls).parameters.get("scramble")
        default = param.default if param is not None and param.default is not inspect.Parameter.empty else False
        if not options.get("scramble", default):
            return (
                f"{cls.__qualname__} without scramble=True draws the same low-discrepancy sequence for every seed; "
                "set the option scramble=true"
            )
    return None


def _check_takes_seed(cls: type) -> None:
    params = inspect.signature(cls).parameters
    if "seed" not in params and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        raise ValueError(
            f"sampler class {cls.__module__}.{cls.__qualname__} takes no `seed` argument: the run seed cannot "
            "be passed, so its runs would not be reproducible"
        )


def _pick_sampler_class(module: Any, class_name: str | None, *, where: str) -> type:
    base = optuna.samplers.BaseSampler
    if class_name is not None:
        cls = getattr(module, class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise ValueError(f"{where} has no sampler class {class_name!r}")
        return cls
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    found = sorted(
        {n for n in names if isinstance(getattr(module, n, None), type) and issubclass(getattr(module, n), base)}
    )
    if len(found) != 1:
        what = f"several sampler classes ({', '.join(found)}): name one" if found else "no sampler class"
        raise ValueError(f"{where} exports {what}, e.g. optunahub:PACKAGE:SamplerClass@FOLDER")
    return getattr(module, found[0])


def _info(name: str, sampler: type | HubSampler, description: str, **kw: Any) -> OptimizerInfo:
    two = kw.pop("two_objective_on_dfs", False)
    integer_categoricals = kw.pop("integer_categoricals", False)
    framework = "optunahub" if isinstance(sampler, HubSampler) else "optuna"
    requires = ("optuna", "optunahub") if isinstance(sampler, HubSampler) else ("optuna",)
    return OptimizerInfo(
        name,
        SamplerOptimizer(sampler, two_objective_on_dfs=two, integer_categoricals=integer_categoricals),
        framework=framework,
        description=description,
        requires=requires + tuple(kw.pop("requires", ())),
        cost_hint=kw.pop("cost_hint", 5.0),
        defaults=kw,
    )


# -- specs ------------------------------------------------------------------------------------------------


def resolve(spec: str) -> OptimizerInfo | None:
    """An optimiser for a sampler-class spec or an OptunaHub spec (see the module docstring); else None."""
    if spec.startswith(HUB_PREFIX):
        return _info(spec, _parse_hub_spec(spec), f"OptunaHub sampler {spec[len(HUB_PREFIX) :]}")
    if ":" not in spec:
        return None
    import pkgutil

    try:
        target = pkgutil.resolve_name(spec)
    except (ImportError, AttributeError, ValueError):
        return None  # not ours: the core reports the import error
    if isinstance(target, optuna.samplers.BaseSampler):
        raise ValueError(
            f"optimizer {spec!r} is a sampler instance; name its class instead (every run builds its own "
            "sampler with the run's seed)"
        )
    if isinstance(target, type) and issubclass(target, optuna.samplers.BaseSampler):
        _check_takes_seed(target)
        return _info(spec, target, f"Optuna sampler {target.__module__}.{target.__qualname__}")
    return None


def _parse_hub_spec(spec: str) -> HubSampler:
    body, at, root = spec[len(HUB_PREFIX) :].partition("@")
    package, _, class_name = body.partition(":")
    if not at or not root or not package:
        raise ValueError(
            f"optimizer {spec!r}: expected optunahub:PACKAGE@FOLDER (or optunahub:PACKAGE:SamplerClass@FOLDER), "
            "FOLDER being a local OptunaHub registry folder (the `package` folder of a registry checkout); "
            "comparisons load samplers from a local folder so that every run uses the same code"
        )
    folder = Path(os.path.expanduser(root)).resolve()
    if not (folder / package / "__init__.py").is_file():
        raise ValueError(f"optimizer {spec!r}: {folder / package / '__init__.py'} does not exist")
    hub = HubSampler(package.strip("/"), str(folder), class_name or None)
    hub.load()  # fail in the driver, before any run, for a package without a usable sampler
    return hub


# -- built-in optimisers (entry points) ------------------------------------------------------------------

_NO_WARN: Mapping[str, Any] = {"warn_independent_sampling": False}
# cost_hint: rough ms per trial measured on 64-95 dimensions, for scheduling only.
RANDOM = _info("random", optuna.samplers.RandomSampler, "uniform random sampling", cost_hint=4)
TPE = _info("tpe", optuna.samplers.TPESampler, "Tree-structured Parzen Estimator", cost_hint=50)
CMAES = _info(
    "cmaes",
    optuna.samplers.CmaEsSampler,
    "CMA-ES (categoricals sampled independently at random, as Optuna does)",
    cost_hint=20,
    **_NO_WARN,
)
CMAES_MARGIN = _info(
    "cmaes-margin",
    optuna.samplers.CmaEsSampler,
    "CMA-ES with margin; DFS layer choices searched as integers (the surrogate validation's CMA-ES)",
    cost_hint=20,
    integer_categoricals=True,
    with_margin=True,
    **_NO_WARN,
)
SEP_CMAES = _info(
    "sep-cmaes",
    optuna.samplers.CmaEsSampler,
    "separable CMA-ES (diagonal covariance)",
    cost_hint=5,
    use_separable_cma=True,
    **_NO_WARN,
)
QMC = _info(
    "qmc", optuna.samplers.QMCSampler, "scrambled Sobol quasi-Monte Carlo", cost_hint=4, scramble=True, **_NO_WARN
)
GP = _info(
    "gp",
    optuna.samplers.GPSampler,
    "Gaussian-process Bayesian optimisation (slow: ~0.5-2 s per trial)",
    cost_hint=1000,
    requires=("torch",),
    **_NO_WARN,  # a conditional space's parameters are sampled independently: not a warning per trial
)
NSGA2 = _info(
    "nsga2",
    optuna.samplers.NSGAIISampler,
    "NSGA-II; on DFS the two-objective (accuracy, hops) problem",
    cost_hint=6,
    two_objective_on_dfs=True,
    population_size=50,
)
