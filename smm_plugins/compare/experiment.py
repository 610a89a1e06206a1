"""Experiment descriptions: TOML or YAML files, presets, and the copy saved next to the results.

An experiment file (TOML shown; YAML takes the same keys)::

    name = "my-comparison"
    benchmarks = ["smm-mini-ps", "smm-mini-dfs"]      # registered names, directories, "module:factory",
                                                      # or "suite:NAME" (every member of a suite)
    optimizers = ["random", "tpe", "cmaes", "sep-cmaes", "de"]  # or "module:function", "optuna.samplers:QMCSampler"
    seeds = 10                                        # a count (0..9) or an explicit list [0, 3, 7]
    budget = 1000                                     # evaluations per run
    objective = "train_acc"                           # what the optimisers maximise
    base_seed = 0                                     # run seeds derive from (base_seed, seed)
    workers = 2                                       # Ray workers; 1 = serial, no Ray
    ray_address = ""                                  # "auto" joins a running cluster
    plugins = ["my_package.my_optimizers"]            # modules imported first (they register optimisers)

    [options.tpe]                                     # keyword options of one optimiser
    n_startup_trials = 20

The runner saves the resolved experiment as ``DIR/experiment.toml`` with the package version.

A suite (``"suite:smm-mini"``) is resolved when the experiment is built: it stands for the suite's
registered members (:func:`~smm_plugins.registry.list_benchmarks` ``(suite=...)``, sorted) at that moment,
in its place in the list; a benchmark named twice (by name and through a suite) runs once. The saved
``experiment.toml`` lists the resolved names (and ``[meta.suites]`` what each suite stood for), so a
report of that folder does not change when a suite grows later. Running the same command again
resolves the suite again: members registered since then are added to the grid (finished runs are
kept); to resume exactly the recorded grid, pass ``--experiment DIR/experiment.toml``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import tomli_w

from smm_plugins._io import atomic_write_text

__all__ = [
    "Experiment",
    "PRESETS",
    "SUITE_PREFIX",
    "load_experiment",
    "save_experiment",
    "preset",
    "read_saved_experiment",
    "resolve_suites",
]

#: File name of the experiment saved into an output directory.
SAVED_NAME = "experiment.toml"
#: Keys whose change makes earlier runs of a directory incomparable (a resume must keep them).
RESULT_KEYS = ("budget", "objective", "base_seed", "options")
#: A benchmark spec ``"suite:NAME"`` stands for every registered member of the suite ``NAME``.
SUITE_PREFIX = "suite:"


@dataclass
class Experiment:
    """A grid of runs: every benchmark x optimiser x seed, each with ``budget`` evaluations."""

    benchmarks: list[str]
    optimizers: list[str]
    seeds: list[int]
    budget: int
    objective: str = "train_acc"
    base_seed: int = 0
    workers: int | None = None
    ray_address: str | None = None
    plugins: list[str] = field(default_factory=list)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    name: str = "comparison"

    def __post_init__(self) -> None:
        self.benchmarks = _str_list("benchmarks", self.benchmarks)
        self.optimizers = _str_list("optimizers", self.optimizers)
        self.plugins = _str_list("plugins", self.plugins, allow_empty=True)
        self.seeds = _seed_list(self.seeds)
        for key in ("benchmarks", "optimizers"):
            values = getattr(self, key)
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"{key} lists {dupes} more than once")
        resolved, suites = resolve_suites(self.benchmarks)
        self.benchmarks = resolved
        #: Suite name -> the members it stood for (what ``experiment.toml``'s ``[meta.suites]`` records).
        self.suites: dict[str, list[str]] = suites
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget < 1:
            raise ValueError(
                f"budget = {self.budget!r} is not allowed; allowed: a positive integer (evaluations per run)"
            )
        if isinstance(self.base_seed, bool) or not isinstance(self.base_seed, int) or self.base_seed < 0:
            raise ValueError(f"base_seed = {self.base_seed!r} is not allowed; allowed: an integer >= 0")
        if self.workers is not None and (
            isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1
        ):
            raise ValueError(f"workers = {self.workers!r} is not allowed; allowed: a positive integer")
        if self.ray_address == "":
            self.ray_address = None
        if not isinstance(self.objective, str):
            raise ValueError(f"objective = {self.objective!r} must be a string such as 'train_acc'")
        if not isinstance(self.options, Mapping) or any(not isinstance(v, Mapping) for v in self.options.values()):
            raise ValueError("options must map optimiser names to tables of keyword options, e.g. [options.tpe]")
        unknown = sorted(set(self.options) - set(self.optimizers))
        if unknown:
            raise ValueError(f"options given for {unknown}, which are not in optimizers {self.optimizers}")
        self.options = {k: dict(v) for k, v in self.options.items()}

    @property
    def n_runs(self) -> int:
        """Runs in the grid."""
        return len(self.benchmarks) * len(self.optimizers) * len(self.seeds)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (what the saved file holds, without ``[meta]``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "experiment") -> Experiment:
        """Build from a mapping; unknown keys raise ``ValueError`` naming them and the allowed keys."""
        data = {k: v for k, v in data.items() if k != "meta"}
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {unknown}; allowed: {', '.join(allowed)}")
        missing = [k for k in ("benchmarks", "optimizers", "seeds", "budget") if k not in data]
        if missing:
            raise ValueError(f"{source}: missing key(s) {missing}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{source}: {exc}") from None

    def replace(self, **changes: Any) -> Experiment:
        """A copy with some fields changed (``None`` values are ignored)."""
        data = self.to_dict()
        data.update({k: v for k, v in changes.items() if v is not None})
        new = Experiment.from_dict(data)
        new.suites = {**self.suites, **new.suites} if changes.get("benchmarks") is None else new.suites
        return new


def resolve_suites(specs: Sequence[str]) -> tuple[list[str], dict[str, list[str]]]:
    """``specs`` with each ``"suite:NAME"`` replaced by the suite's registered members, and what each stood for.

    Order is kept (a suite's members, sorted, in its place); a name that comes again is left out. An unknown
    suite raises :class:`~smm_plugins.registry.UnknownSuiteError` (a ``ValueError``) naming the known ones.
    """
    from smm_plugins.registry import list_benchmarks

    resolved: dict[str, None] = {}
    suites: dict[str, list[str]] = {}
    for spec in specs:
        if spec.startswith(SUITE_PREFIX):
            suite = spec[len(SUITE_PREFIX) :].strip()
            suites[suite] = list_benchmarks(suite=suite)
            resolved.update(dict.fromkeys(suites[suite]))
        else:
            resolved[spec] = None
    return list(resolved), suites


def _str_list(key: str, value: Any, *, allow_empty: bool = False) -> list[str]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, Sequence) or any(not isinstance(v, str) or not v for v in value):
        raise ValueError(f"{key} = {value!r} must be a list of non-empty strings")
    if not value and not allow_empty:
        raise ValueError(f"{key} is empty; give at least one")
    return list(value)


def _seed_list(value: Any) -> list[int]:
    if isinstance(value, str):
        value = [int(v) for v in value.split(",")] if "," in value else int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"seeds = {value!r} is not allowed; allowed: a count >= 1 or a list of integers >= 0")
        return list(range(value))
    if (
        isinstance(value, Sequence)
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    ):
        if len(set(value)) != len(value):
            raise ValueError(f"seeds = {list(value)!r} repeats a seed")
        return [int(v) for v in value]
    raise ValueError(f"seeds = {value!r} is not allowed; allowed: a count >= 1 or a list of integers >= 0")


# -- presets ---------------------------------------------------------------------------------------

#: Named experiments for ``smm-bench compare --preset NAME``.
PRESETS: dict[str, dict[str, Any]] = {
    # README main job: both embedded spaces, 5 fast optimisers x 10 seeds x 200 evaluations, 2 workers.
    # 10 seeds let a real difference be significant: the smallest two-sided Wilcoxon p is 2 / 2^10, and
    # times the 10 pairs of Holm's correction 0.02 < 0.05 (5 seeds: 0.0625 before any correction).
    # 200 evaluations keep compare + report under 3 minutes on 2 free cores (measured: 135 s + 14 s; 300
    # evaluations took 212 s + 11 s): Optuna's ask costs ~17 ms per trial on 95 parameters and TPE's grows
    # with the history, so the optimisers, not the surrogate, set the time.
    "demo": dict(
        name="demo",
        benchmarks=["smm-mini-ps", "smm-mini-dfs"],
        optimizers=["random", "tpe", "cmaes", "sep-cmaes", "de"],
        seeds=10,
        budget=200,
        workers=2,
    ),
    # The full comparison: 5 optimisers x 10 seeds x 1,000 evaluations.
    "full": dict(
        name="full",
        benchmarks=["smm-mini-ps", "smm-mini-dfs"],
        optimizers=["random", "tpe", "cmaes", "sep-cmaes", "de"],
        seeds=10,
        budget=1000,
        workers=2,
    ),
    # The demo's optimisers over every member of the suite smm-mini (exact merge objectives), for the report's
    # "Across benchmarks" section: average ranks and a Friedman test over benchmarks. The Friedman test's
    # power comes from the number of benchmarks (5 optimisers: its smallest p is chi2_4.sf(4 N), 0.09 for
    # N = 2 benchmarks, 0.017 for 3, < 1e-10 for 16); 10 seeds keep each benchmark's median over seeds
    # stable and let the per-benchmark Wilcoxon tests decide as in the demo. Cost from the measured
    # evaluation time (plan.expected_seconds: the optimisers' ms per trial + 2 x 2.7-7.5 ms of exact
    # objective): ~110-150 s serial per member at 100 evaluations (measured: 143 s for smm-mini-ps-true's 50
    # runs, serial, on a shared 2-core machine), so ~35 min serial (~18 min on 2 workers) for the 16 members;
    # 200 evaluations would double that.
    "suite": dict(
        name="suite",
        benchmarks=["suite:smm-mini"],
        optimizers=["random", "tpe", "cmaes", "sep-cmaes", "de"],
        seeds=10,
        budget=100,
        workers=2,
    ),
    # A smoke test: seconds.
    "quick": dict(
        name="quick",
        benchmarks=["smm-mini-ps", "smm-mini-dfs"],
        optimizers=["random", "de"],
        seeds=2,
        budget=50,
        workers=1,
    ),
}


def preset(name: str) -> Experiment:
    """The preset experiment ``name``; unknown names raise ``ValueError`` listing the presets."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}")
    return Experiment.from_dict(PRESETS[name], source=f"preset {name!r}")


