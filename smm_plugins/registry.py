"""Named benchmarks: ``register_benchmark``, ``list_benchmarks``, ``load_benchmark``.

Pre-registered:

=====================  ==========================================================================
``smm-bench-ps``       official SMM-Bench-PS surrogate (user download, ``smm-bench install PATH``)
``smm-bench-dfs``      official SMM-Bench-DFS surrogate (user download, ``smm-bench install PATH``)
``smm-mini-ps``        surrogate of the project's merge lab, PS space (embedded in the package)
``smm-mini-dfs``       surrogate of the project's merge lab, DFS space (embedded in the package)
``smm-mini-ps-true``   the merge lab's exact PS objective (no surrogate; a plugin, see below)
``smm-mini-dfs-true``  the merge lab's exact DFS objective (no surrogate; a plugin, see below)
=====================  ==========================================================================

Other packages add benchmarks as entry points of the group ``smm_plugins.benchmarks``: each names a
benchmark and points at its :class:`BenchmarkEntry` (or a function returning one); they are registered
when this module is imported (see :mod:`smm_plugins.plugins`). The merge lab's exact objectives come in
this way. A plugin that cannot be loaded is reported by name and never breaks the others.

A benchmark may belong to suites (``BenchmarkEntry.suites``, ``register_benchmark(..., suites=...)``):
``list_benchmarks(suite="smm-mini")`` lists the members of one, ``list_suites()`` the suites. Membership is
read from the registrations, so a plugin registering a benchmark with ``suites=("smm-mini",)`` joins the
suite everywhere a suite is accepted (``smm-bench list --suite``, ``suite:NAME`` in ``smm-bench compare``).

A user's own surrogate directory (a ``build-surrogate`` output) is loaded by directory or registered
with ``register_benchmark("my-name", directory)``; names starting with ``smm-bench-`` stay the official
files'. Every loaded benchmark's ``meta["source"]`` says where its files come from
(see :mod:`smm_plugins.provenance`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import math
import os
import pkgutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smm_plugins.benchmark import Benchmark
from smm_plugins.datadir import MANIFEST_FILE, data_dir
from smm_plugins.errors import SMMBenchError
from smm_plugins.install import DOWNLOAD_HINT, INSTALL_FIX
from smm_plugins.model_files import OFFICIAL_FILES
from smm_plugins.plugins import BENCHMARK_GROUP, entry_points, load_entry_point, plugin_error
from smm_plugins.provenance import (
    build_markers,
    check_user_name,
    directory_source,
    is_reserved_name,
    official_source,
    user_build_fix,
)

__all__ = [
    "register_benchmark",
    "list_benchmarks",
    "list_suites",
    "load_benchmark",
    "benchmark_entry",
    "benchmark_status",
    "clear_cache",
    "benchmark_plugin_errors",
    "measured_eval_seconds",
    "BenchmarkEntry",
    "UnknownBenchmarkError",
    "BenchmarkNotInstalledError",
    "UnknownSuiteError",
    "EMBEDDED_DATA_DIR",
]

log = logging.getLogger(__name__)

#: Folder of the surrogates embedded in the package.
EMBEDDED_DATA_DIR = Path(__file__).resolve().parent / "data"
_EMBEDDED_FIX = (
    "reinstall smm-plugins (pip install --force-reinstall smm-plugins); the embedded surrogates ship with it"
)

Factory = Callable[..., Benchmark]


class UnknownBenchmarkError(SMMBenchError, ValueError):
    """No benchmark of that name is registered and no such directory exists."""


class BenchmarkNotInstalledError(SMMBenchError, FileNotFoundError):
    """A registered benchmark's files are not available on this machine."""


class UnknownSuiteError(SMMBenchError, ValueError):
    """No registered benchmark belongs to a suite of that name."""


@dataclass(frozen=True)
class BenchmarkEntry:
    """A registered benchmark: its factory (callable or ``"module:callable"``) and description.

    A plugin of the group ``smm_plugins.benchmarks`` points at one of these (its ``name`` is replaced by the
    entry point's).
    """

    name: str
    factory: Factory | str
    description: str = ""
    kind: str = "custom"
    #: Folder holding the benchmark's files, if it has one (for ``smm-bench info``/``list``).
    location: Callable[[], Path] | None = None
    #: A user's surrogate directory registered by path (loaded like a directory, under ``name``).
    directory: Path | None = None
    #: Measured wall seconds of one full-size evaluation of the real objective (> 0): the ``"lab"`` cost
    #: model of :mod:`smm_plugins.cost`.
    eval_seconds: float | None = None
    #: Registered benchmarks that stand for this one (its surrogates): the ``"lab"`` cost model gives them
    #: this entry's ``eval_seconds`` too.
    twins: tuple[str, ...] = ()
    #: Suites this benchmark belongs to (e.g. ``("smm-mini",)``): :func:`list_benchmarks` ``(suite=...)``
    #: and ``suite:NAME`` in ``smm-bench compare`` select it by them.
    suites: tuple[str, ...] = ()


