"""The lab's exact objectives as benchmarks: ``smm-mini-ps-true`` and ``smm-mini-dfs-true``.

Each objective is the accuracy of a merge of the committed source models on a committed split of the
target task (math on rotated inputs): ``train_acc`` on the optimisation split, ``test_acc`` on the
disjoint, mildly shifted test split. Exact and deterministic: a pure function of
``smm_plugins/data/lab/sources.npz`` (weights and split points are both stored there). NumPy only.
At ``n_problems`` below the full split, the accuracy is measured exactly on the seed's fixed subset of
split points (:func:`smm_plugins.fidelity.problem_subset`): the ground truth of multi-fidelity.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins._blas import one_blas_thread
from smm_plugins.benchmark import OBJECTIVES, Benchmark
from smm_plugins.cost import cost_model_for
from smm_plugins.fidelity import problem_subset
from smm_plugins.lab.manifest import verify_packaged
from smm_plugins.lab.merge import PSMerger, dfs_path, dfs_predict
from smm_plugins.lab.network import N_BLOCKS, LabNet
from smm_plugins.registry import BenchmarkEntry
from smm_plugins.space import SearchSpace
from smm_plugins.space import dfs_space as _dfs_space
from smm_plugins.space import ps_space as _ps_space
from smm_plugins.surrogate import BIBTEX, CITATION, LAB_TASK

__all__ = [
    "PS_NAME",
    "DFS_NAME",
    "DEFAULT_WEIGHTS",
    "LabModels",
    "load_lab",
    "save_lab",
    "ps_space",
    "dfs_space",
    "PSTrueBenchmark",
    "DFSTrueBenchmark",
    "ps_true_benchmark",
    "dfs_true_benchmark",
    "PS_TRUE_ENTRY",
    "DFS_TRUE_ENTRY",
]

logger = logging.getLogger(__name__)

PS_NAME = "smm-mini-ps-true"
DFS_NAME = "smm-mini-dfs-true"
#: The committed weights and splits.
DEFAULT_WEIGHTS: Path = Path(__file__).resolve().parent.parent / "data" / "lab" / "sources.npz"
#: Configurations per internal batch: large enough to amortise Python overhead, small enough that the
#: (batch, points, width) activations stay in cache (measured fastest at 16-32).
_CHUNK = 32


def ps_space() -> SearchSpace:
    """The lab's PS space: 64 task-arithmetic weights in [0, 1], ``w_A_00..w_A_31, w_B_00..w_B_31``."""
    return _ps_space(name=PS_NAME, n_layers=N_BLOCKS)


def dfs_space() -> SearchSpace:
    """The lab's DFS space: ``layer_00..layer_31`` in {0, 1, 2}, then ``scale_00..scale_62`` in [0.4, 1.5]."""
    return _dfs_space(name=DFS_NAME, n_layers=N_BLOCKS)


#: Archive prefixes of the source models, in merge order (A, B, then the extra sources C, D, ...).
_SOURCE_PREFIXES = "ABCDEFGH"


@dataclass(frozen=True)
class LabModels:
    """The base, the sources and the target splits (``{objective: (X float32, y int64)}``).

    ``a`` and ``b`` are the two sources of every task; ``extra`` holds further PS sources (C, ...).
    """

    base: LabNet
    a: LabNet
    b: LabNet
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]]
    metadata: Mapping[str, Any]
    extra: tuple[LabNet, ...] = ()

    @property
    def sources(self) -> tuple[LabNet, ...]:
        """All source models in merge order: ``(a, b, *extra)``."""
        return (self.a, self.b, *self.extra)

    @property
    def n_blocks(self) -> int:
        """Residual blocks ``L`` of the networks."""
        return self.base.n_blocks

    def n_problems(self) -> dict[str, int]:
        """Points in each split, ``{objective: n}``."""
        return {k: int(v[1].shape[0]) for k, v in self.splits.items()}


