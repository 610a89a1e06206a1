"""SMM-Bench benchmarks as Syne Tune blackboxes, registered by name for ``load_blackbox``.

Objectives (``objectives_names``): ``train_acc`` (accuracy on the optimisation split at the fidelity),
``test_acc`` (held-out split, full size, deterministic) and ``elapsed_time`` (simulated seconds of the
real evaluation up to that fidelity: cumulative, as the simulator requires). The single fidelity is
``n_problems``: by default one value, the full split (the paper's deterministic accuracy); with
``fidelities=...`` several evaluation sizes (seeded binomial noise below full) for ASHA/BOHB.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from smm_plugins._deps import require
from smm_plugins.benchmark import Benchmark
from smm_plugins.cost import fidelity_to_n_problems

require("syne_tune", "synetune", who="synetune_ext")
require("huggingface_hub", "synetune", who="synetune_ext")  # imported by Syne Tune's blackbox repository
if TYPE_CHECKING:
    from syne_tune.blackbox_repository import blackbox as _bb
else:
    _bb = require("syne_tune.blackbox_repository.blackbox", "synetune", who="synetune_ext")
_gop = require("syne_tune.blackbox_repository.global_optimization_problems", "synetune", who="synetune_ext")
_cs = require("syne_tune.config_space", "synetune", who="synetune_ext")

__all__ = [
    "SMMBlackbox",
    "ELAPSED_TIME",
    "FIDELITY",
    "OBJECTIVES",
    "config_space",
    "default_fidelities",
    "register_blackbox",
    "registered_blackboxes",
]


#: Name of the cumulative simulated-time objective (pass it as ``elapsed_time_attr``).
ELAPSED_TIME = "elapsed_time"
#: Name of the fidelity attribute (the simulator's ``time_attr``; ASHA/BOHB ``time_attr``).
FIDELITY = "n_problems"
#: Objective names, in the order of the arrays the blackbox returns.
OBJECTIVES: tuple[str, ...] = ("train_acc", "test_acc", ELAPSED_TIME)


def config_space(benchmark: Benchmark) -> dict[str, Any]:
    """Syne Tune domains for a benchmark's canonical space: ``uniform(lower, upper)`` / ``choice(codes)``."""
    out: dict[str, Any] = {}
    for p in benchmark.space.parameters:
        out[p.name] = _cs.uniform(*p.bounds) if p.kind == "float" else _cs.choice(list(p.codes))
    return out