_REGISTRY: dict[str, BenchmarkEntry] = {}
_CACHE: dict[Any, Benchmark] = {}
#: Benchmark plugins (entry-point name) -> why they could not be loaded.
_PLUGIN_ERRORS: dict[str, str] = {}
_LOCK = threading.RLock()


def register_benchmark(
    name: str,
    factory: Factory | str | os.PathLike[str],
    *,
    description: str = "",
    kind: str = "custom",
    location: Callable[[], Path] | None = None,
    overwrite: bool = False,
    eval_seconds: float | None = None,
    twins: Sequence[str] = (),
    suites: Sequence[str] = (),
) -> None:
    """Register ``factory`` under ``name``: a callable returning a Benchmark, ``"module:callable"``, or a directory.

    ``factory(**kw)`` receives the keyword arguments given to :func:`load_benchmark`. A directory of
    surrogate files (e.g. a ``build-surrogate`` output) is loaded as :func:`load_benchmark` loads a
    directory, under ``name`` (kind ``"user"``); ``name`` must not start with ``smm-bench-`` (the official
    files' names). Re-registering an existing name raises ``ValueError`` unless ``overwrite=True``.
    ``eval_seconds``, ``twins`` and ``suites``: see :class:`BenchmarkEntry`.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"benchmark name must be a non-empty string, got {name!r}")
    directory = _as_directory(factory)
    target: Factory | str
    if directory is not None:
        check_user_name(name, "name", f"register {directory} under a name of your own")
        description = description or directory_source(directory)["source"]
        target, kind, location = _directory_factory(name, directory), "user", _fixed(directory)
    elif isinstance(factory, os.PathLike):
        raise ValueError(f"factory = {os.fspath(factory)!r} is not an existing directory of surrogate files")
    elif isinstance(factory, str):
        if factory.count(":") != 1 or not all(factory.split(":")):
            raise ValueError(
                f"factory {factory!r} is not an existing directory and must look like 'package.module:callable'"
            )
        target = factory
    elif not callable(factory):
        raise TypeError(
            f"factory must be callable, a 'module:callable' string or a directory, got {type(factory).__name__}"
        )
    else:
        target = factory
    if eval_seconds is not None and not (math.isfinite(eval_seconds) and eval_seconds > 0):
        raise ValueError(f"eval_seconds = {eval_seconds!r}; allowed: None or a finite number of seconds > 0")
    twins = (twins,) if isinstance(twins, str) else tuple(twins)
    suites = _suite_names(suites)
    entry = BenchmarkEntry(name, target, description, kind, location, directory, eval_seconds, twins, suites)
    with _LOCK:
        if name in _REGISTRY and not overwrite:
            raise ValueError(f"benchmark {name!r} is already registered; pass overwrite=True to replace it")
        _REGISTRY[name] = entry
        for key in [k for k in _CACHE if k[0] == name]:
            del _CACHE[key]


def unregister_benchmark(name: str) -> None:
    """Remove a registered benchmark and its cached instances (raises :class:`UnknownBenchmarkError`)."""
    with _LOCK:
        if name not in _REGISTRY:
            raise UnknownBenchmarkError(_unknown_message(name))
        del _REGISTRY[name]
        for key in [k for k in _CACHE if k[0] == name]:
            del _CACHE[key]


def list_benchmarks(suite: str | None = None) -> list[str]:
    """Names of all registered benchmarks, sorted; with ``suite``, only the members of that suite.

    An unknown ``suite`` raises :class:`UnknownSuiteError` naming the known suites.
    """
    with _LOCK:
        if suite is None:
            return sorted(_REGISTRY)
        members = sorted(name for name, entry in _REGISTRY.items() if suite in entry.suites)
    if not members:
        known = ", ".join(list_suites()) or "none registered"
        raise UnknownSuiteError(f"suite = {suite!r} is not a registered suite; known suites: {known}")
    return members


def list_suites() -> list[str]:
    """Names of the suites that registered benchmarks belong to, sorted."""
    with _LOCK:
        return sorted({suite for entry in _REGISTRY.values() for suite in entry.suites})


def benchmark_entry(name: str) -> BenchmarkEntry:
    """The registry entry of ``name`` (raises :class:`UnknownBenchmarkError`)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownBenchmarkError(_unknown_message(name)) from None


