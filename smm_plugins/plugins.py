"""Installed plugins: entry points of the groups through which other packages extend the core.

Groups (each entry point's name is what users type; its value ``"package.module:attr"`` is loaded on use):

==================================  ===========================================================================
``smm_plugins.benchmarks``          a :class:`~smm_plugins.registry.BenchmarkEntry` (or a function returning
                                    one) registered under the entry point's name when the registry is imported
``smm_plugins.cli``                 ``add_subcommands(subparsers)``: adds ``smm-bench`` sub-commands
``smm_plugins.optimizers``          an :class:`~smm_plugins.optimizer_api.OptimizerInfo` (or a function
                                    returning one) for the comparison runner
``smm_plugins.optimizer_resolvers`` ``resolve(spec) -> OptimizerInfo | None`` for optimiser specs
``smm_plugins.references``          ``f(benchmark) -> {label: {name: value}}``: reference configurations of the
                                    benchmark of that name (:func:`smm_plugins.references.plugin_references`)
==================================  ===========================================================================

Entry points are discovered once per process (installing a plugin takes effect in the next process). A
plugin that cannot be loaded is reported by name, with its target and distribution; it never breaks the
others.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from typing import Any, TypeVar

__all__ = [
    "BENCHMARK_GROUP",
    "CLI_GROUP",
    "OPTIMIZER_GROUP",
    "RESOLVER_GROUP",
    "describe_entry_point",
    "entry_points",
    "load_entry_point",
    "plugin_error",
]

logger = logging.getLogger(__name__)

#: Benchmarks: ``name = "package.module:ENTRY"`` (a ``BenchmarkEntry``).
BENCHMARK_GROUP = "smm_plugins.benchmarks"
#: ``smm-bench`` sub-commands: ``name = "package.module:add_subcommands"``.
CLI_GROUP = "smm_plugins.cli"
#: Optimisers of ``smm-bench compare``: ``name = "package.module:OPTIMIZER_INFO"``.
OPTIMIZER_GROUP = "smm_plugins.optimizers"
#: Resolvers of optimiser specs that are not registered names: ``name = "package.module:resolve"``.
RESOLVER_GROUP = "smm_plugins.optimizer_resolvers"

T = TypeVar("T")

_LOCK = threading.RLock()
_FOUND: dict[str, dict[str, importlib.metadata.EntryPoint]] = {}


def entry_points(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    """The installed entry points of ``group`` by name, in discovery order (read once per process).

    A name declared twice with different targets keeps the first, with a warning.
    """
    with _LOCK:
        if group not in _FOUND:
            _FOUND[group] = _discover(group)
        return dict(_FOUND[group])


def _discover(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in importlib.metadata.entry_points(group=group):
        if ep.name in found and found[ep.name].value != ep.value:
            logger.warning(
                "entry point %r of group %s is declared twice (%s and %s): using the first",
                ep.name,
                group,
                found[ep.name].value,
                ep.value,
            )
            continue
        found.setdefault(ep.name, ep)
    return found


def describe_entry_point(ep: importlib.metadata.EntryPoint) -> str:
    """``'target' (entry point 'name' in group 'group' of distribution)``, for messages."""
    dist = getattr(ep, "dist", None)
    origin = f" of {dist.name}" if dist is not None else ""
    return f"{ep.value!r} (entry point {ep.name!r} in group {ep.group!r}{origin})"


def load_entry_point(ep: importlib.metadata.EntryPoint, kind: type[T]) -> T:
    """The object ``ep`` names, an instance of ``kind``; a callable that is not one is called (no arguments).

    Raises what importing raises, or ``TypeError`` if the result is not a ``kind``.
    """
    obj: Any = ep.load()
    if callable(obj) and not isinstance(obj, kind):
        obj = obj()
    if not isinstance(obj, kind):
        raise TypeError(f"it gave a {type(obj).__name__}, not a {kind.__name__}")
    return obj


def plugin_error(what: str, ep: importlib.metadata.EntryPoint, exc: BaseException) -> str:
    """The one-line report of plugin ``ep`` that failed with ``exc``, logged (info for a missing import).

    ``what`` names the kind of plugin (``"optimizer"``, ``"benchmark"``, ...).
    """
    msg = f"{what} plugin {describe_entry_point(ep)} cannot be loaded: {type(exc).__name__}: {exc}"
    (logger.info if isinstance(exc, ImportError) else logger.warning)("%s", msg)
    return msg
