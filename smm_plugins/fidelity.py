"""Evaluation-size fidelity: the ladder of problem counts and the fixed-subset noise model.

A real accuracy is measured on a finite split of ``N`` problems. A low-fidelity evaluation measures it
on a *fixed subset* of ``n`` of them: the first ``n`` problems of a permutation of the split chosen by a
seed (:func:`problem_subset`; subsets of one seed are nested, as when an evaluation is extended). A
surrogate only knows the full-split accuracy ``p``, so :class:`SubsetNoiseModel` simulates per-problem
correctness (a Rasch model of problem difficulty) with the structure that makes subset accuracies realistic:

* the value is a pure function of (configuration, objective, n, seed): no stream, no call order;
* it equals ``p`` at ``n = N`` and its variance is that of sampling without replacement,
  ``p (1 - p) / n * (N - n) / (N - 1)``, so the gap to ``p`` shrinks to 0 as ``n -> N``;
* it is correlated across configurations: problems have a shared difficulty, so a subset that is hard
  for one configuration is hard for the others too.

``docs/fidelity.md`` states the model, its calibration against the lab's exact objectives and its limits.
"""

from __future__ import annotations

import functools
import hashlib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import special

from smm_plugins.errors import SMMBenchError
from smm_plugins.space import SearchSpace

__all__ = [
    "FIDELITY",
    "FidelityError",
    "fidelity_ladder",
    "fidelity_range",
    "fidelity_to_n_problems",
    "problem_subset",
    "subset_seed",
    "SubsetNoiseModel",
    "DEFAULT_SUBSET_SEED",
    "DIFFICULTY_SPREAD",
    "fidelity_summary",
]

#: The one fidelity of every benchmark: the evaluation size, a count of problems of the split.
FIDELITY: str = "n_problems"
#: Subset seed used when a low-fidelity evaluation is asked for without a seed.
DEFAULT_SUBSET_SEED: int = 0
#: Spread (standard deviation, logits) of problem difficulties per search-space kind, calibrated so that
#: the rank correlation between low and full fidelity matches the merge lab's exact objectives
#: (``smm-bench fidelity-check``, docs/fidelity.md).
DIFFICULTY_SPREAD: Mapping[str, float] = MappingProxyType({"ps": 5.0, "dfs": 1.5})