def benchmark_status(name: str) -> tuple[bool, str]:
    """``(available, detail)`` for a registered benchmark, without loading it.

    ``detail`` is the folder of its files, the factory it comes from, or what is missing.
    """
    entry = benchmark_entry(name)
    if entry.location is not None:
        where = entry.location()
        markers = build_markers(where) if entry.kind == "official" else []
        if markers:
            return False, f"{where} holds a surrogate build ({', '.join(markers)}), not the official files"
        if any((where / f).is_file() or (where / (f + ".gz")).is_file() for f in OFFICIAL_FILES.values()):
            return True, str(where)
        if entry.kind == "official":
            return False, f"not installed (expected in {where}; run `smm-bench install PATH`)"
        return False, f"missing from this installation (expected in {where})"
    if isinstance(entry.factory, str):
        module = entry.factory.split(":")[0]
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        return (True, entry.factory) if found else (False, f"module {module} is not available")
    return True, getattr(entry.factory, "__qualname__", repr(entry.factory))


def benchmark_plugin_errors() -> dict[str, str]:
    """Installed benchmark plugins that could not be registered: entry-point name -> reason."""
    return dict(_PLUGIN_ERRORS)


def measured_eval_seconds() -> dict[str, float]:
    """Benchmark name -> measured seconds of one full evaluation of the real objective it is or stands for.

    From the registrations that carry ``eval_seconds``: the benchmark itself and each of its ``twins``
    (sorted by name).
    """
    with _LOCK:
        found = {twin: e.eval_seconds for e in _REGISTRY.values() if e.eval_seconds for twin in (e.name, *e.twins)}
    return {name: float(found[name]) for name in sorted(found)}


def clear_cache() -> None:
    """Forget loaded benchmarks (the next :func:`load_benchmark` loads them again)."""
    with _LOCK:
        _CACHE.clear()


def load_benchmark(name_or_dir: str | os.PathLike[str], **kwargs: Any) -> Benchmark:
    """A benchmark by registered name, from a directory or from ``"module:factory"``, cached per process.

    The cache key includes the keyword arguments. ``"package.module:factory"`` names a callable returning
    a :class:`Benchmark` (called with ``kwargs``), imported with :func:`pkgutil.resolve_name`.

    A directory in the official layout gives a :class:`~smm_plugins.surrogate.SurrogateBenchmark`
    (``kwargs`` go to its constructor, e.g. ``verify=False``); it is read once per process and read
    again only when a file in it changes (size or modification time).
    """
    if isinstance(name_or_dir, str) and name_or_dir in _REGISTRY:
        entry = _REGISTRY[name_or_dir]
        if entry.directory is not None:
            return _load_directory(entry.directory, kwargs, name=entry.name)
        custom = f"custom: registered as {entry.name!r}, factory {_factory_name(entry.factory)}"
        return _cached((entry.name, str(data_dir())), kwargs, lambda: _with_source(_resolve(entry)(**kwargs), custom))
    if isinstance(name_or_dir, str) and ":" in name_or_dir and not os.path.exists(name_or_dir):
        spec = name_or_dir
        return _cached(
            ("factory", spec), kwargs, lambda: _with_source(_from_factory(spec, kwargs), f"custom: factory {spec}")
        )
    if not isinstance(name_or_dir, (str, os.PathLike)):
        raise TypeError(f"name_or_dir must be a benchmark name or a directory, got {type(name_or_dir).__name__}")
    path = Path(name_or_dir).expanduser()
    if path.is_dir():
        return _load_directory(path, kwargs)
    if path.exists():
        raise UnknownBenchmarkError(f"{path} is a file; pass a benchmark name or a directory of surrogate files")
    raise UnknownBenchmarkError(_unknown_message(str(name_or_dir)))


# -- internals ---------------------------------------------------------------------------------


def _suite_names(suites: Sequence[str]) -> tuple[str, ...]:
    """``suites`` as a tuple of distinct non-empty names without ``:`` (a string is one suite)."""
    names = (suites,) if isinstance(suites, str) else tuple(suites)
    for suite in names:
        if not isinstance(suite, str) or not suite.strip() or ":" in suite or "," in suite:
            raise ValueError(f"suites contains {suite!r}; allowed: non-empty names without ':' or ','")
    return tuple(dict.fromkeys(names))


