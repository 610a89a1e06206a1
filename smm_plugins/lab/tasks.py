"""Data of the merge lab: synthetic tasks, the "foreign language" and the target splits.

Every input is a vector of ``N_CONTENT`` content dimensions followed by a one-hot task flag of
``N_TASKS`` dimensions. Each task is a fixed random nonlinear labelling of the content dimensions into
``N_CLASSES`` classes. The "foreign language" is a fixed random rotation of the content dimensions; the
task flag is never rotated (so a translator learned on some tasks transfers to every task).

The analogue of SMM-Bench: tasks 0-2 are "general" skills, task 3 is "math"; source A learns the
language (rotated inputs), source B learns math (plain inputs), the target is math in the language.

The suite's other tasks vary the target skill (``TaskSpec.skill``: another function class for task 3) and
the distance of the language (``TaskSpec.language_power``: the rotation raised to a power, via the real matrix
logarithm). Their random quantities come from streams of their own, so the defaults reproduce the
committed data exactly.

Everything is a deterministic function of :class:`TaskSpec` (NumPy ``default_rng`` streams).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "N_CONTENT",
    "N_TASKS",
    "D_IN",
    "N_CLASSES",
    "MATH_TASK",
    "GENERAL_TASKS",
    "SKILLS",
    "TaskSpec",
    "LabTasks",
]

#: Content dimensions of an input (rotated by the foreign language).
N_CONTENT: int = 12
#: Tasks, encoded as a one-hot flag appended to the content (never rotated).
N_TASKS: int = 4
#: Input width of the networks.
D_IN: int = N_CONTENT + N_TASKS
#: Classes of every task (chance accuracy 1/8).
N_CLASSES: int = 8
#: The "math" task (what source B learns and the target asks for).
MATH_TASK: int = 3
#: The "general" tasks the base model is trained on.
GENERAL_TASKS: tuple[int, ...] = (0, 1, 2)
#: Function classes of the target skill (task 3): ``"math"`` the smooth random tanh teacher (the committed
#: lab), ``"logic"`` the 3 sign bits of 3 random affine projections (sharp boundaries through the origin
#: region), ``"code"`` the nearest of 8 random prototypes (a Voronoi partition).
SKILLS: tuple[str, ...] = ("math", "logic", "code")
#: Stream keys of the non-default skills and languages (never drawn from the committed stream).
_SKILL_STREAM, _LANGUAGE_STREAM = 7001, 7002


@dataclass(frozen=True)
class TaskSpec:
    """Seeds and sizes that define the lab's data (all defaults are the committed recipe)."""

    seed: int = 20250
    teacher_hidden: int = 48
    #: Target splits: optimisation split (``train_acc``) and disjoint test split (``test_acc``).
    n_train_split: int = 1000
    n_test_split: int = 1000
    #: Mean shift of the test split's content, along a fixed random unit direction (a mild domain
    #: shift, as MGSM-ja differs from gsm8k-ja).
    test_shift: float = 0.3
    #: Function class of the target skill (one of :data:`SKILLS`).
    skill: str = "math"
    #: Distance of the foreign language: the rotation is ``R ** language_power`` (1 = the full Haar-random
    #: rotation ``R``; 0 < p < 1 rotates every content plane by a fraction ``p`` of its angle: a "near" language).
    language_power: float = 1.0

    def __post_init__(self) -> None:
        if self.skill not in SKILLS:
            raise ValueError(f"TaskSpec.skill = {self.skill!r}; allowed: {', '.join(SKILLS)}")
        if not 0.0 < self.language_power <= 1.0:
            raise ValueError(f"TaskSpec.language_power = {self.language_power!r}; allowed: 0 < p <= 1")


