"""SMM-Bench benchmarks as HPOBench benchmarks: one class per registered benchmark.

``function_value`` is ``1 - accuracy`` (HPOBench minimises); ``cost`` is the simulated seconds of one
real evaluation (:mod:`smm_plugins.cost`); the fidelity is ``n_problems``, the evaluation size, whose
default is the full optimisation split (the paper's deterministic accuracy).
"""

from __future__ import annotations

import functools
import importlib
import os
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from hpobench_ext._base import HPOBENCH_AVAILABLE, AbstractBenchmark, ConfigSpace, get_rng
from smm_plugins.benchmark import Benchmark
from smm_plugins.cost import dfs_hops, fidelity_to_n_problems, is_dfs_space
from smm_plugins.space import SearchSpace
from smm_plugins.surrogate import BIBTEX, CITATION

__all__ = [
    "SMMBenchmark",
    "SMMBenchPS",
    "SMMBenchDFS",
    "SMMMiniPS",
    "SMMMiniDFS",
    "SMMMiniPSTrue",
    "SMMMiniDFSTrue",
    "BENCHMARK_CLASSES",
    "CLASS_PATHS",
    "benchmark_class",
    "configuration_space",
    "fidelity_space",
    "get_benchmark",
]


FIDELITY = "n_problems"


def configuration_space(space: SearchSpace, seed: int | None = None) -> ConfigSpace.ConfigurationSpace:
    """Translate a canonical :class:`SearchSpace` into a ``ConfigSpace.ConfigurationSpace`` (same names, order, bounds).

    Floats become ``Float(lower, upper, default)``; categorical codes become ``Categorical`` over the integer codes.
    """
    cs = ConfigSpace.ConfigurationSpace(name=space.name, seed=seed)
    hps: list[Any] = []
    for p in space.parameters:
        meta = {"description": p.description} if p.description else None
        if p.kind == "float":
            hps.append(ConfigSpace.Float(p.name, p.bounds, default=float(p.default), meta=meta))
        else:
            hps.append(ConfigSpace.Categorical(p.name, list(p.codes), default=int(p.default), meta=meta))
    cs.add(hps)
    return cs


def fidelity_space(benchmark: Benchmark, seed: int | None = None) -> ConfigSpace.ConfigurationSpace:
    """The fidelity space: ``n_problems`` in [1, full optimisation-split size], default = full (deterministic)."""
    full = int(benchmark.n_problems_full["train_acc"])
    cs = ConfigSpace.ConfigurationSpace(name=f"{benchmark.name}-fidelity", seed=seed)
    cs.add(
        ConfigSpace.Integer(
            FIDELITY,
            (1, full),
            default=full,
            meta={"description": "problems evaluated; below full adds binomial noise"},
        )
    )
    return cs


def _checked(fn: Callable[..., dict]) -> Callable[..., dict]:
    """``AbstractBenchmark.check_parameters``, with HPOBench 0.0.10's own ConfigSpace-0.x deprecation noise muted."""
    inner = AbstractBenchmark.check_parameters(fn)
    if not HPOBENCH_AVAILABLE:
        return inner

    @functools.wraps(inner)
    def wrapper(self: Any, configuration: Any, fidelity: Any = None, **kwargs: Any) -> dict:
        with warnings.catch_warnings():
            # Only warnings raised from hpobench's own modules (it calls e.g. get_hyperparameter_names()).
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"hpobench\.")
            return inner(self, configuration, fidelity, **kwargs)

    return wrapper


def _load(name: str) -> Benchmark:
    from smm_plugins.registry import load_benchmark

    return load_benchmark(name)  # cached per process by the registry (names and directories)


