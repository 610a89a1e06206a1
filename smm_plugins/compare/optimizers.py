"""Optimisers of the comparison runner: the registry, installed plugins, and specs resolved on the spot.

An optimiser is a function ``fn(benchmark, seed, budget, *, objective="train_acc", **options) -> None``.
``benchmark`` is a :class:`~smm_plugins.compare.traced.TracedBenchmark`: a
:class:`~smm_plugins.benchmark.Benchmark` that records every evaluation of ``objective`` (configuration,
value, wall-clock time). The optimiser only has to make ``budget`` evaluations through it, directly or
through a framework adapter that is handed the traced benchmark; the runner turns the trace into one row
per evaluation (test accuracy of the same configuration and simulated time are added afterwards, out of
the optimiser's sight). Evaluations beyond ``budget`` are not recorded, and an evaluation started after
the budget is used up raises :class:`~smm_plugins.compare.traced.BudgetExhausted`, which the runner
treats as normal termination.

Where optimisers come from, in the order :func:`get_optimizer` looks:

1. :func:`register_optimizer` in this process (``de``, differential evolution with scipy, is the core's own).
2. Installed plugins: each entry point of the group ``smm_plugins.optimizers`` names one optimiser and
   points at its :class:`OptimizerInfo` (or a function returning it). An entry point is loaded when its
   name is first asked for; :func:`list_optimizers` loads them all. The framework adapters of this
   distribution (Optuna, Syne Tune, HPOBench) are plugins like any third-party package.
3. Specs: ``"package.module:attr"`` naming an optimiser function or an :class:`OptimizerInfo`, imported
   with :func:`pkgutil.resolve_name` (in the driver; the resolved optimiser travels to Ray workers); and
   any spec that a resolver accepts: resolvers are functions ``resolve(spec) -> OptimizerInfo | None``
   registered with :func:`register_optimizer_resolver` or as entry points of the group
   ``smm_plugins.optimizer_resolvers`` (the Optuna plugin of this distribution accepts sampler classes
   such as ``"optuna.samplers:QMCSampler"`` and OptunaHub packages).

A plugin that cannot be loaded is reported by name (a warning, and in the error for its optimiser's
name); it never breaks the others. :class:`OptimizerInfo` and :func:`quiet_output` live in the core
(:mod:`smm_plugins.optimizer_api`, re-exported here), the reading of entry points in :mod:`smm_plugins.plugins`.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import pkgutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from smm_plugins.compare.de import differential_evolution
from smm_plugins.compare.traced import BudgetExhausted, TracedBenchmark

# Re-exported: what optimiser plugins need lives in the core (adapters import it from there), and so does
# the reading of entry points.
from smm_plugins.optimizer_api import OptimizerFn, OptimizerInfo, quiet_output
from smm_plugins.plugins import (
    OPTIMIZER_GROUP,
    RESOLVER_GROUP,
    entry_points,
    load_entry_point,
    plugin_error,
)

__all__ = [
    "OPTIMIZER_GROUP",
    "RESOLVER_GROUP",
    "BudgetExhausted",
    "OptimizerFn",
    "OptimizerInfo",
    "OptimizerResolver",
    "TracedBenchmark",
    "get_optimizer",
    "list_optimizers",
    "optimizer_plugin_errors",
    "quiet_output",
    "register_optimizer",
    "register_optimizer_resolver",
]

#: ``resolve(spec) -> OptimizerInfo | None``: an optimiser for a spec it recognises, else None.
OptimizerResolver = Callable[[str], OptimizerInfo | None]

_LOCK = threading.RLock()
_REGISTRY: dict[str, OptimizerInfo] = {}
_RESOLVERS: list[OptimizerResolver] = []
#: Entry-point name -> why it could not be loaded.
_PLUGIN_ERRORS: dict[str, str] = {}
_TRIED: set[str] = set()
_RESOLVER_PLUGINS_LOADED = False


def register_optimizer(
    name: str,
    fn: OptimizerFn,
    *,
    framework: str,
    description: str,
    requires: Sequence[str] = (),
    overwrite: bool = False,
    cost_hint: float = 5.0,
    **defaults: Any,
) -> OptimizerInfo:
    """Register optimiser ``fn`` under ``name`` in this process (see the module docstring for its signature).

    The fields are those of :class:`OptimizerInfo`. Registering an existing name (also one an installed
    plugin provides) raises unless ``overwrite=True``.
    """
    if not isinstance(name, str) or not name or any(c in name for c in " ,/:") or name.startswith("_"):
        raise ValueError(f"optimizer name {name!r} must be a non-empty string without spaces, ',', '/' or ':'")
    info = OptimizerInfo(name, fn, framework, description, tuple(requires), dict(defaults), float(cost_hint))
    with _LOCK:
        if not overwrite and (name in _REGISTRY or name in _optimizer_entry_points()):
            raise ValueError(f"optimizer {name!r} is already registered (pass overwrite=True to replace it)")
        _REGISTRY[name] = info
        _TRIED.add(name)  # registered here: the plugin of the same name, if any, is not loaded
    return info


def register_optimizer_resolver(resolver: OptimizerResolver) -> None:
    """Add ``resolver(spec) -> OptimizerInfo | None`` to the resolvers :func:`get_optimizer` asks."""
    if not callable(resolver):
        raise TypeError(f"resolver must be callable, got {type(resolver).__name__}")
    with _LOCK:
        if resolver not in _RESOLVERS:
            _RESOLVERS.append(resolver)


def list_optimizers(*, only_available: bool = False) -> list[OptimizerInfo]:
    """Registered and installed optimisers, sorted by framework then name (plugins that fail are left out)."""
    for name in _optimizer_entry_points():
        _load_plugin(name)
    infos = sorted(_REGISTRY.values(), key=lambda i: (i.framework, i.name))
    return [i for i in infos if i.available] if only_available else infos


def optimizer_plugin_errors() -> dict[str, str]:
    """Installed optimiser plugins that could not be loaded so far: entry-point name -> reason."""
    return dict(_PLUGIN_ERRORS)


def get_optimizer(name: str) -> OptimizerInfo:
    """The optimiser ``name``: registered, from an installed plugin, or a spec (see the module docstring).

    Raises ``ValueError`` naming the known optimisers for an unknown name, and the plugin and its error for
    a plugin that cannot be loaded.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"optimizer = {name!r} is not allowed; allowed: a registered name or 'module:function'")
    info = _REGISTRY.get(name) or _load_plugin(name)
    if info is not None:
        return info
    if name in _PLUGIN_ERRORS:
        raise ValueError(_PLUGIN_ERRORS[name])
    info = _resolve_spec(name)
    if info is not None:
        return info
    known = ", ".join(sorted(set(_REGISTRY) | set(_optimizer_entry_points())))
    hint = (
        ""
        if _optimizer_entry_points()
        else f"; no optimiser plugins are installed (entry points of group {OPTIMIZER_GROUP!r}): the built-in "
        "Optuna, Syne Tune and HPOBench optimisers are registered by installing smm-plugins (in a source "
        "checkout: pip install -e .)"
    )
    raise ValueError(
        f"unknown optimizer {name!r}; known: {known}; or give 'package.module:function' or a spec an installed "
        f"plugin accepts, e.g. 'optuna.samplers:QMCSampler' (see smm_plugins.compare.optimizers){hint}"
    )


