"""What an optimiser plugin gives the comparison runner: :class:`OptimizerInfo`, and :func:`quiet_output`.

An optimiser is a function ``fn(benchmark, seed, budget, *, objective="train_acc", **options) -> None`` that
makes ``budget`` evaluations of ``objective`` through ``benchmark`` (a :class:`~smm_plugins.benchmark.Benchmark`
that records them). A package offers one as an entry point of the group ``smm_plugins.optimizers`` pointing at
its :class:`OptimizerInfo` (see :mod:`smm_plugins.plugins`). Framework adapters import this module, not the
runner.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from smm_plugins._deps import available

__all__ = ["OptimizerFn", "OptimizerInfo", "quiet_output"]

#: ``fn(benchmark, seed, budget, *, objective, **options) -> None``: see the module docstring.
OptimizerFn = Callable[..., Any]


@dataclass(frozen=True)
class OptimizerInfo:
    """An optimiser: its function and what the runner and ``--list-optimizers`` need to know about it.

    ``requires``: modules it imports; ``defaults``: keyword options passed to ``fn`` unless the experiment
    overrides them; ``cost_hint``: rough milliseconds of the optimiser's own work per trial (the Ray runner
    starts the slowest runs first, and the progress bar weighs runs by it).
    """

    name: str
    fn: OptimizerFn
    framework: str
    description: str
    requires: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    cost_hint: float = 5.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"optimizer name {self.name!r} must be a non-empty string")
        if not callable(self.fn):
            raise TypeError(f"optimizer {self.name!r}: fn must be callable, got {type(self.fn).__name__}")
        object.__setattr__(self, "requires", tuple(self.requires))
        object.__setattr__(self, "defaults", dict(self.defaults))
        object.__setattr__(self, "cost_hint", float(self.cost_hint))

    @property
    def available(self) -> bool:
        """True if every module it needs can be imported here."""
        return all(available(m) for m in self.requires)

    def __call__(self, benchmark: Any, seed: int, budget: int, *, objective: str = "train_acc", **options: Any) -> Any:
        return self.fn(benchmark, seed, budget, objective=objective, **{**self.defaults, **options})


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """Silence warnings and ``print`` of a framework while it runs (thousands of trials must stay readable)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(io.StringIO()):
            yield