def _as_directory(factory: object) -> Path | None:
    """``factory`` as an existing directory's absolute path, or ``None`` if it names no directory."""
    if isinstance(factory, (str, os.PathLike)) and os.path.isdir(os.path.expanduser(os.fspath(factory))):
        return Path(os.fspath(factory)).expanduser().resolve()
    return None


def _fixed(path: Path) -> Callable[[], Path]:
    return lambda: path


def _directory_factory(name: str, directory: Path) -> Factory:
    def factory(**kwargs: Any) -> Benchmark:
        return _load_directory(directory, kwargs, name=name)

    factory.__qualname__ = f"directory:{directory}"
    return factory


def _load_directory(path: Path, kwargs: dict[str, Any], *, name: str | None = None) -> Benchmark:
    """A surrogate directory, cached until a file in it changes; ``meta["source"]`` from its files."""
    from smm_plugins.surrogate import SurrogateBenchmark

    def make() -> Benchmark:
        args = dict(kwargs)
        provenance = directory_source(path, embedded=_is_embedded(path), verified=args.get("verify", True))
        args["meta"] = {**provenance, **dict(args.get("meta") or {})}
        if name is not None:
            args.setdefault("name", name)
        bench = SurrogateBenchmark(path, **args)
        if provenance["source_kind"] == "user-build" and is_reserved_name(bench.space.name):
            # An older build-surrogate named a ps/dfs space smm-bench-*: that name is the official files'.
            bench.space = dataclasses.replace(bench.space, name=bench.name)
        return bench

    # The files' sizes and times are part of the key: a rebuilt directory loads afresh.
    return _cached(("dir", str(path.resolve()), _dir_fingerprint(path), name), kwargs, make)


def _is_embedded(path: Path) -> bool:
    return path.resolve().parent == EMBEDDED_DATA_DIR


def _factory_name(factory: Factory | str) -> str:
    return factory if isinstance(factory, str) else getattr(factory, "__qualname__", repr(factory))


def _with_source(bench: Benchmark, source: str) -> Benchmark:
    """``bench`` with ``meta["source"]`` and ``meta["source_kind"]`` set (``source`` where it names none)."""
    meta = getattr(bench, "meta", None)
    if not isinstance(meta, dict):
        meta = dict(meta or {})
        bench.meta = meta
    if not meta.get("source"):
        meta["source"] = source
        meta["source_kind"] = "custom"
    meta.setdefault("source_kind", "custom")
    return bench


def _cached(key: tuple[Any, ...], kwargs: dict[str, Any], make: Callable[[], Benchmark]) -> Benchmark:
    """``make()`` once per ``key`` + ``kwargs`` (unhashable kwargs: not cached)."""
    try:
        full: Any = (*key, tuple(sorted(kwargs.items())))
        hash(full)
    except TypeError:
        return make()
    with _LOCK:
        if full not in _CACHE:
            _CACHE[full] = make()
        return _CACHE[full]


def _from_factory(spec: str, kwargs: dict[str, Any]) -> Benchmark:
    try:
        factory = pkgutil.resolve_name(spec)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UnknownBenchmarkError(
            f"benchmark {spec!r}: cannot import the factory ({type(exc).__name__}: {exc}); known names: "
            f"{', '.join(list_benchmarks())}"
        ) from None
    bench = factory(**kwargs) if callable(factory) else factory
    if not isinstance(bench, Benchmark):
        raise TypeError(f"benchmark factory {spec!r} gave a {type(bench).__name__}, not a smm_plugins Benchmark")
    return bench


