"""SMM-Bench benchmarks as Syne Tune blackboxes, registered by name for ``load_blackbox``.

Objectives (``objectives_names``): ``train_acc`` (accuracy on the optimisation split at the fidelity),
``test_acc`` (held-out split, full size, deterministic) and ``elapsed_time`` (simulated seconds of the
real evaluation up to that fidelity: cumulative, as the simulator requires). The single fidelity is
``n_problems``; by default the geometric ladder :func:`smm_plugins.fidelity.fidelity_ladder` ending at the
full split (e.g. 1069 -> [39, 118, 356, 1069]), so that ASHA/BOHB-style schedulers work by name, while the
last value of every trial is the full-size accuracy that single-fidelity schedulers learn from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from smm_plugins._deps import require
from smm_plugins.benchmark import Benchmark
from smm_plugins.fidelity import FIDELITY, fidelity_ladder, fidelity_range, fidelity_to_n_problems

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
    "register_blackbox",
    "registered_blackbox",
    "registered_blackboxes",
]


#: Name of the cumulative simulated-time objective (pass it as ``elapsed_time_attr``).
ELAPSED_TIME = "elapsed_time"
# FIDELITY (imported): name of the fidelity attribute, the simulator's and ASHA/BOHB's ``time_attr``.
#: Objective names, in the order of the arrays the blackbox returns.
OBJECTIVES: tuple[str, ...] = ("train_acc", "test_acc", ELAPSED_TIME)


def config_space(benchmark: Benchmark) -> dict[str, Any]:
    """Syne Tune domains for a benchmark's canonical space: ``uniform(lower, upper)`` / ``choice(codes)``.

    A labelled categorical is a ``choice`` of its labels (e.g. ``"ties"``). Syne Tune's spaces are flat:
    a conditional parameter is sampled in every trial and its value ignored when inactive.
    """
    out: dict[str, Any] = {}
    for p in benchmark.space.parameters:
        out[p.name] = _cs.uniform(*p.bounds) if p.kind == "float" else _cs.choice(list(p.labels or p.codes))
    return out


def _resolve(benchmark: str | Benchmark) -> Benchmark:
    if isinstance(benchmark, Benchmark):
        return benchmark
    from smm_plugins.registry import load_benchmark

    return load_benchmark(benchmark)  # cached per process by the registry (names and directories)


class SMMBlackbox(_bb.Blackbox):
    """A Syne Tune :class:`Blackbox` over an SMM-Bench benchmark (registered name, directory or instance).

    ``fidelities``: ``True`` (default) -> :func:`~smm_plugins.fidelity.fidelity_ladder` of the optimisation
    split, e.g. [39, 118, 356, 1069]; ``False`` -> the full split only; or a list of evaluation sizes, each
    in :func:`~smm_plugins.fidelity.fidelity_range` (e.g. [39, 1069]; floats rounded as every fidelity).
    Below full, ``train_acc`` is the core's fixed-subset accuracy of ``n_problems`` problems, the subset
    chosen by ``seed`` (the ``seed`` a simulator backend passes overrides it); at full it is exact.
    The benchmark is loaded on first use, and pickles travel with the name and settings, not the models.
    """

    def __init__(
        self,
        benchmark: str | Benchmark,
        *,
        fidelities: Sequence[int] | bool = True,
        seed: int = 0,
    ) -> None:
        # Blackbox.__init__ only stores three attributes; here they are lazy properties instead.
        if not isinstance(fidelities, (bool, Sequence)) or isinstance(fidelities, str):
            raise ValueError(f"fidelities = {fidelities!r}; allowed: True (the ladder), False (full only) or a list")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed = {seed!r}; allowed: an integer >= 0")
        self._source = benchmark
        self._fidelities_arg = fidelities if isinstance(fidelities, bool) else tuple(fidelities)
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
        """The benchmark's registered name (or directory) this blackbox evaluates."""
        return self._source if isinstance(self._source, str) else self._source.name

    @property
    def seed(self) -> int:
        """Seed of the low-fidelity problem subsets when the simulator passes none."""
        return self._seed

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
    def full_fidelity(self) -> int:
        """Problems in the full optimisation split: the fidelity of the paper's (exact) accuracy."""
        return int(self.benchmark.n_problems_full["train_acc"])

    @property
    def fidelity_values(self) -> np.ndarray:
        """Evaluation sizes reported for each trial, increasing, int64; for ``True``/``False`` the last is full."""
        full = self.full_fidelity
        arg = self._fidelities_arg
        if arg is True:
            levels = fidelity_ladder(full)
        elif arg is False:
            levels = [full]
        else:
            if not arg:
                floor, _ = fidelity_range(full)
                raise ValueError(f"fidelities = []; allowed: a non-empty list of problem counts in [{floor}, {full}]")
            levels = sorted({fidelity_to_n_problems(n, full) for n in arg})
        return np.asarray(levels, dtype=np.int64)

    # -- evaluation ---------------------------------------------------------------------------
    def _check_keys(self, config: Any, fidelity: Any) -> None:
        # Overrides Blackbox._check_keys, which Syne Tune's objective_function calls and which asserts;
        # raise a clear ValueError instead (asserts vanish under python -O). The fidelity (its name,
        # type and range) is the core's to check, in _row.
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
        subset_seed = self._seed if seed is None else int(seed)
        if fidelity is None:
            return np.array([self._row(x, int(n), test_acc, subset_seed) for n in self.fidelity_values])
        return dict(zip(OBJECTIVES, self._row(x, fidelity, test_acc, subset_seed), strict=True))

    def _row(self, x: np.ndarray, fidelity: Any, test_acc: float, subset_seed: int) -> list[float]:
        b = self.benchmark
        n = fidelity_to_n_problems(fidelity, self.full_fidelity)  # FidelityError outside the range; 111.0 -> 111
        # Below full: the accuracy on a fixed subset of n problems (a pure function of x, n and the seed).
        low = n < self.full_fidelity
        acc = float(b.evaluate(x, "train_acc", n_problems=n if low else None, seed=subset_seed if low else None))
        # Generation over the subset's n problems after one merge: cumulative in n, as the simulator needs.
        return [acc, test_acc, float(b.cost(x, "train_acc", n))]

    def __repr__(self) -> str:
        return f"SMMBlackbox({self.name!r}, fidelities={self._fidelities_arg!r}, seed={self._seed})"


