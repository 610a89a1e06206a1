"""The training recipe of a lab task's source models (torch-free, so task specs import it without torch).

:class:`TrainRecipe`'s defaults are the committed lab (``sources.npz``); the suite's tasks change depth,
the matched block and, for the three-source task, add a second math expert C (see
:mod:`smm_plugins.lab.suite` and :mod:`smm_plugins.lab.train`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from smm_plugins.lab.network import N_BLOCKS

__all__ = ["TrainRecipe"]


@dataclass(frozen=True)
class TrainRecipe:
    """Sizes, seeds and optimiser settings of a task's source models (defaults = the committed lab).

    ``n_sources = 3`` adds source C: the base fine-tuned on math examples of its own data seed
    (``c_data_seed``), only its blocks ``c_first_block .. n_blocks - 1``, with learning rate ``c_lr``;
    its random draws come from a generator of its own, so A and B are the same as without it.
    """

    seed: int = 7
    n_general: int = 8000
    n_math_base: int = 150
    n_math_b: int = 8000
    n_translate: int = 16000
    match_block: int = 12
    base_epochs: int = 40
    a_epochs: int = 40
    b_epochs: int = 25
    batch_size: int = 256
    lr: float = 2e-3
    b_lr: float = 1e-3
    n_blocks: int = N_BLOCKS
    n_sources: int = 2
    c_data_seed: int = 301
    c_first_block: int = 0
    c_epochs: int = 25
    c_lr: float = 1e-3

    def __post_init__(self) -> None:
        if self.n_blocks < 1:
            raise ValueError(f"TrainRecipe.n_blocks = {self.n_blocks!r}; allowed: an integer >= 1")
        if not 1 <= self.match_block <= self.n_blocks:
            raise ValueError(
                f"TrainRecipe.match_block = {self.match_block!r}; allowed: 1 .. n_blocks ({self.n_blocks})"
            )
        if self.n_sources not in (2, 3):
            raise ValueError(f"TrainRecipe.n_sources = {self.n_sources!r}; allowed: 2 or 3")
        if not 0 <= self.c_first_block < self.n_blocks:
            raise ValueError(
                f"TrainRecipe.c_first_block = {self.c_first_block!r}; allowed: 0 .. n_blocks - 1 ({self.n_blocks - 1})"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
