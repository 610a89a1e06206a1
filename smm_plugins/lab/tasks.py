"""Data of the merge lab: synthetic tasks, the "foreign language" and the target splits.

Every input is a vector of ``N_CONTENT`` content dimensions followed by a one-hot task flag of
``N_TASKS`` dimensions. Each task is a fixed random nonlinear labelling of the content dimensions into
``N_CLASSES`` classes. The "foreign language" is a fixed random rotation of the content dimensions; the
task flag is never rotated (so a translator learned on some tasks transfers to every task).

The analogue of SMM-Bench: tasks 0-2 are "general" skills, task 3 is "math"; source A learns the
language (rotated inputs), source B learns math (plain inputs), the target is math in the language.

Everything is a deterministic function of :class:`TaskSpec` (NumPy ``default_rng`` streams).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "N_CONTENT",
    "N_TASKS",
    "D_IN",
    "N_CLASSES",
    "MATH_TASK",
    "GENERAL_TASKS",
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

    # -- labels and inputs ----------------------------------------------------------------------
    def labels(self, content: np.ndarray, task: np.ndarray | int) -> np.ndarray:
        """Class (0..N_CLASSES-1) of each row of plain (unrotated) ``content`` (n, N_CONTENT) for ``task``."""
        content = np.asarray(content, dtype=np.float64)
        task = np.broadcast_to(np.asarray(task, dtype=np.int64), (content.shape[0],))
        z = np.tanh(np.einsum("nc,nch->nh", content, self._tw[task]) + self._tb[task])
        return np.einsum("nh,nhk->nk", z, self._tv[task]).argmax(axis=1).astype(np.int64)

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
