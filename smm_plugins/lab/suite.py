"""SMM-Mini: the suite of merge tasks of the lab, each an exact PS and DFS benchmark.

A task is a small frozen spec (:class:`SuiteTask`): the skill the expert carries (``math``, ``logic``,
``code``: the function class of the target task), how far the target language is from the base's (``far``:
a full random rotation; ``near``: the same rotation to the power 0.4), the depth (16 or 32 blocks) and the
number of source models (2, or 3 for PS in ``math-far-32-3src``). Benchmark names:
``smm-mini-<task>-ps-true`` / ``smm-mini-<task>-dfs-true``; the committed lab pair is the task
``math-far-32`` under its own names ``smm-mini-ps-true`` / ``smm-mini-dfs-true``.

Weights: ``smm_plugins/data/lab/suite/<task>.npz`` (``sources.npz`` for ``math-far-32``), trained by
``smm-bench lab train-suite`` and listed with their SHA-256 in ``data/lab/manifest.json``. See docs/suite.md.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smm_plugins.lab.manifest import LAB_DATA_DIR
from smm_plugins.lab.objectives import (
    DFS_NAME,
    DFS_TRUE_ENTRY,
    PS_NAME,
    PS_TRUE_ENTRY,
    DFSTrueBenchmark,
    PSTrueBenchmark,
    dfs_true_benchmark,
    ps_true_benchmark,
)
from smm_plugins.lab.recipe import TrainRecipe
from smm_plugins.lab.tasks import TaskSpec
from smm_plugins.registry import BenchmarkEntry
from smm_plugins.space import SearchSpace, dfs_space, ps_space

__all__ = [
    "SUITE",
    "KINDS",
    "SUITE_DIR",
    "SuiteTask",
    "TASKS",
    "task_names",
    "get_task",
    "task_benchmark",
    "SuitePSBenchmark",
    "SuiteDFSBenchmark",
    "suite_entries",
]

#: Name of the suite (``list_benchmarks(suite="smm-mini")``).
SUITE = "smm-mini"
#: The two spaces every task comes in.
KINDS: tuple[str, ...] = ("ps", "dfs")
#: Folder of the suite's weights.
SUITE_DIR: Path = LAB_DATA_DIR / "suite"

#: Power of the rotation of a "near" language (every content plane turned by 40% of its "far" angle).
_NEAR = 0.4
_SKILL_TEXT = {
    "math": "smooth random tanh teacher",
    "logic": "sign bits of 3 random projections, sharp boundaries",
    "code": "nearest of 8 random prototypes",
}


@dataclass(frozen=True)
class SuiteTask:
    """One merge task: what its sources carry and how they are trained (``spec``, ``recipe``).

    ``eval_seconds``: measured seconds of one evaluation (one configuration, one objective of 1,000 points,
    batched, one core of the development machine) for ``ps`` and ``dfs``: the committed pair's seconds times
    the measured ratio of the task's batch time to the pair's (interleaved, best of 5 batches of 128), averaged
    over tasks of the same depth and sources (the same arithmetic).
    """

    name: str
    skill: str
    language: str
    spec: TaskSpec = field(repr=False)
    recipe: TrainRecipe = field(repr=False)
    eval_seconds: tuple[float, float]
    #: The committed lab pair: legacy benchmark names and ``sources.npz``.
    legacy: bool = False

    @property
    def n_blocks(self) -> int:
        """Depth (residual blocks)."""
        return self.recipe.n_blocks

    @property
    def n_sources(self) -> int:
        """Source models merged in PS (DFS always merges A and B)."""
        return self.recipe.n_sources

    @property
    def description(self) -> str:
        """One line a merge practitioner reads: skill, language distance, depth, sources."""
        srcs = "A language + B, C math experts" if self.n_sources == 3 else "A language + B skill expert"
        return (
            f"{self.skill} skill ({_SKILL_TEXT[self.skill]}), {self.language} language, {self.n_blocks} blocks, {srcs}"
        )

    def benchmark_name(self, kind: str) -> str:
        """Registered name of the task's benchmark in space ``kind`` (``"ps"`` or ``"dfs"``)."""
        _check_kind(kind)
        if self.legacy:
            return PS_NAME if kind == "ps" else DFS_NAME
        return f"{SUITE}-{self.name}-{kind}-true"

    def weights_path(self) -> Path:
        """The packaged weights of the task's sources and target splits."""
        return LAB_DATA_DIR / "sources.npz" if self.legacy else SUITE_DIR / f"{self.name}.npz"

    def space(self, kind: str) -> SearchSpace:
        """The task's search space in ``kind``: PS ``n_sources * L`` weights, DFS ``L + 2L - 1`` variables."""
        name = self.benchmark_name(kind)
        if kind == "ps":
            return ps_space(name=name, n_layers=self.n_blocks, n_models=self.n_sources)
        return dfs_space(name=name, n_layers=self.n_blocks)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind = {kind!r}; allowed: 'ps' or 'dfs'")