class _SMMLogic:
    """Everything of an SMM-Bench HPOBench benchmark except the base class (shared with the stand-in tests)."""

    #: Registered benchmark name this class stands for.
    benchmark_name: ClassVar[str | None] = None
    #: A fixed core benchmark (classes made by :func:`benchmark_class` from an instance).
    _core_benchmark: ClassVar[Benchmark | None] = None
    rng: np.random.RandomState

    def __init__(self, rng: int | np.random.RandomState | None = None, **kwargs: Any) -> None:
        # The getters below need the core benchmark; it must exist before the base constructor calls them.
        self.benchmark: Benchmark = type(self).core()
        super().__init__(rng=rng, **kwargs)  # type: ignore[call-arg]

    @classmethod
    def core(cls) -> Benchmark:
        """The core :class:`~smm_plugins.benchmark.Benchmark` behind this class (loaded once per process)."""
        if cls._core_benchmark is not None:
            return cls._core_benchmark
        if cls.benchmark_name is None:
            raise TypeError(
                f"{cls.__name__} stands for no benchmark; use a subclass or hpobench_ext.get_benchmark(name)"
            )
        return _load(cls.benchmark_name)

    # -- HPOBench getters (callable on the class, like HPOBench's static ones) ---------------------
    @classmethod
    def get_configuration_space(cls, seed: int | None = None) -> ConfigSpace.ConfigurationSpace:
        """The benchmark's search space as a ConfigSpace space (names in model-input order)."""
        return configuration_space(cls.core().space, seed=seed)

    @classmethod
    def get_fidelity_space(cls, seed: int | None = None) -> ConfigSpace.ConfigurationSpace:
        """``n_problems`` in [1, 1069 for the official split]; default = full = the paper's deterministic setting."""
        return fidelity_space(cls.core(), seed=seed)

    @classmethod
    def get_meta_information(cls) -> dict[str, Any]:
        """Name, citation, objective and cost-model notes."""
        b = cls.core()
        return {
            "name": b.name,
            "references": [CITATION, "https://arxiv.org/abs/2509.02555", "https://github.com/shiralab/SMM-Bench"],
            "citation": BIBTEX,
            "objective": "function_value = 1 - accuracy (Japanese math word problems); lower is better",
            "fidelity": f"{FIDELITY}: evaluation size; below full adds seeded binomial noise, cost is proportional",
            "cost": "simulated seconds of one real evaluation "
            f"({type(b.cost_model).__name__ if b.cost_model is not None else 'default'} cost model)",
            "dimensions": b.space.dim,
            "n_problems_full": dict(b.n_problems_full),
        }

    # -- objectives on validated plain dicts --------------------------------------------------------
    def _train(self, configuration: dict, fidelity: dict, rng: Any) -> dict[str, Any]:
        b = self.benchmark
        x = b.space.to_vector(configuration)
        n = int(fidelity[FIDELITY])
        n_eval = fidelity_to_n_problems(n, int(b.n_problems_full["train_acc"]))
        seed = None if n_eval is None else int(get_rng(rng, self.rng).randint(0, 2**31 - 1))
        acc = float(b.evaluate(x, "train_acc", n_problems=n_eval, seed=seed))
        test_acc = float(b.evaluate(x, "test_acc"))
        return {
            "function_value": 1.0 - acc,
            "cost": float(b.cost(x, "train_acc", n)),
            "info": self._info(x, acc, test_acc, fidelity),
        }

    def _test(self, configuration: dict, fidelity: dict) -> dict[str, Any]:
        b = self.benchmark
        full = int(b.n_problems_full["train_acc"])
        if int(fidelity[FIDELITY]) != full:
            raise ValueError(
                f"objective_function_test runs at full fidelity only: {FIDELITY} = {full} (or leave it out)"
            )
        x = b.space.to_vector(configuration)
        test_acc = float(b.evaluate(x, "test_acc"))
        acc = float(b.evaluate(x, "train_acc"))
        return {
            "function_value": 1.0 - test_acc,
            "cost": float(b.cost(x, "test_acc")),
            "info": self._info(x, acc, test_acc, fidelity),
        }

    def _info(self, x: np.ndarray, acc: float, test_acc: float, fidelity: dict) -> dict[str, Any]:
        info: dict[str, Any] = {"accuracy": acc, "test_accuracy": test_acc, "fidelity": dict(fidelity)}
        if is_dfs_space(self.benchmark.space):
            info["hops"] = int(dfs_hops(x, self.benchmark.space)[0])
        return info