class LabTasks:
    """The teachers, the rotation and samplers of the lab's tasks (deterministic in ``spec.seed``)."""

    def __init__(self, spec: TaskSpec | None = None) -> None:
        self.spec = spec or TaskSpec()
        rng = np.random.default_rng(self.spec.seed)
        h = self.spec.teacher_hidden
        # Teacher of each task: label = argmax(tanh(x W + b) V); random, fixed, nonlinear.
        self._tw = rng.standard_normal((N_TASKS, N_CONTENT, h)) / np.sqrt(N_CONTENT)
        self._tb = 0.5 * rng.standard_normal((N_TASKS, h))
        self._tv = rng.standard_normal((N_TASKS, h, N_CLASSES)) / np.sqrt(h)
        # The foreign language: a Haar-random rotation of the content dims (QR of a Gaussian matrix,
        # signs fixed so the result is unique).
        q, r = np.linalg.qr(rng.standard_normal((N_CONTENT, N_CONTENT)))
        self.rotation: np.ndarray = q * np.sign(np.diag(r))
        d = rng.standard_normal(N_CONTENT)
        self.shift_direction: np.ndarray = d / np.linalg.norm(d)
        if self.spec.language_power != 1.0:
            self.rotation = _rotation_power(self.rotation, self.spec.language_power)
        self._skill = _skill_teacher(self.spec)

    # -- labels and inputs ----------------------------------------------------------------------
    def labels(self, content: np.ndarray, task: np.ndarray | int) -> np.ndarray:
        """Class (0..N_CLASSES-1) of each row of plain (unrotated) ``content`` (n, N_CONTENT) for ``task``."""
        content = np.asarray(content, dtype=np.float64)
        task = np.broadcast_to(np.asarray(task, dtype=np.int64), (content.shape[0],))
        z = np.tanh(np.einsum("nc,nch->nh", content, self._tw[task]) + self._tb[task])
        out = np.einsum("nh,nhk->nk", z, self._tv[task]).argmax(axis=1).astype(np.int64)
        if self._skill is not None:
            is_skill = task == MATH_TASK
            out[is_skill] = self._skill(content[is_skill])
        return out

    def encode(self, content: np.ndarray, task: np.ndarray | int, *, rotated: bool) -> np.ndarray:
        """Network input (n, D_IN) float32: content (rotated if ``rotated``) then the one-hot task flag."""
        content = np.asarray(content, dtype=np.float64)
        n = content.shape[0]
        task = np.broadcast_to(np.asarray(task, dtype=np.int64), (n,))
        x = np.zeros((n, D_IN), dtype=np.float64)
        x[:, :N_CONTENT] = content @ self.rotation.T if rotated else content
        x[np.arange(n), N_CONTENT + task] = 1.0
        return x.astype(np.float32)

    def sample(
        self,
        n: int,
        task: np.ndarray | int,
        *,
        rotated: bool,
        seed: int,
        shift: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` labelled examples: inputs (n, D_IN) float32 and labels (n,) int64.

        ``task`` is one task id or an array of ``n`` ids; content ~ N(shift * direction, I).
        """
        rng = np.random.default_rng([self.spec.seed, seed])
        content = rng.standard_normal((n, N_CONTENT)) + shift * self.shift_direction
        return self.encode(content, task, rotated=rotated), self.labels(content, task)

    def target_splits(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The target task (math on rotated inputs): ``{"train_acc": (X, y), "test_acc": (X, y)}``.

        Disjoint random streams; the test split's content is mildly shifted (``spec.test_shift``).
        """
        s = self.spec
        return {
            "train_acc": self.sample(s.n_train_split, MATH_TASK, rotated=True, seed=901),
            "test_acc": self.sample(s.n_test_split, MATH_TASK, rotated=True, seed=902, shift=s.test_shift),
        }


def _rotation_power(rotation: np.ndarray, power: float) -> np.ndarray:
    """``rotation ** power`` through the real matrix logarithm (a rotation with det +1 and no angle pi)."""
    from scipy.linalg import expm, logm

    generator = np.real(logm(rotation))
    generator = 0.5 * (generator - generator.T)  # exactly skew-symmetric: expm gives a rotation
    return np.asarray(expm(power * generator), dtype=np.float64)


def _skill_teacher(spec: TaskSpec) -> Any:
    """The labelling of a non-default skill, ``content (n, N_CONTENT) -> classes (n,)``, or ``None`` for math."""
    if spec.skill == "math":
        return None
    rng = np.random.default_rng([spec.seed, _SKILL_STREAM])
    if spec.skill == "logic":
        # 3 bits = the signs of 3 random affine projections: 8 cones with sharp boundaries.
        proj = rng.standard_normal((N_CONTENT, 3)) / np.sqrt(N_CONTENT)
        offset = 0.3 * rng.standard_normal(3)
        bits = np.array([1, 2, 4])
        return lambda c: (((c @ proj + offset) > 0) @ bits).astype(np.int64)
    # "code": the nearest of N_CLASSES random prototypes.
    protos = rng.standard_normal((N_CLASSES, N_CONTENT))
    return lambda c: ((c[:, None, :] - protos[None]) ** 2).sum(-1).argmin(axis=1).astype(np.int64)