def register_blackbox(
    benchmark: str | Benchmark,
    *,
    name: str | None = None,
    fidelities: Sequence[int] | bool = True,
    seed: int = 0,
) -> str:
    """Make ``load_blackbox(name)`` and ``BlackboxRepositoryBackend(blackbox_name=name)`` find a benchmark.

    Adds a lazily loading :class:`SMMBlackbox` (``fidelities``, ``seed`` as there) to Syne Tune's name
    lookup, replacing any entry of that name; ``name`` defaults to the benchmark's name. Returns the name
    used. A pickled ``BlackboxRepositoryBackend`` carries these settings, so it works in any process.
    """
    key = name or (benchmark if isinstance(benchmark, str) else benchmark.name)
    _gop.global_optimization_problem_collection[key] = SMMBlackbox(benchmark, fidelities=fidelities, seed=seed)
    return key


def registered_blackbox(name: str) -> SMMBlackbox | None:
    """The :class:`SMMBlackbox` registered under ``name`` in Syne Tune's lookup, or ``None``."""
    entry = _gop.global_optimization_problem_collection.get(name)
    return entry if isinstance(entry, SMMBlackbox) else None


def registered_blackboxes() -> list[str]:
    """Names under which an :class:`SMMBlackbox` is registered with Syne Tune, sorted."""
    return sorted(k for k, v in _gop.global_optimization_problem_collection.items() if isinstance(v, SMMBlackbox))