def _dir_fingerprint(path: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, size, mtime_ns) of each file directly in ``path``: changes when the folder is rebuilt."""
    out = []
    for f in sorted(path.iterdir()):
        if f.is_file():
            st = f.stat()
            out.append((f.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


def _unknown_message(name: str) -> str:
    if name in _PLUGIN_ERRORS:
        return _PLUGIN_ERRORS[name]
    looks_like_path = os.sep in name or "/" in name or name.startswith(".")
    if looks_like_path:
        return f"directory {name!r} does not exist (known benchmark names: {', '.join(list_benchmarks())})"
    return (
        f"no benchmark named {name!r}; known: {', '.join(list_benchmarks())} (or pass a directory of surrogate files)"
    )


def _resolve(entry: BenchmarkEntry) -> Factory:
    if not isinstance(entry.factory, str):
        return entry.factory
    module, _, attr = entry.factory.partition(":")
    try:
        factory: Factory = pkgutil.resolve_name(entry.factory)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise BenchmarkNotInstalledError(
                f"benchmark {entry.name!r} comes from module {module}, which is not available in this installation"
            ) from None
        raise
    except AttributeError as exc:
        raise BenchmarkNotInstalledError(
            f"benchmark {entry.name!r}: module {module} has no {attr!r} (factory {entry.factory!r}): {exc}"
        ) from None
    return factory


def _official_dir(name: str) -> Callable[[], Path]:
    return lambda: data_dir() / name


def _official_factory(name: str, label: str) -> Factory:
    def factory(**kwargs: Any) -> Benchmark:
        from smm_plugins.surrogate import OFFICIAL_TASK, SurrogateBenchmark

        where = data_dir() / name
        if not where.is_dir():
            raise BenchmarkNotInstalledError(
                f"{name} is not installed (looked in {where}). Download the {label} files from {DOWNLOAD_HINT}, "
                f"then run `smm-bench install PATH` (PATH = the downloaded zip or folder)"
            )
        markers = build_markers(where)
        if markers:
            raise BenchmarkNotInstalledError(
                f"{where} holds a surrogate build ({', '.join(markers)}), not the official {label} files; move it "
                f"out of the data directory and {user_build_fix('DIR')}, then install the official files: "
                f"{INSTALL_FIX}"
            )
        if not (where / MANIFEST_FILE).is_file():
            log.warning("%s has no %s: its files are not verified; run `smm-bench install PATH`", where, MANIFEST_FILE)
        kwargs.setdefault("fix", INSTALL_FIX)
        source = official_source(where, verified=kwargs.get("verify", True))
        meta = {
            "task": OFFICIAL_TASK,
            "source": source,
            "source_kind": "official",
            **dict(kwargs.pop("meta", None) or {}),
        }
        return SurrogateBenchmark(where, name=name, meta=meta, **kwargs)

    factory.__qualname__ = f"official:{name}"
    return factory


def _embedded_dir(name: str) -> Callable[[], Path]:
    return lambda: EMBEDDED_DATA_DIR / name


#: Problems per split in the merge lab (see docs/merge-lab.md): the embedded surrogates' full fidelity.
_LAB_SPLIT_SIZES: dict[str, int] = {"train_acc": 1000, "test_acc": 1000}


def _embedded_factory(name: str) -> Factory:
    def factory(**kwargs: Any) -> Benchmark:
        from smm_plugins.surrogate import LAB_TASK, SurrogateBenchmark

        where = EMBEDDED_DATA_DIR / name
        if not where.is_dir():
            raise BenchmarkNotInstalledError(
                f"the embedded surrogate {name} is missing from this installation (no folder {where}); "
                f"to fix: {_EMBEDDED_FIX}"
            )
        kwargs.setdefault("fix", _EMBEDDED_FIX)
        meta = {
            **directory_source(where, embedded=True),
            "task": LAB_TASK,
            **dict(kwargs.pop("meta", None) or {}),
        }
        # The surrogate models the lab's splits, so its fidelity range is the lab's (not the official 1,069/250).
        kwargs.setdefault("n_problems_full", _LAB_SPLIT_SIZES)
        return SurrogateBenchmark(where, name=name, meta=meta, **kwargs)

    factory.__qualname__ = f"embedded:{name}"
    return factory


def _register_defaults() -> None:
    for name, label in (("smm-bench-ps", "SMM-Bench-PS"), ("smm-bench-dfs", "SMM-Bench-DFS")):
        space = "64 layer-wise task-arithmetic weights" if name.endswith("ps") else "32 layer choices + 63 hop scales"
        register_benchmark(
            name,
            _official_factory(name, label),
            description=f"official {label} surrogate (Akizuki et al. 2025): {space}",
            kind="official",
            location=_official_dir(name),
        )
    for name, space in (("smm-mini-ps", "PS"), ("smm-mini-dfs", "DFS")):
        register_benchmark(
            name,
            _embedded_factory(name),
            description=f"surrogate of the project's merge lab, {space} space (embedded)",
            kind="embedded",
            location=_embedded_dir(name),
        )


def _register_plugins() -> None:
    """Register every installed benchmark plugin; one that fails is kept in ``_PLUGIN_ERRORS``, by name."""
    for name, ep in entry_points(BENCHMARK_GROUP).items():
        try:
            entry = load_entry_point(ep, BenchmarkEntry)
            register_benchmark(
                name,
                entry.directory or entry.factory,
                description=entry.description,
                kind=entry.kind,
                location=entry.location,
                eval_seconds=entry.eval_seconds,
                twins=entry.twins,
                suites=entry.suites,
            )
        except Exception as exc:  # noqa: BLE001 - any failure of third-party code: report it, keep the rest
            _PLUGIN_ERRORS[name] = plugin_error("benchmark", ep, exc)


_register_defaults()
_register_plugins()