def _task(
    name: str, skill: str, language: str, n_blocks: int, *, eval_seconds: tuple[float, float], **recipe: Any
) -> SuiteTask:
    """A task of the suite's default data seed; depth 16 matches block 6 (as 32 blocks match block 12)."""
    spec = TaskSpec(skill=skill, language_power=_NEAR if language == "near" else 1.0)
    match = {"match_block": 12 * n_blocks // 32} if n_blocks != 32 else {}
    return SuiteTask(name, skill, language, spec, TrainRecipe(n_blocks=n_blocks, **match, **recipe), eval_seconds)


#: The tasks of SMM-Mini, in table order.
TASKS: tuple[SuiteTask, ...] = (
    SuiteTask("math-far-32", "math", "far", TaskSpec(), TrainRecipe(), (0.0052, 0.0075), legacy=True),
    _task("math-near-32", "math", "near", 32, eval_seconds=(0.0052, 0.0075)),
    _task("math-far-16", "math", "far", 16, eval_seconds=(0.0027, 0.0036)),
    _task("logic-far-32", "logic", "far", 32, eval_seconds=(0.0052, 0.0075)),
    _task("logic-near-16", "logic", "near", 16, eval_seconds=(0.0027, 0.0036)),
    _task("code-far-32", "code", "far", 32, eval_seconds=(0.0052, 0.0075)),
    _task("code-far-16", "code", "far", 16, eval_seconds=(0.0027, 0.0036)),
    # Its own data seed: with the default one its A and B (hence its DFS benchmark) would be math-far-32's.
    SuiteTask(
        "math-far-32-3src",
        "math",
        "far",
        TaskSpec(seed=20260),
        TrainRecipe(n_sources=3, c_first_block=12, c_lr=2e-3, c_data_seed=301),
        (0.0055, 0.0075),
    ),
)
_BY_NAME = {t.name: t for t in TASKS}


def task_names() -> list[str]:
    """Names of the suite's tasks, in table order."""
    return [t.name for t in TASKS]


def get_task(task: str | SuiteTask) -> SuiteTask:
    """The task of that name; ``ValueError`` naming the known tasks otherwise."""
    if isinstance(task, SuiteTask):
        return task
    if task not in _BY_NAME:
        raise ValueError(f"task = {task!r} is not a task of {SUITE}; allowed: {', '.join(_BY_NAME)}")
    return _BY_NAME[task]


class SuitePSBenchmark(PSTrueBenchmark):
    """Exact PS objective of one suite task (``n_sources * L`` task-arithmetic weights in [0, 1])."""

    task: SuiteTask

    def __init__(
        self, task: str | SuiteTask, weights: str | os.PathLike[str] | None = None, *, cost_model: Any = None
    ) -> None:
        _init_task(self, get_task(task), "ps")
        super().__init__(weights if weights is not None else self.task.weights_path(), cost_model=cost_model)
        self.meta["task"] = self.task.description

    def benchmark_references(self) -> Mapping[str, Any]:
        """The task's QP merge (:mod:`smm_plugins.lab.qp`), beside the space's references.

        Only for the packaged weights: the shipped merge was computed from them, not from a user's own file.
        """
        from smm_plugins.lab.qp import qp_references

        if Path(self.meta["weights"]).resolve() != self.task.weights_path().resolve():
            return {}
        return qp_references(self)


class SuiteDFSBenchmark(DFSTrueBenchmark):
    """Exact DFS objective of one suite task (``L`` layer codes, ``2L - 1`` hop scales; merges A and B)."""

    task: SuiteTask

    def __init__(
        self, task: str | SuiteTask, weights: str | os.PathLike[str] | None = None, *, cost_model: Any = None
    ) -> None:
        _init_task(self, get_task(task), "dfs")
        super().__init__(weights if weights is not None else self.task.weights_path(), cost_model=cost_model)
        self.meta["task"] = self.task.description + (" (DFS merges A and B)" if self.task.n_sources > 2 else "")


def _init_task(bench: Any, task: SuiteTask, kind: str) -> None:
    # Instance attributes shadow the legacy classes' name, space and seconds before the base reads them.
    bench.task = task
    bench.name = task.benchmark_name(kind)
    bench.space = task.space(kind)
    bench.eval_seconds = task.eval_seconds[KINDS.index(kind)]


def task_benchmark(
    task: str | SuiteTask,
    kind: str,
    *,
    weights: str | os.PathLike[str] | None = None,
    cost_model: Any = None,
) -> PSTrueBenchmark | DFSTrueBenchmark:
    """The exact benchmark of ``task`` in space ``kind`` (``"ps"`` or ``"dfs"``).

    ``math-far-32`` gives the committed pair ``smm-mini-ps-true`` / ``smm-mini-dfs-true``.
    """
    t = get_task(task)
    _check_kind(kind)
    if t.legacy and weights is None:
        return (ps_true_benchmark if kind == "ps" else dfs_true_benchmark)(cost_model=cost_model)
    cls = SuitePSBenchmark if kind == "ps" else SuiteDFSBenchmark
    return cls(t, weights, cost_model=cost_model)


def _entry(task: SuiteTask, kind: str) -> BenchmarkEntry:
    if task.legacy:
        return PS_TRUE_ENTRY if kind == "ps" else DFS_TRUE_ENTRY
    return BenchmarkEntry(
        task.benchmark_name(kind),
        functools.partial(task_benchmark, task.name, kind),
        description=f"SMM-Mini exact {kind.upper()} objective: {task.description}"
        + (" (DFS merges A and B)" if kind == "dfs" and task.n_sources > 2 else ""),
        kind="true",
        eval_seconds=task.eval_seconds[KINDS.index(kind)],
        suites=(SUITE,),
    )


def suite_entries() -> dict[str, BenchmarkEntry]:
    """Registrations of every member of the suite, by benchmark name (legacy pair included)."""
    return {e.name: e for t in TASKS for kind in KINDS for e in (_entry(t, kind),)}


def _attr_name(benchmark: str) -> str:
    # "smm-mini-logic-far-32-ps-true" -> "LOGIC_FAR_32_PS": the attribute its entry point names.
    return benchmark.removeprefix(f"{SUITE}-").removesuffix("-true").replace("-", "_").upper()


def __getattr__(attr: str) -> BenchmarkEntry:
    # Entry points of the group smm_plugins.benchmarks name one attribute per member (pyproject.toml).
    for name, entry in suite_entries().items():
        if _attr_name(name) == attr:
            return entry
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
