"""The HPOBench base class: the real one when HPOBench is importable, else a same-contract stand-in.

HPOBench is not on PyPI, so the adapter cannot depend on it. The stand-in reproduces the parts of
``hpobench.abstract_benchmark.AbstractBenchmark`` a user touches (construction with ``rng``, the static
getters, ``check_parameters`` validation and fidelity filling, ``__call__``), using the ConfigSpace 1.x
API, so that user code is identical with and without HPOBench.
"""

from __future__ import annotations

import abc
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from smm_plugins._deps import require

if TYPE_CHECKING:
    import ConfigSpace
else:
    ConfigSpace = require("ConfigSpace", "hpobench", who="hpobench_ext")

__all__ = ["AbstractBenchmark", "HPOBENCH_AVAILABLE", "get_rng"]

logger = logging.getLogger(__name__)


def get_rng(
    rng: int | np.random.RandomState | None, self_rng: np.random.RandomState | None = None
) -> np.random.RandomState:
    """HPOBench's rng rule: an int seeds a new RandomState, a RandomState is used as is, None -> ``self_rng``."""
    if rng is None:
        return self_rng if self_rng is not None else np.random.RandomState()
    if isinstance(rng, np.random.RandomState):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.RandomState(int(rng))
    raise ValueError(f"rng = {rng!r}; allowed: None, an int or a numpy.random.RandomState")


class _StandInAbstractBenchmark(abc.ABC):
    """Same contract as HPOBench's ``AbstractBenchmark`` (used only when HPOBench is not installed)."""

    def __init__(self, rng: int | np.random.RandomState | None = None, **kwargs: Any) -> None:
        self.rng = get_rng(rng)
        # As in HPOBench: the getters are called after the rng exists, seeded from it.
        self.configuration_space = self.get_configuration_space(self.rng.randint(0, 10000))
        self.fidelity_space = self.get_fidelity_space(self.rng.randint(0, 10000))

    @abc.abstractmethod
    def objective_function(self, configuration: Any, fidelity: Any = None, rng: Any = None, **kwargs: Any) -> dict:
        """Evaluate; returns ``{'function_value', 'cost', 'info'}`` (function_value is minimised)."""

    @abc.abstractmethod
    def objective_function_test(self, configuration: Any, fidelity: Any = None, rng: Any = None, **kwargs: Any) -> dict:
        """Evaluate on the held-out split; same return schema."""

    @staticmethod
    def check_parameters(wrapped_function: Callable[..., dict]) -> Callable[..., dict]:
        """Validate ``configuration`` and ``fidelity`` against the spaces, fill fidelity defaults, pass dicts on."""

        @functools.wraps(wrapped_function, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        def wrapper(self: Any, configuration: Any, fidelity: Any = None, **kwargs: Any) -> dict:
            config = _cast_configuration(configuration, self.configuration_space)
            fid = _cast_fidelity(fidelity, self.fidelity_space, **kwargs)
            return wrapped_function(self, dict(config), dict(fid), **kwargs)

        return wrapper

    def __call__(self, configuration: dict, **kwargs: Any) -> float:
        """Just the ``function_value`` (for scipy-style optimisers)."""
        return self.objective_function(configuration, **kwargs)["function_value"]

    @staticmethod
    @abc.abstractmethod
    def get_configuration_space(seed: int | None = None) -> Any:
        """The configuration space (a ``ConfigSpace.ConfigurationSpace``)."""

    @staticmethod
    @abc.abstractmethod
    def get_fidelity_space(seed: int | None = None) -> Any:
        """The fidelity space (a ``ConfigSpace.ConfigurationSpace``, defaults = highest fidelity)."""

    @staticmethod
    @abc.abstractmethod
    def get_meta_information() -> dict:
        """Human-readable information (name, references)."""


def _cast_configuration(configuration: Any, space: Any) -> Any:
    if isinstance(configuration, dict):
        # Raises ConfigSpace's errors (ValueError subclasses) for unknown names, missing or illegal values.
        return ConfigSpace.Configuration(space, values=configuration, allow_inactive_with_values=True)
    if isinstance(configuration, ConfigSpace.Configuration):
        configuration.check_valid_configuration()
        return configuration
    raise TypeError(
        f"Configuration has to be a dict or ConfigSpace.Configuration but was {type(configuration).__name__}"
    )


def _cast_fidelity(fidelity: Any, space: Any, **kwargs: Any) -> Any:
    loose = [name for name in space if name in kwargs]
    if loose:
        raise ValueError(
            f"Fidelity parameters {', '.join(loose)} should not be passed as keywords; use fidelity={{...}}"
        )
    defaults = dict(space.get_default_configuration())
    if fidelity is None:
        fidelity = defaults
    if isinstance(fidelity, dict):
        unknown = sorted(set(fidelity) - set(defaults))
        if unknown:
            raise ValueError(
                f"Provided fidelity dict contained unknown fidelity values: {unknown}; allowed: {sorted(defaults)}"
            )
        return ConfigSpace.Configuration(space, values={**defaults, **fidelity})
    if isinstance(fidelity, ConfigSpace.Configuration):
        fidelity.check_valid_configuration()
        return fidelity
    raise TypeError(f"Fidelity has to be None, a dict or ConfigSpace.Configuration but was {type(fidelity).__name__}")


try:  # HPOBench is optional: subclass the real base class whenever it can be imported.
    from hpobench.abstract_benchmark import AbstractBenchmark as _HPOBenchBase

    AbstractBenchmark: Any = _HPOBenchBase
    HPOBENCH_AVAILABLE = True
except ImportError as _exc:  # pragma: no cover - depends on the environment
    logger.debug("HPOBench not importable (%s); using the stand-in base class", _exc)
    AbstractBenchmark = _StandInAbstractBenchmark
    HPOBENCH_AVAILABLE = False