class SMMBenchmark(_SMMLogic, AbstractBenchmark):
    """An SMM-Bench benchmark in HPOBench's contract. Use a subclass (e.g. :class:`SMMMiniPS`) or :func:`get_benchmark`.

    ``objective_function`` -> ``{'function_value': 1 - acc, 'cost': seconds, 'info': {...}}`` with info keys
    ``accuracy``, ``test_accuracy``, ``fidelity`` (and ``hops`` for DFS);
    ``objective_function_test`` gives ``1 - test accuracy`` at full fidelity.
    """

    @_checked
    def objective_function(
        self,
        configuration: ConfigSpace.Configuration | dict,
        fidelity: ConfigSpace.Configuration | dict | None = None,
        rng: int | np.random.RandomState | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``1 - train accuracy`` at ``fidelity['n_problems']`` (noise below full, from ``rng`` or the instance's)."""
        return self._train(configuration, fidelity, rng)  # type: ignore[arg-type]

    @_checked
    def objective_function_test(
        self,
        configuration: ConfigSpace.Configuration | dict,
        fidelity: ConfigSpace.Configuration | dict | None = None,
        rng: int | np.random.RandomState | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """``1 - test accuracy`` (held-out split) at full fidelity, deterministic."""
        return self._test(configuration, fidelity)  # type: ignore[arg-type]


class SMMBenchPS(SMMBenchmark):
    """Official SMM-Bench-PS (64 layer-wise task-arithmetic weights); needs ``smm-bench install``."""

    benchmark_name = "smm-bench-ps"


class SMMBenchDFS(SMMBenchmark):
    """Official SMM-Bench-DFS (32 layer choices + 63 hop scales); needs ``smm-bench install``."""

    benchmark_name = "smm-bench-dfs"


class SMMMiniPS(SMMBenchmark):
    """Surrogate of the project's merge lab, PS space (embedded)."""

    benchmark_name = "smm-mini-ps"


class SMMMiniDFS(SMMBenchmark):
    """Surrogate of the project's merge lab, DFS space (embedded)."""

    benchmark_name = "smm-mini-dfs"


class SMMMiniPSTrue(SMMBenchmark):
    """The merge lab's exact PS objective (no surrogate)."""

    benchmark_name = "smm-mini-ps-true"


class SMMMiniDFSTrue(SMMBenchmark):
    """The merge lab's exact DFS objective (no surrogate)."""

    benchmark_name = "smm-mini-dfs-true"


#: Registered name -> class.
BENCHMARK_CLASSES: dict[str, type[SMMBenchmark]] = {
    c.benchmark_name: c for c in (SMMBenchPS, SMMBenchDFS, SMMMiniPS, SMMMiniDFS, SMMMiniPSTrue, SMMMiniDFSTrue)
}
#: Registered name -> importable ``"module:Class"`` path (for tools that take class paths).
CLASS_PATHS: dict[str, str] = {name: f"hpobench_ext:{c.__name__}" for name, c in BENCHMARK_CLASSES.items()}


def benchmark_class(benchmark: str | Benchmark) -> type[SMMBenchmark]:
    """The class for a registered name, a ``"module:Class"`` path, a surrogate directory or a Benchmark instance."""
    if isinstance(benchmark, Benchmark):
        return type(
            f"SMMBenchmark_{_identifier(benchmark.name)}",
            (SMMBenchmark,),
            {"_core_benchmark": benchmark, "benchmark_name": benchmark.name, "__module__": __name__},
        )
    if not isinstance(benchmark, str):
        raise TypeError(
            f"benchmark must be a name, a 'module:Class' path or a Benchmark, got {type(benchmark).__name__}"
        )
    if benchmark in BENCHMARK_CLASSES:
        return BENCHMARK_CLASSES[benchmark]
    if ":" in benchmark and not os.path.exists(benchmark):  # "module:Class" (a path may hold ":" too)
        module, _, qualname = benchmark.partition(":")
        cls = getattr(importlib.import_module(module), qualname, None)
        if not (isinstance(cls, type) and issubclass(cls, SMMBenchmark)):
            raise ValueError(
                f"{benchmark!r} is not an SMM-Bench HPOBench class; allowed: {', '.join(CLASS_PATHS.values())}"
            )
        return cls
    # Any other registered name or a surrogate directory: resolved (and errors explained) by the registry.
    return benchmark_class(_load(benchmark))


def get_benchmark(
    benchmark: str | Benchmark, rng: int | np.random.RandomState | None = None, **kwargs: Any
) -> SMMBenchmark:
    """An HPOBench benchmark instance, e.g. ``get_benchmark("smm-mini-ps", rng=1)``."""
    return benchmark_class(benchmark)(rng=rng, **kwargs)


def _identifier(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)