#: Configurations simulated at once (each needs a few arrays of ``n_full`` numbers).
_CHUNK_ROWS = 512
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def fidelity_ladder(n_full: int, reduction_factor: int = 3, n_levels: int = 4) -> list[int]:
    """Geometric evaluation sizes ``n_full // reduction_factor**k`` for ``k = n_levels-1 .. 0``, ascending.

    ``n_full`` (>= 1) is the full split's problem count; the last level is always ``n_full``, e.g.
    ``fidelity_ladder(1000) == [37, 111, 333, 1000]``. Sizes never drop below 1 and repeats are removed.
    """
    for name, value, low in (
        ("n_full", n_full, 1),
        ("reduction_factor", reduction_factor, 2),
        ("n_levels", n_levels, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} = {value!r} is not allowed; expected an integer >= {low}")
    return sorted({max(1, n_full // reduction_factor**k) for k in range(n_levels)})


def fidelity_range(n_full: int) -> tuple[int, int]:
    """``(floor, n_full)``: the problem counts every adapter accepts, from the ladder's bottom to the full split.

    ``floor`` is :func:`fidelity_ladder`'s first level, ``n_full // 27`` (37 of 1000, 39 of 1069).
    """
    return fidelity_ladder(n_full)[0], n_full


class FidelityError(SMMBenchError, ValueError):
    """A fidelity that is not a problem count of the benchmark: wrong name, type or range."""


def fidelity_to_n_problems(fidelity: Any, n_full: int) -> int:
    """The problem count (an int in :func:`fidelity_range`) a framework's fidelity asks for.

    ``fidelity`` is what the framework hands over: ``None`` or an empty mapping (the full split,
    ``n_full``, the exact accuracy), a number, a ``(name, value)`` pair (hpoglue) or a ``{name: value}``
    mapping (HPOBench, Syne Tune, hpoglue); the only name is :data:`FIDELITY` (``"n_problems"``).
    Whole numbers (``111``, ``111.0``, numpy numbers) are taken as they are; non-integral numbers, as
    multi-fidelity optimisers pass (SMAC/Hyperband/DEHB budgets such as ``1000 / 27 = 37.04``), are rounded
    half up to the nearest count, the count actually used being the return value. Anything else raises
    :class:`FidelityError` (a ``ValueError``) naming the fidelity, the value and the allowed range: another
    fidelity name, a bool, a string, NaN or infinity, or a value outside ``[floor, n_full]`` (checked
    before rounding).
    """
    floor, full = fidelity_range(n_full)
    name, value = _named_value(fidelity, full)
    if name != FIDELITY or not _is_number(value) or not floor <= value <= full:
        raise FidelityError(
            f"fidelity {name} = {value!r} is not allowed; allowed: {FIDELITY} = a number of problems in "
            f"[{floor}, {full}] (the full split, {full}, is the exact accuracy; non-integral numbers are "
            "rounded to the nearest count)"
        )
    return int(math.floor(float(value) + 0.5))


def _named_value(fidelity: Any, full: int) -> tuple[Any, Any]:
    """``(name, value)`` of a fidelity in any of the forms :func:`fidelity_to_n_problems` takes."""
    if fidelity is None:
        return FIDELITY, full
    if isinstance(fidelity, Mapping):
        if not fidelity:
            return FIDELITY, full
        unknown = [k for k in fidelity if k != FIDELITY]
        key = unknown[0] if unknown else FIDELITY  # an unknown name is the error, whatever else is there
        return key, fidelity[key]
    if isinstance(fidelity, tuple) and len(fidelity) == 2:
        return fidelity[0], fidelity[1]
    return FIDELITY, fidelity


def _is_number(value: Any) -> bool:
    # numbers.Real covers Python and numpy ints and floats; bools are ints, but no problem count.
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


def subset_seed(seed: int | np.integer | np.random.Generator | None) -> int:
    """The subset seed (an int >= 0) of a ``seed`` argument.

    ``None`` is :data:`DEFAULT_SUBSET_SEED`; an int >= 0 is itself; a ``numpy.random.Generator`` gives one
    integer drawn from it (so it advances, and each draw names another subset: pass an int to keep one).
    """
    if seed is None:
        return DEFAULT_SUBSET_SEED
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed = {seed!r} is not allowed; allowed: None, an integer >= 0 or a numpy Generator")
    return int(seed)


def problem_subset(n_full: int, n_problems: int, seed: int = DEFAULT_SUBSET_SEED) -> np.ndarray:
    """Indices (into the full split, ``0 .. n_full-1``) of the fixed subset of ``n_problems`` problems of ``seed``.

    The first ``n_problems`` of a permutation of the split drawn from ``seed``: subsets of one seed are
    nested (a larger one extends a smaller one) and ``n_problems = n_full`` is the whole split. Read-only.
    """
    if not 1 <= n_problems <= n_full:
        raise ValueError(f"n_problems = {n_problems!r} is not allowed; allowed: an integer in [1, {n_full}]")
    return _permutation(int(n_full), subset_seed(seed))[:n_problems]


@functools.lru_cache(maxsize=64)
def _permutation(n_full: int, seed: int) -> np.ndarray:
    perm = np.random.default_rng(np.random.SeedSequence([seed, n_full, 0x5EB5E7])).permutation(n_full)
    perm.setflags(write=False)
    return perm


_KEY_DECIMALS = 9


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic): a counter-based hash."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _config_keys(X: np.ndarray, objective: str) -> np.ndarray:
    """One 64-bit key per row, from the row's values and the objective (order and batch free).

    Values are rounded to 1e-9 first: a configuration that went through another library's encoding (e.g.
    ConfigSpace's normalised vector and back) differs from the original in the last bits only, and must
    get the same subset outcome.
    """
    rows = np.ascontiguousarray(np.round(np.asarray(X, dtype=np.float64), _KEY_DECIMALS) + 0.0)  # -0.0 -> 0.0
    salt = objective.encode()
    keys = [hashlib.blake2b(row.tobytes(), digest_size=8, key=salt[:64]).digest() for row in rows]
    return np.frombuffer(b"".join(keys), dtype="<u8").astype(np.uint64)


@functools.lru_cache(maxsize=16)
def _difficulty(objective: str, n_full: int) -> np.ndarray:
    """Standard-normal difficulty score of each problem of a split (fixed per objective and split size)."""
    tag = int.from_bytes(hashlib.blake2b(objective.encode(), digest_size=8).digest(), "little")
    b = np.random.default_rng(np.random.SeedSequence([tag, n_full, 0xD1FF])).standard_normal(n_full)
    b.setflags(write=False)
    return b


@dataclass(frozen=True)
class SubsetNoiseModel:
    """Accuracy on a fixed subset of problems, simulated from the full-split accuracy by a Rasch model.

    Problem ``i`` of the split has a difficulty ``d_i = difficulty_spread * b_i`` (``b_i ~ N(0, 1)``,
    fixed per objective); a configuration of full-split accuracy ``p`` solves it with probability
    ``sigmoid(a - d_i)``, its ability ``a`` set so that the mean over problems is about ``p``
    (``a = logit(p) * sqrt(1 + pi * difficulty_spread**2 / 8)``), drawn with a uniform number hashed from
    (configuration, objective, i). The subset accuracy is ``p`` plus the subset's mean correctness minus
    the whole split's, rounded to a count of ``n`` and clipped into [0, 1]. ``difficulty_spread`` (logits,
    >= 0) sets how much configurations agree on which problems are hard: 0 makes problems exchangeable.
    """

    difficulty_spread: float = DIFFICULTY_SPREAD["ps"]

    def __post_init__(self) -> None:
        s = self.difficulty_spread
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.0 <= s < np.inf:
            raise ValueError(f"difficulty_spread = {s!r} is not allowed; allowed: a finite number >= 0")

    @classmethod
    def for_space(cls, space: SearchSpace) -> SubsetNoiseModel:
        """The calibrated default for a search space: its metadata kind (``"ps"``/``"dfs"``), else PS's."""
        kind = str(space.metadata.get("kind", "")).lower()
        return cls(DIFFICULTY_SPREAD.get(kind, DIFFICULTY_SPREAD["ps"]))

    def correctness(self, accuracy: np.ndarray, X: np.ndarray, objective: str, n_full: int) -> np.ndarray:
        """Simulated correctness (bool, shape (rows, n_full)) of each row of ``X`` on each problem."""
        p = np.clip(np.asarray(accuracy, dtype=np.float64).reshape(-1), 0.0, 1.0)
        s = float(self.difficulty_spread)
        counters = (np.arange(1, n_full + 1, dtype=np.uint64) * _GOLDEN)[None, :]
        u = (_splitmix64(_config_keys(X, objective)[:, None] ^ counters) >> np.uint64(11)) * 2.0**-53
        with np.errstate(divide="ignore"):
            ability = special.logit(p) * np.sqrt(1.0 + np.pi * s * s / 8.0)  # -inf / +inf at p = 0 / 1
        return u < special.expit(ability[:, None] - s * _difficulty(objective, n_full)[None, :])

    def subset_accuracy(
        self,
        accuracy: np.ndarray,
        X: np.ndarray,
        objective: str,
        n_problems: int,
        n_full: int,
        seed: int = DEFAULT_SUBSET_SEED,
    ) -> np.ndarray:
        """Accuracy of each row of ``X`` (full-split ``accuracy``) on the subset of ``n_problems`` of ``seed``.

        A multiple of ``1 / n_problems`` in [0, 1] below the full split; exactly ``accuracy`` at ``n_full``.
        """
        p = np.asarray(accuracy, dtype=np.float64).reshape(-1)
        if n_problems == n_full:
            return p.copy()
        X = np.asarray(X, dtype=np.float64).reshape(p.shape[0], -1)
        subset = problem_subset(n_full, n_problems, seed)
        shift = np.empty_like(p)
        for start in range(0, p.shape[0], _CHUNK_ROWS):  # bounded memory: (rows, n_full) per chunk
            rows = slice(start, start + _CHUNK_ROWS)
            z = self.correctness(p[rows], X[rows], objective, n_full)
            shift[rows] = z[:, subset].mean(axis=1) - z.mean(axis=1)
        return np.clip(np.rint(n_problems * (p + shift)), 0, n_problems) / n_problems


def fidelity_summary(benchmark: Any, objective: str = "train_acc") -> dict[str, Any]:
    """What a benchmark's ``n_problems`` fidelity is, for metadata and ``smm-bench info`` (JSON-ready).

    ``{"fidelity", "objective", "n_problems_full", "range", "ladder", "low_fidelity"}``: the range is
    [bottom of the ladder, full split], the ladder :func:`fidelity_ladder` of the full size.
    """
    full = int(benchmark.n_problems_full[objective])
    ladder = fidelity_ladder(full)
    if getattr(benchmark, "exact_subsets", False):
        how = "exact: evaluated on the seed's fixed subset of problems"
    else:
        model = benchmark.noise_model or SubsetNoiseModel.for_space(benchmark.space)
        how = f"fixed-subset noise model ({model!r}) on the full-split accuracy"
    return {
        "fidelity": FIDELITY,
        "objective": objective,
        "n_problems_full": {k: int(v) for k, v in benchmark.n_problems_full.items()},
        "range": list(fidelity_range(full)),
        "ladder": ladder,
        "low_fidelity": how,
    }