# -- plugins ----------------------------------------------------------------------------------------


def _optimizer_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return entry_points(OPTIMIZER_GROUP)


def _load_plugin(name: str) -> OptimizerInfo | None:
    """Load the installed plugin ``name`` once; None if there is none or it fails (the reason is kept)."""
    with _LOCK:
        if name in _TRIED:
            return _REGISTRY.get(name)
        _TRIED.add(name)
        ep = _optimizer_entry_points().get(name)
        if ep is None:
            return None
        try:
            info = load_entry_point(ep, OptimizerInfo)
        except Exception as exc:  # noqa: BLE001 - any failure of third-party code: report it, keep the rest
            _PLUGIN_ERRORS[name] = plugin_error("optimizer", ep, exc)
            return None
        if info.name != name:
            info = replace(info, name=name)  # the entry point's name is the one users type
        _REGISTRY[name] = info
        return info


def _resolvers() -> list[OptimizerResolver]:
    global _RESOLVER_PLUGINS_LOADED
    with _LOCK:
        if not _RESOLVER_PLUGINS_LOADED:
            _RESOLVER_PLUGINS_LOADED = True
            for ep in entry_points(RESOLVER_GROUP).values():
                try:
                    register_optimizer_resolver(ep.load())
                except Exception as exc:  # noqa: BLE001 - a broken plugin must not hide the others
                    _PLUGIN_ERRORS[f"resolver:{ep.name}"] = plugin_error("optimizer resolver", ep, exc)
        return list(_RESOLVERS)


def _resolve_spec(spec: str) -> OptimizerInfo | None:
    """An optimiser for ``"module:attr"`` or a spec a resolver accepts; None if nothing recognises it."""
    target: Any = None
    import_error = ""
    if ":" in spec:
        try:
            target = pkgutil.resolve_name(spec)
        except (ImportError, AttributeError, ValueError) as exc:
            import_error = f"{type(exc).__name__}: {exc}"
        if isinstance(target, OptimizerInfo):
            return replace(target, name=spec)
        if inspect.isfunction(target) or inspect.ismethod(target) or inspect.isbuiltin(target):
            return OptimizerInfo(spec, target, "user", f"{target.__module__}.{target.__qualname__}")
    for resolver in _resolvers():
        info = resolver(spec)
        if info is not None:
            return info if info.name == spec else replace(info, name=spec)
    if import_error:
        raise ValueError(f"optimizer {spec!r}: cannot import it ({import_error})")
    if ":" in spec:
        what = (
            f"the class {target.__module__}.{target.__qualname__}"
            if isinstance(target, type)
            else f"a {type(target).__name__} object"
        )
        raise ValueError(
            f"optimizer {spec!r} is {what}, not an optimizer function "
            "fn(benchmark, seed, budget, *, objective, **options) or an OptimizerInfo, and no installed plugin "
            'accepts it (Optuna sampler classes need the Optuna plugin: pip install "smm-plugins[optuna]")'
        )
    return None


# The core's own optimiser: registered directly, so that it needs no installed metadata.
_REGISTRY["de"] = OptimizerInfo(
    "de",
    differential_evolution,
    framework="scipy",
    description="differential evolution (scipy, DE/rand/1/bin, population 20)",
    requires=("scipy",),
    cost_hint=0.5,
)
_TRIED.add("de")