def default_fidelities(full: int, reduction_factor: int = 3, n_levels: int = 4) -> list[int]:
    """Geometric evaluation sizes ``full // rf**k`` (k = n_levels-1 .. 0), e.g. 1069 -> [39, 118, 356, 1069]."""
    return sorted({max(1, int(full) // int(reduction_factor) ** k) for k in range(n_levels)})


def _resolve(benchmark: str | Benchmark) -> Benchmark:
    if isinstance(benchmark, Benchmark):
        return benchmark
    from smm_plugins.registry import load_benchmark

    return load_benchmark(benchmark)  # cached per process by the registry (names and directories)


class SMMBlackbox(_bb.Blackbox):
    """A Syne Tune :class:`Blackbox` over an SMM-Bench benchmark (registered name or instance).

    ``fidelities``: ``None`` (default) -> one fidelity, the full split, deterministic; ``True`` ->
    :func:`default_fidelities`; or a list of evaluation sizes (1..full). ``seed`` fixes the evaluation
    noise below full size (noise also depends on the configuration, the level and the simulator's seed,
    so a trial's results are reproducible). The benchmark is loaded on first use, so registering
    names is cheap.
    """

    def __init__(
        self,
        benchmark: str | Benchmark,
        *,
        fidelities: Sequence[int] | bool | None = None,
        seed: int = 0,
    ) -> None:
        # Blackbox.__init__ only stores three attributes; here they are lazy properties instead.
        self._source = benchmark
        self._fidelities_arg = fidelities
        self._seed = int(seed)
        self._bench: Benchmark | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Ship the name, not the loaded models: the receiving process loads them once itself.
        state = dict(self.__dict__)
        if not isinstance(self._source, Benchmark):
            state["_bench"] = None
        return state

    # -- lazy facts ---------------------------------------------------------------------------
    @property
    def benchmark(self) -> Benchmark:
        """The core benchmark (looked up on first access, then kept)."""
        if self._bench is None:
            self._bench = _resolve(self._source)
        return self._bench

    @property
    def name(self) -> str:
        return self._source if isinstance(self._source, str) else self._source.name

    @property
    def configuration_space(self) -> dict[str, Any]:
        return config_space(self.benchmark)

    @property
    def fidelity_space(self) -> dict[str, Any]:
        levels = self.fidelity_values
        return {FIDELITY: _cs.randint(int(levels.min()), int(levels.max()))}

    @property
    def objectives_names(self) -> list[str]:
        return list(OBJECTIVES)

    @property
    def fidelity_values(self) -> np.ndarray:
        """Evaluation sizes reported for each trial, increasing; the last is the full split."""
        full = int(self.benchmark.n_problems_full["train_acc"])
        arg = self._fidelities_arg
        if arg is None or arg is False:
            levels = [full]
        elif arg is True:
            levels = default_fidelities(full)
        else:
            levels = sorted({self.benchmark._check_n_problems("train_acc", n) for n in arg})
        return np.asarray(levels, dtype=np.int64)

    # -- evaluation ---------------------------------------------------------------------------
    def _check_keys(self, config: Any, fidelity: Any) -> None:
        # Overrides Blackbox._check_keys, which Syne Tune's objective_function calls and which asserts;
        # raise a clear ValueError instead (asserts vanish under python -O).
        if isinstance(fidelity, dict):
            unknown = sorted(set(fidelity) - {FIDELITY})
            if unknown:
                raise ValueError(
                    f"unknown fidelity {unknown}; allowed: {FIDELITY!r} with values in {self.fidelity_values.tolist()}"
                )
        if isinstance(config, dict):
            names = set(self.benchmark.space.names)
            unknown = [k for k in config if k not in names]
            if unknown:
                raise ValueError(f"configuration has unknown parameter(s) {unknown[:5]} for {self.name!r}")

    def _objective_function(
        self, configuration: dict[str, Any], fidelity: dict | None = None, seed: int | None = None
    ) -> dict[str, float] | np.ndarray:
        x = self.benchmark.space.to_vector(configuration)
        test_acc = float(self.benchmark.evaluate(x, "test_acc"))  # also validates x strictly
        if fidelity is None:
            return np.array([self._row(x, int(n), test_acc, seed) for n in self.fidelity_values])
        return dict(zip(OBJECTIVES, self._row(x, fidelity[FIDELITY], test_acc, seed), strict=True))

    def _row(self, x: np.ndarray, n: Any, test_acc: float, seed: int | None) -> list[float]:
        b = self.benchmark
        n = b._check_n_problems("train_acc", n)  # ValueError for 0, 1.5, > full: never rounded
        n_eval = fidelity_to_n_problems(n, int(b.n_problems_full["train_acc"]))
        noise_seed = None
        if n_eval is not None:
            # Same (configuration, level, seeds) -> same measurement: trials replay exactly.
            noise_seed = np.random.SeedSequence(
                [self._seed, 0 if seed is None else int(seed), n, zlib.crc32(x.tobytes())]
            )
        acc = float(
            b.evaluate(
                x,
                "train_acc",
                n_problems=n_eval,
                seed=None if noise_seed is None else np.random.default_rng(noise_seed),
            )
        )
        # Generation over the first n problems after one merge: cumulative in n, as the simulator needs.
        return [acc, test_acc, float(b.cost(x, "train_acc", n))]

    def __repr__(self) -> str:
        return f"SMMBlackbox({self.name!r}, fidelities={self._fidelities_arg!r})"


_REGISTERED: set[str] = set()


def register_blackbox(benchmark: str | Benchmark, *, name: str | None = None, **kwargs: Any) -> str:
    """Make ``load_blackbox(name)`` and ``BlackboxRepositoryBackend(blackbox_name=name)`` find a benchmark.

    Adds a lazily loading :class:`SMMBlackbox` to Syne Tune's name lookup. Returns the name used.
    """
    key = name or (benchmark if isinstance(benchmark, str) else benchmark.name)
    _gop.global_optimization_problem_collection[key] = SMMBlackbox(benchmark, **kwargs)
    _REGISTERED.add(key)
    return key


def registered_blackboxes() -> list[str]:
    """Names this package registered with Syne Tune."""
    return sorted(_REGISTERED)
