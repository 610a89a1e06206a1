"""SMM-Bench benchmarks as HPOBench benchmarks: one class per registered benchmark.

``function_value`` is ``1 - accuracy`` (HPOBench minimises); ``cost`` is the simulated seconds of one
real evaluation (:mod:`smm_plugins.cost`); the fidelity is ``n_problems``, the evaluation size, from the
bottom of the fidelity ladder to the full optimisation split (default: the paper's exact accuracy).
Below full, the accuracy is the core's fixed-subset value (:mod:`smm_plugins.fidelity`).
"""

from __future__ import annotations

import functools
import os
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from hpobench_ext._base import AbstractBenchmark, ConfigSpace, get_rng
from smm_plugins.benchmark import Benchmark
from smm_plugins.configspace import configuration_space
from smm_plugins.cost import dfs_hops, is_dfs_space
from smm_plugins.fidelity import (
    DEFAULT_SUBSET_SEED,
    FIDELITY,
    fidelity_range,
    fidelity_summary,
    fidelity_to_n_problems,
)
from smm_plugins.surrogate import BIBTEX, CITATION

__all__ = [
    "SMMBenchmark",
    "SMMBenchPS",
    "SMMBenchDFS",
    "SMMMiniPS",
    "SMMMiniDFS",
    "SMMMiniPSTrue",
    "SMMMiniDFSTrue",
    "SMMMiniOpTrue",
    "BENCHMARK_CLASSES",
    "CLASS_PATHS",
    "benchmark_class",
    "class_name",
    "configuration_space",
    "fidelity_space",
    "get_benchmark",
]


def fidelity_space(benchmark: Benchmark, seed: int | None = None) -> ConfigSpace.ConfigurationSpace:
    """The fidelity space: ``n_problems`` from the bottom of the fidelity ladder to the full split, default full.

    The range is :func:`smm_plugins.fidelity.fidelity_range` (from full // 27), as in every adapter.
    """
    floor, full = fidelity_range(int(benchmark.n_problems_full["train_acc"]))
    cs = ConfigSpace.ConfigurationSpace(name=f"{benchmark.name}-fidelity", seed=seed)
    cs.add(
        ConfigSpace.Integer(
            FIDELITY,
            (floor, full),
            default=full,
            meta={"description": "problems evaluated: a fixed subset of the split; full = the exact accuracy"},
        )
    )
    return cs