def save_lab(path: str | os.PathLike[str], models: LabModels) -> None:
    """Write ``models`` to an ``.npz`` archive atomically (float32 weights, split points and labels)."""
    import io

    from smm_plugins._io import atomic_write_bytes

    arrays: dict[str, Any] = {}  # Any: NumPy's stubs check **arrays against savez's allow_pickle: bool
    if len(models.sources) > len(_SOURCE_PREFIXES):
        raise ValueError(f"{len(models.sources)} sources; at most {len(_SOURCE_PREFIXES)} can be saved")
    arrays.update(models.base.to_arrays("base"))
    for prefix, net in zip(_SOURCE_PREFIXES, models.sources, strict=False):
        arrays.update(net.to_arrays(prefix))
    for obj, (X, y) in models.splits.items():
        arrays[f"split.{obj}.X"] = np.asarray(X, dtype=np.float32)
        arrays[f"split.{obj}.y"] = np.asarray(y, dtype=np.int64)
    arrays["metadata"] = np.frombuffer(json.dumps(dict(models.metadata), sort_keys=True).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int) -> LabModels:
    del mtime_ns  # part of the cache key only: a regenerated file is re-read
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    splits = {}
    for obj in OBJECTIVES:
        try:
            splits[obj] = (arrays[f"split.{obj}.X"], arrays[f"split.{obj}.y"])
        except KeyError:
            raise KeyError(f"lab file {path!r} has no split {obj!r}; regenerate: smm-bench lab train-sources") from None
    meta = json.loads(arrays["metadata"].tobytes().decode()) if "metadata" in arrays else {}
    extra = tuple(LabNet.from_arrays(arrays, prefix) for prefix in _SOURCE_PREFIXES[2:] if f"{prefix}.w1" in arrays)
    return LabModels(
        base=LabNet.from_arrays(arrays, "base"),
        a=LabNet.from_arrays(arrays, "A"),
        b=LabNet.from_arrays(arrays, "B"),
        splits=splits,
        metadata=meta,
        extra=extra,
    )


def load_lab(path: str | os.PathLike[str] | None = None) -> LabModels:
    """Load (cached) the lab's models and splits; default: the committed ``sources.npz``.

    A packaged file is checked against its SHA-256 in the manifest (:mod:`smm_plugins.lab.manifest`).
    """
    p = Path(path) if path is not None else DEFAULT_WEIGHTS
    if not p.is_file():
        raise FileNotFoundError(
            f"merge-lab weights {str(p)!r} not found; regenerate them with: smm-bench lab train-sources"
        )
    verify_packaged(p)  # a packaged file must match its SHA-256 in the manifest
    return _load_cached(str(p.resolve()), p.stat().st_mtime_ns)