# -- files -------------------------------------------------------------------------------------------


def load_experiment(path: str | os.PathLike[str]) -> Experiment:
    """Read an experiment file: ``.toml`` (tomllib) or ``.yaml``/``.yml`` (pyyaml); ``.json`` also works."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"experiment file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    text = p.read_text(encoding="utf-8")
    try:
        if suffix == ".toml":
            data = _toml_loads(text)
        elif suffix in (".yaml", ".yml"):
            from smm_plugins._deps import require

            data = require("yaml", "all", who="YAML experiment files").safe_load(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ValueError(
                f"experiment file {str(p)!r}: unknown extension {suffix!r}; allowed: .toml, .yaml, .yml, .json"
            )
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - three parsers raise unrelated types: report them uniformly
        raise ValueError(f"experiment file {str(p)!r} cannot be parsed: {exc}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"experiment file {str(p)!r} must hold a table of keys, got {type(data).__name__}")
    return Experiment.from_dict(data, source=f"experiment file {str(p)!r}")


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # tomli, a dependency on Python 3.10, is the same parser
        import tomli as tomllib
    return tomllib.loads(text)


def save_experiment(exp: Experiment, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``exp`` as ``out_dir/experiment.toml`` (atomically) with a ``[meta]`` table naming versions."""
    from smm_plugins import __version__

    meta: dict[str, Any] = {
        "smm_plugins_version": __version__,
        "python": platform.python_version(),
        "saved": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    # Installed distributions only (nothing is imported): the optional frameworks are recorded when present.
    for key in ("optuna", "syne_tune", "scipy", "ray", "lightgbm"):
        try:
            meta[f"{key}_version"] = metadata.version(key.replace("_", "-"))
        except metadata.PackageNotFoundError:
            pass
    if exp.suites:
        meta["suites"] = exp.suites
    data = exp.to_dict()
    data["meta"] = meta
    path = Path(out_dir) / SAVED_NAME
    atomic_write_text(path, toml_dumps(data))
    return path


def read_saved_experiment(out_dir: str | os.PathLike[str]) -> tuple[Experiment, dict[str, Any]] | None:
    """The experiment saved in ``out_dir`` and its ``[meta]`` table, or None if there is none."""
    path = Path(out_dir) / SAVED_NAME
    if not path.is_file():
        return None
    data = _toml_loads(path.read_text(encoding="utf-8"))
    return Experiment.from_dict(data, source=str(path)), dict(data.get("meta", {}))


# -- TOML writing (the standard library only reads TOML) ------------------------------------------


def _without_none(data: Mapping[str, Any]) -> dict[str, Any]:
    # TOML has no null: None values are left out, at every depth (they read back as the field's default).
    return {k: _without_none(v) if isinstance(v, Mapping) else v for k, v in data.items() if v is not None}


def toml_dumps(data: Mapping[str, Any]) -> str:
    """Serialise plain data (scalars, lists, nested tables) to TOML with tomli-w; ``None`` values are left out."""
    return tomli_w.dumps(_without_none(data))