def _checked(fn: Callable[..., dict]) -> Callable[..., dict]:
    """HPOBench's ``check_parameters`` semantics, on the core's validation (no ConfigSpace objects per call).

    Accepts a dict or a ``Configuration`` (anything else: ``TypeError``); unknown, missing or invalid values
    raise ``ValueError`` naming the variable; the fidelity may be ``None`` (full), a dict or a
    ``Configuration``, never a loose keyword. Passes the model-input row and the problem count on.
    """

    @functools.wraps(fn)
    def wrapper(self: Any, configuration: Any, fidelity: Any = None, rng: Any = None, **kwargs: Any) -> dict:
        x = self._configuration_row(configuration)
        n = self._fidelity_count(fidelity, kwargs)
        return fn(self, x, n, rng, **kwargs)

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

    def __init__(
        self, rng: int | np.random.RandomState | None = None, *, report_test: bool = False, **kwargs: Any
    ) -> None:
        # The getters below need the core benchmark; it must exist before the base constructor calls them.
        self.benchmark: Benchmark = type(self).core()
        #: Also report the test accuracy in ``objective_function``'s info (one more prediction per call).
        self.report_test = bool(report_test)
        #: Subset of problems of low-fidelity evaluations when a call passes no ``rng``: the ``rng`` int,
        #: one draw from a RandomState, or the core's default subset for ``None``.
        self.subset_seed = self._seed_for(rng) if rng is not None else DEFAULT_SUBSET_SEED
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
        """``n_problems`` in [ladder bottom, full split]; default = full = the paper's exact setting."""
        return fidelity_space(cls.core(), seed=seed)

    @classmethod
    def get_meta_information(cls) -> dict[str, Any]:
        """Name, task, citation, fidelity (range, ladder, low-fidelity model) and cost model, from the benchmark."""
        b = cls.core()
        meta = dict(getattr(b, "meta", None) or {})
        fid = fidelity_summary(b)
        full_seconds = float(b.cost(b.space.default_vector()))  # also resolves the benchmark's cost model
        task = meta.get("task")
        return {
            "name": b.name,
            "task": task,
            "source": meta.get("source"),  # where the benchmark's files come from (official, embedded, user build)
            "references": [CITATION, "https://arxiv.org/abs/2509.02555", "https://github.com/shiralab/SMM-Bench"],
            "citation": BIBTEX,
            "objective": "function_value = 1 - accuracy" + (f" ({task})" if task else "") + "; lower is better",
            "fidelity": fid,
            "cost": f"simulated seconds of one real evaluation ({type(b.cost_model).__name__} cost model; default "
            f"configuration at full fidelity: {full_seconds:.1f} s), proportional to n_problems",
            "dimensions": b.space.dim,
            "n_problems_full": dict(b.n_problems_full),
        }

    # -- validation (the semantics of HPOBench's check_parameters) ----------------------------------
    def _configuration_row(self, configuration: Any) -> np.ndarray:
        if isinstance(configuration, ConfigSpace.Configuration):
            configuration = dict(configuration)
        elif not isinstance(configuration, Mapping):
            raise TypeError(
                f"Configuration has to be a dict or ConfigSpace.Configuration but was {type(configuration).__name__}"
            )
        return self.benchmark.space.to_vector(configuration)

    def _fidelity_count(self, fidelity: Any, kwargs: Mapping[str, Any]) -> int:
        if FIDELITY in kwargs:
            raise ValueError(f"Fidelity parameter {FIDELITY} should not be passed as a keyword; use fidelity={{...}}")
        full = int(self.benchmark.n_problems_full["train_acc"])
        if fidelity is None:
            return full
        if isinstance(fidelity, ConfigSpace.Configuration):
            fidelity = dict(fidelity)
        elif not isinstance(fidelity, Mapping):
            raise TypeError(
                f"Fidelity has to be None, a dict or ConfigSpace.Configuration but was {type(fidelity).__name__}"
            )
        return fidelity_to_n_problems(fidelity, full)  # the core's one contract (names, range, rounding)

    def _seed_for(self, rng: Any) -> int:
        """The subset seed of one call: an int ``rng`` itself, a RandomState one draw, None the instance's."""
        if rng is None:
            return self.subset_seed
        if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
            return int(rng)
        return _seed_of(get_rng(rng))

    # -- objectives ----------------------------------------------------------------------------------
    def _train(self, x: np.ndarray, n: int, rng: Any) -> dict[str, Any]:
        b = self.benchmark
        seed = self._seed_for(rng)
        acc = float(b.evaluate(x, "train_acc", n_problems=n, seed=seed))
        info = self._info(x, acc, n, seed)
        if self.report_test:
            info["test_accuracy"] = float(b.evaluate(x, "test_acc"))
        return {"function_value": 1.0 - acc, "cost": float(b.cost(x, "train_acc", n)), "info": info}

    def _test(self, x: np.ndarray, n: int) -> dict[str, Any]:
        b = self.benchmark
        full = int(b.n_problems_full["train_acc"])
        if n != full:
            raise ValueError(
                f"objective_function_test runs at full fidelity only: {FIDELITY} = {full} (or leave it out), not {n}"
            )
        test_acc = float(b.evaluate(x, "test_acc"))
        info = self._info(x, float(b.evaluate(x, "train_acc")), n, None)
        info["test_accuracy"] = test_acc
        return {"function_value": 1.0 - test_acc, "cost": float(b.cost(x, "test_acc")), "info": info}

    def _info(self, x: np.ndarray, acc: float, n: int, seed: int | None) -> dict[str, Any]:
        info: dict[str, Any] = {"accuracy": acc, "fidelity": {FIDELITY: n}}
        if seed is not None and n < int(self.benchmark.n_problems_full["train_acc"]):
            info["subset_seed"] = seed
        if is_dfs_space(self.benchmark.space):
            info["hops"] = int(dfs_hops(x, self.benchmark.space)[0])
        return info

    def full_fidelity_incumbent(self, configurations: Iterable[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The best of ``configurations`` by full-fidelity value: ``(configuration dict, objective_function result)``.

        Re-scores each candidate (dicts or ``Configuration`` objects, e.g. an optimiser's incumbents at
        several budgets) on the full split, exactly, so that a noisy low-fidelity value never wins.
        """
        rows = [self._configuration_row(c) for c in configurations]
        if not rows:
            raise ValueError("configurations is empty; pass at least one configuration to re-score")
        acc = np.asarray(self.benchmark.evaluate(np.vstack(rows), "train_acc"))
        best = self.benchmark.space.to_active_config(rows[int(np.argmax(acc))])  # as a Configuration holds it
        return best, self.objective_function(best)  # type: ignore[attr-defined]


def _seed_of(rng: np.random.RandomState) -> int:
    return int(rng.randint(0, 2**31 - 1))


class SMMBenchmark(_SMMLogic, AbstractBenchmark):
    """An SMM-Bench benchmark in HPOBench's contract. Use a subclass (e.g. :class:`SMMMiniPS`) or :func:`get_benchmark`.

    ``objective_function`` -> ``{'function_value': 1 - acc, 'cost': seconds, 'info': {...}}`` with info keys
    ``accuracy``, ``fidelity``, ``subset_seed`` (below full), ``hops`` (DFS) and ``test_accuracy`` (with
    ``report_test=True``); ``objective_function_test`` gives ``1 - test accuracy`` at full fidelity.
    """

    @_checked
    def objective_function(
        self, configuration: np.ndarray, fidelity: int, rng: int | np.random.RandomState | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """``1 - train accuracy`` on ``fidelity['n_problems']`` problems: the fixed subset of the seed ``rng``.

        ``rng``: an int is the subset seed, a RandomState gives one, ``None`` uses the instance's
        (``subset_seed``). The full split (default) is exact and deterministic.
        """
        return self._train(configuration, fidelity, rng)

    @_checked
    def objective_function_test(
        self, configuration: np.ndarray, fidelity: int, rng: int | np.random.RandomState | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """``1 - test accuracy`` (held-out split) at full fidelity, deterministic."""
        return self._test(configuration, fidelity)


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


class SMMMiniOpTrue(SMMBenchmark):
    """The merge lab's exact operator space (linear / SLERP / TIES / DARE, conditional parameters)."""

    benchmark_name = "smm-mini-op-true"


_NAMED: tuple[type[SMMBenchmark], ...] = (
    SMMBenchPS,
    SMMBenchDFS,
    SMMMiniPS,
    SMMMiniDFS,
    SMMMiniPSTrue,
    SMMMiniDFSTrue,
    SMMMiniOpTrue,
)
#: Parts of a registered name written in capitals in its class name (``smm-mini-ps-true`` -> ``SMMMiniPSTrue``).
_CAPITALS = frozenset({"smm", "ps", "dfs"})


def class_name(name: str) -> str:
    """The class name of a registered benchmark: ``smm-mini-math-ps-true`` -> ``SMMMiniMathPSTrue``."""
    parts = [p for p in name.replace("_", "-").split("-") if p]
    return "".join(p.upper() if p in _CAPITALS else p[:1].upper() + p[1:] for p in parts)


def _registered_classes() -> dict[str, type[SMMBenchmark]]:
    """The classes above, and one made for every other benchmark registered now (e.g. by an entry point)."""
    from smm_plugins.registry import benchmark_entry, list_benchmarks

    classes: dict[str, type[SMMBenchmark]] = {c.benchmark_name: c for c in _NAMED if c.benchmark_name}
    for name in list_benchmarks():
        cls_name = class_name(name)
        if name in classes or not cls_name.isidentifier() or cls_name in globals():
            continue
        doc = benchmark_entry(name).description or f"The registered benchmark {name!r}."
        classes[name] = type(
            cls_name, (SMMBenchmark,), {"benchmark_name": name, "__module__": __name__, "__doc__": doc}
        )
        globals()[cls_name] = classes[name]  # importable as hpobench_ext.benchmarks:<Class> and hpobench_ext:<Class>
    return classes


#: Registered name -> class: the named classes above and one made for every other benchmark registered when
#: this module is imported (the members of a suite, a plugin's benchmarks), e.g. ``SMMMiniMathPSTrue``.
BENCHMARK_CLASSES: dict[str, type[SMMBenchmark]] = _registered_classes()
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
        try:
            cls = pkgutil.resolve_name(benchmark)
        except (ImportError, AttributeError, ValueError):
            cls = None
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