class _LabBenchmark(Benchmark):
    """Shared machinery: split lookup, chunked batches, both objectives in one call."""

    n_problems_full: Mapping[str, int] = {"train_acc": 1000, "test_acc": 1000}
    #: Measured seconds of one evaluation (one configuration, one objective = one split of 1,000
    #: points), batched, one core of the development machine: the ``"lab"`` cost model (not the default).
    eval_seconds: float = 0.0
    exact_subsets = True

    def __init__(self, weights: str | os.PathLike[str] | None = None, *, cost_model: Any = None) -> None:
        self.lab = load_lab(weights)
        self.n_problems_full = self.lab.n_problems()
        if cost_model is not None:  # resolved now: a wrong name fails at construction
            self.cost_model = cost_model_for(self, cost_model)
        self.meta: dict[str, Any] = {
            "source": "exact lab objective (no surrogate): the smm-plugins merge lab's networks",
            "source_kind": "true",
            "task": LAB_TASK,
            "citation": CITATION,
            "bibtex": BIBTEX,
            "reference": "https://github.com/shiralab/SMM-Bench",
            "weights": str(weights if weights is not None else DEFAULT_WEIGHTS),
            "kind": str(self.space.metadata.get("kind", "")),
            "dim": self.space.dim,
            "objectives": list(self.objectives),
        }

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        return self._accuracy(X, (objective,))[objective]

    def _predict_subset(self, X: np.ndarray, objective: str, n_problems: int, seed: int) -> np.ndarray:
        # Exact: the merged models answer only the seed's subset of the split (no noise model).
        subset = problem_subset(int(self.n_problems_full[objective]), n_problems, seed)
        return self._accuracy(X, (objective,), subset)[objective]

    def evaluate_all(self, X: Any, objectives: Iterable[str] = OBJECTIVES) -> dict[str, np.ndarray]:
        """Strictly validated batch ``X`` -> ``{objective: accuracy (n,)}`` for several objectives at once."""
        objectives = tuple(objectives)
        for obj in objectives:
            self._check_objective(obj)
        return self._accuracy(self.space.validate(X), objectives)

    def _accuracy(
        self, X: np.ndarray, objectives: tuple[str, ...], subset: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Accuracy on each objective's split, or on the points ``subset`` (indices into the split)."""
        out = {obj: np.empty(X.shape[0], dtype=np.float64) for obj in objectives}
        with one_blas_thread():  # many small matrix products
            for start in range(0, X.shape[0], _CHUNK):
                rows = X[start : start + _CHUNK]
                for obj in objectives:
                    pts, labels = self.lab.splits[obj]
                    if subset is not None:
                        pts, labels = pts[subset], labels[subset]
                    pred = self._predict_classes(pts, rows)
                    # Accuracy = correct / points: an exact count, then one division.
                    out[obj][start : start + len(rows)] = (pred == labels).sum(axis=1) / labels.shape[0]
        return out

    def _predict_classes(self, pts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class PSTrueBenchmark(_LabBenchmark):
    """Exact PS objective: accuracy of the layer-wise task-arithmetic merge (64 weights in [0, 1])."""

    name = PS_NAME
    space = ps_space()
    eval_seconds = 0.0052

    def __init__(self, weights: str | os.PathLike[str] | None = None, *, cost_model: Any = None) -> None:
        super().__init__(weights, cost_model=cost_model)
        self._merger = PSMerger(self.lab.base, *self.lab.sources)
        if self.space.dim != self._merger.n_sources * self.lab.n_blocks:
            raise ValueError(
                f"{self.name}: the space has {self.space.dim} weights; the lab file has "
                f"{self._merger.n_sources} sources x {self.lab.n_blocks} blocks"
            )

    def _predict_classes(self, pts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self._merger.predict(pts, rows)


class DFSTrueBenchmark(_LabBenchmark):
    """Exact DFS objective: accuracy of the data-flow merge (32 layer choices + 63 hop scales)."""

    name = DFS_NAME
    space = dfs_space()
    eval_seconds = 0.0075

    def __init__(self, weights: str | os.PathLike[str] | None = None, *, cost_model: Any = None) -> None:
        super().__init__(weights, cost_model=cost_model)
        if self.space.dim != 3 * self.lab.n_blocks - 1:
            raise ValueError(
                f"{self.name}: the space has {self.space.dim} variables; the lab file's "
                f"{self.lab.n_blocks} blocks need {3 * self.lab.n_blocks - 1}"
            )

    def _predict_classes(self, pts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return dfs_predict(self.lab.base, self.lab.a, self.lab.b, pts, rows)

    @staticmethod
    def n_hops(config: np.ndarray) -> int:
        """Length of the inference path of one configuration (32..64); ``n_hops - 1`` scales are active."""
        return len(dfs_path(np.asarray(config)[:N_BLOCKS]))


def ps_true_benchmark(weights: str | os.PathLike[str] | None = None, *, cost_model: Any = None) -> PSTrueBenchmark:
    """The exact PS benchmark ``smm-mini-ps-true`` (committed weights unless ``weights`` is given).

    ``cost_model``: ``None`` (a real 7B merge, as the surrogates), ``"lab"`` (the lab's measured seconds)
    or a :class:`smm_plugins.cost.CostModel`.
    """
    return PSTrueBenchmark(weights, cost_model=cost_model)


def dfs_true_benchmark(weights: str | os.PathLike[str] | None = None, *, cost_model: Any = None) -> DFSTrueBenchmark:
    """The exact DFS benchmark ``smm-mini-dfs-true`` (committed weights unless ``weights`` is given).

    ``cost_model``: ``None`` (a real 7B merge, as the surrogates), ``"lab"`` (the lab's measured seconds)
    or a :class:`smm_plugins.cost.CostModel`.
    """
    return DFSTrueBenchmark(weights, cost_model=cost_model)


# Registrations of the group ``smm_plugins.benchmarks`` (pyproject.toml): each exact objective carries its
# measured seconds, which the ``"lab"`` cost model also gives the embedded surrogate of the same space.
PS_TRUE_ENTRY = BenchmarkEntry(
    PS_NAME,
    f"{__name__}:ps_true_benchmark",
    description="the merge lab's exact PS objective (no surrogate)",
    kind="true",
    eval_seconds=PSTrueBenchmark.eval_seconds,
    twins=("smm-mini-ps",),
    suites=("smm-mini",),
)
DFS_TRUE_ENTRY = BenchmarkEntry(
    DFS_NAME,
    f"{__name__}:dfs_true_benchmark",
    description="the merge lab's exact DFS objective (no surrogate)",
    kind="true",
    eval_seconds=DFSTrueBenchmark.eval_seconds,
    twins=("smm-mini-dfs",),
    suites=("smm-mini",),
)
