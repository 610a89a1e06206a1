"""The ``smm-bench`` command line.

Sub-commands: ``list [--suite NAME] [--json]``, ``info NAME [--json]``, ``install PATH``,
``eval NAME (--configs FILE | --random N [--seed S]) [--objective ...] [--clip] [--out FILE]``.
Other packages add theirs as entry points of the group ``smm_plugins.cli`` (see :mod:`smm_plugins.plugins`):
each points at an ``add_subcommands(subparsers)`` that adds parsers and sets ``func`` (``args -> exit code``)
on them. This distribution's ``lab``, ``build-surrogate``, ``validate``, ``compare`` and ``report`` come in
this way. A plugin that cannot be loaded is reported in one line on stderr; the other commands still work.

Errors print one line (``smm-bench: error: ...``) and give a non-zero exit code; ``--debug`` shows
the traceback.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins.errors import SMMBenchError
from smm_plugins.plugins import CLI_GROUP, entry_points, plugin_error

__all__ = ["main", "build_parser", "read_configs"]

log = logging.getLogger(__name__)

_CHUNK = 2048
_HANDLER_TAG = "_smm_bench_cli"


class CLIError(SMMBenchError):
    """An error reported to the user as one line."""


# -- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The full parser, including the sub-commands of the installed plugins (group ``smm_plugins.cli``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more log output (-vv for debug)"
    )

    parser = argparse.ArgumentParser(
        prog="smm-bench",
        description="SMM-Bench model-merging surrogate benchmarks: install, inspect and evaluate.",
    )
    parser.add_argument("--debug", action="store_true", default=False, help="show tracebacks on errors")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("list", parents=[common], help="list the registered benchmarks and whether they are available")
    p.add_argument("--suite", metavar="NAME", help="only the members of suite NAME (e.g. smm-mini)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("info", parents=[common], help="describe a benchmark (search space, files, citation)")
    p.add_argument("name", metavar="NAME", help="registered name or directory of surrogate files")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser(
        "install",
        parents=[common],
        help="check and install the official SMM-Bench files (downloaded folder or zip)",
        description="Check the downloaded SMM-Bench files and copy them into the data directory "
        "($SMM_BENCH_DATA_DIR or the per-user data directory). A build-surrogate output is refused: "
        "load it by directory or register it under your own name (register_benchmark(name, directory)).",
    )
    p.add_argument("path", metavar="PATH", help="the downloaded zip or unpacked folder")
    p.add_argument("--data-dir", metavar="DIR", help="install here instead of the data directory")
    p.set_defaults(func=_cmd_install)

    p = sub.add_parser("eval", parents=[common], help="evaluate configurations on a benchmark")
    p.add_argument("name", metavar="NAME", help="registered name or directory of surrogate files")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--configs", metavar="FILE", help="configurations: .npy (n, dim), .csv (header = names) or .jsonl")
    src.add_argument("--random", metavar="N", type=_positive_int, help="evaluate N uniformly random configurations")
    p.add_argument("--seed", type=int, default=None, help="seed for --random")
    p.add_argument("--objective", choices=("train_acc", "test_acc"), default="train_acc")
    p.add_argument(
        "--clip", action="store_true", help="reference semantics: clip values into bounds instead of rejecting"
    )
    p.add_argument("--out", metavar="FILE", help="write results to FILE (.npy, .csv, .jsonl or text) instead of stdout")
    p.set_defaults(func=_cmd_eval)

    _add_plugin_subcommands(sub)
    return parser


def _add_plugin_subcommands(sub: Any) -> None:
    for ep in entry_points(CLI_GROUP).values():
        try:
            ep.load()(sub)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the other commands with it
            print(f"smm-bench: warning: {plugin_error('command-line', ep, exc)}", file=sys.stderr)


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


class _StderrHandler(logging.StreamHandler):
    # Writes to whatever sys.stderr is at the time of the record (main() may run many times in one process).
    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logger = logging.getLogger("smm_plugins")
    logger.setLevel(level)
    if not any(getattr(h, _HANDLER_TAG, False) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        setattr(handler, _HANDLER_TAG, True)
        logger.addHandler(handler)


# -- main --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``smm-bench`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help or a usage error (argparse printed it)
            return int(exc.code) if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        debug = bool(getattr(args, "debug", False))
        _setup_logging(int(getattr(args, "verbose", 0) or 0))
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("smm-bench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141
    except Exception as exc:  # noqa: BLE001 - every error becomes one readable line
        if debug:
            traceback.print_exc()
        msg = str(exc).strip() or type(exc).__name__
        print(f"smm-bench: error: {' '.join(msg.split())}", file=sys.stderr)
        return 1


# -- commands ----------------------------------------------------------------------------------


def _cmd_list(args: argparse.Namespace) -> int:
    from smm_plugins.datadir import data_dir
    from smm_plugins.registry import benchmark_entry, benchmark_status, list_benchmarks, list_suites

    rows: list[dict[str, Any]] = []
    for name in list_benchmarks(suite=args.suite):
        entry = benchmark_entry(name)
        ok, detail = benchmark_status(name)
        rows.append(
            {
                "name": name,
                "kind": entry.kind,
                "suites": list(entry.suites),
                "available": ok,
                "detail": detail,
                "description": entry.description,
            }
        )
    if args.json:
        print(json.dumps({"data_dir": str(data_dir()), "suites": list_suites(), "benchmarks": rows}, indent=1))
        return 0
    width = max(len(r["name"]) for r in rows)
    suites = [", ".join(r["suites"]) or "-" for r in rows]
    suite_width = max(len("suite"), *(len(s) for s in suites))
    print(f"    {'name':<{width}}  {'suite':<{suite_width}}  description")
    for r, suite in zip(rows, suites, strict=True):
        status = "ok " if r["available"] else "-- "
        print(f"{status} {r['name']:<{width}}  {suite:<{suite_width}}  {r['description']}")
        if not r["available"]:
            print(f"    {'':<{width}}  {'':<{suite_width}}  {r['detail']}")
    for suite in [args.suite] if args.suite else list_suites():
        print(f"suite {suite}: {len(list_benchmarks(suite=suite))} benchmarks (smm-bench list --suite {suite})")
    print(f"data directory: {data_dir()}")
    return 0


def _load(name: str) -> Any:
    from smm_plugins.registry import load_benchmark

    return load_benchmark(name)


def _cmd_info(args: argparse.Namespace) -> int:
    from smm_plugins.fidelity import fidelity_summary
    from smm_plugins.registry import benchmark_entry, list_benchmarks

    bench = _load(args.name)
    entry = benchmark_entry(args.name) if args.name in list_benchmarks() else None
    space = bench.space
    meta = dict(getattr(bench, "meta", {}) or {})
    fidelity = fidelity_summary(bench)
    x0 = space.default_vector()
    full_cost = {obj: float(bench.cost(x0, obj)) for obj in bench.objectives}
    if args.json:
        doc = {
            "name": bench.name,
            "description": entry.description if entry else "",
            "kind": entry.kind if entry else "directory",
            "suites": list(entry.suites) if entry else [],
            "source": meta.get("source", ""),
            "source_kind": meta.get("source_kind", ""),
            "objectives": list(bench.objectives),
            "dim": space.dim,
            "space": space.to_dict(),
            "fidelity": fidelity,
            "cost_model": repr(bench.cost_model),
            "cost_seconds_default_config": full_cost,
            "meta": meta,
        }
        print(json.dumps(doc, indent=1, default=str))
        return 0
    n_cat = space.n_categorical
    print(f"name:        {bench.name}")
    if entry is not None and entry.description:
        print(f"description: {entry.description}")
    if entry is not None and entry.suites:
        print(f"suites:      {', '.join(entry.suites)}")
    if "source" in meta:
        print(f"source:      {meta['source']}")
    if "directory" in meta:
        print(f"files:       {meta['directory']}")
    print(f"objectives:  {', '.join(bench.objectives)} (accuracy in [0, 1], higher is better)")
    if "task" in meta:
        print(f"task:        {meta['task']}")
    sizes = ", ".join(f"{k} {v}" for k, v in fidelity["n_problems_full"].items())
    print(f"fidelity:    n_problems in [{fidelity['range'][0]}, {fidelity['range'][1]}] ({sizes} problems per split)")
    print(f"  ladder:    {fidelity['ladder']} (reduction factor 3)")
    print(f"  below full: {fidelity['low_fidelity']}")
    costs = ", ".join(f"{k} {v:.1f} s" for k, v in full_cost.items())
    print(f"cost:        {type(bench.cost_model).__name__}; default configuration at full fidelity: {costs}")
    print(f"variables:   {space.dim} ({space.dim - n_cat} continuous, {n_cat} categorical), in model-input order:")
    for p in space.parameters:
        print(f"  {p.name:<24} {p.kind:<12} {p.allowed}  (default {p.default})")
    if "citation" in meta:
        print(f"cite:        {meta['citation']}")
    return 0


def _cmd_install(args: argparse.Namespace) -> int:
    from smm_plugins.install import install
    from smm_plugins.registry import clear_cache

    done = install(args.path, root=args.data_dir)
    clear_cache()
    for item in done:
        folds = ", ".join(f"{k}: {v} folds" for k, v in item.n_folds.items())
        print(f"installed {item.name} ({item.n_features} variables; {folds}) -> {item.path}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    bench = _load(args.name)
    space = bench.space
    if args.configs is not None:
        if args.seed is not None:
            raise CLIError("--seed only applies to --random N")
        X = read_configs(args.configs, space)
    else:
        X = space.sample(args.random, args.seed)
    X = space.clip(X, argname="configs") if args.clip else space.validate(X, argname="configs")
    y = _evaluate_batched(bench, X, args.objective, args.clip)
    if args.out:
        _write_results(Path(args.out), y, args.objective)
        log.info("wrote %d results to %s", len(y), args.out)
    else:
        sys.stdout.write("".join(f"{v!r}\n" for v in y.tolist()))
    return 0


def _evaluate_batched(bench: Any, X: np.ndarray, objective: str, clip: bool) -> np.ndarray:
    n = X.shape[0]
    if n <= _CHUNK:
        return np.asarray(bench.evaluate(X, objective, clip=clip), dtype=np.float64).reshape(-1)
    from tqdm.auto import tqdm

    out = np.empty(n, dtype=np.float64)
    with tqdm(total=n, unit="config", desc=f"{bench.name} {objective}", disable=None, file=sys.stderr) as bar:
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            out[start:stop] = bench.evaluate(X[start:stop], objective, clip=clip)
            bar.update(stop - start)
    return out


# -- reading configurations --------------------------------------------------------------------


def read_configs(path: str | Path, space: Any) -> np.ndarray:
    """Read configurations for ``space`` from ``.npy``, ``.csv`` or ``.jsonl`` into an (n, dim) array.

    CSV: a header row of variable names (any order) or no header (columns in model-input order).
    JSONL: one ``{name: value}`` object or one list (model-input order) per line.
    Values are not range-checked here (that is ``space.validate``'s job).
    """
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"configuration file {p} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except ValueError as exc:
            raise CLIError(f"{p}: cannot read as a numeric .npy array ({exc})") from None
        return np.atleast_2d(arr) if arr.ndim == 1 else arr
    if suffix == ".csv":
        return _read_csv(p, space)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(p, space)
    raise CLIError(f"{p}: unknown configuration format {suffix or '(none)'}; use .npy, .csv or .jsonl")


def _cell(text: str, p: Path, line: int, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CLIError(f"{p} line {line}: variable {name!r} = {text!r} is not a number") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(p: Path, space: Any) -> np.ndarray:
    with open(p, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    if not rows:
        raise CLIError(f"{p} is empty; expected a header of variable names and one configuration per row")
    header = [c.strip() for c in rows[0]]
    if all(_is_number(c) for c in header):
        order, names, body, first_line = list(range(space.dim)), space.names, rows, 1
        if len(header) != space.dim:
            raise CLIError(f"{p} line 1 has {len(header)} values; {space.name} needs {space.dim}")
    else:
        unknown = [c for c in header if c not in set(space.names)]
        missing = [n for n in space.names if n not in header]
        if unknown or missing:
            raise CLIError(
                f"{p}: header does not match the variables of {space.name}"
                + (f"; unknown: {unknown[:5]}" if unknown else "")
                + (f"; missing: {missing[:5]}" if missing else "")
            )
        order, names, body, first_line = [header.index(n) for n in space.names], space.names, rows[1:], 2
        if not body:
            raise CLIError(f"{p} has a header but no configurations")
    X = np.empty((len(body), space.dim), dtype=np.float64)
    for i, row in enumerate(body):
        line = first_line + i
        if len(row) != len(header):
            raise CLIError(f"{p} line {line} has {len(row)} values; expected {len(header)}")
        for j, (col, name) in enumerate(zip(order, names, strict=True)):
            X[i, j] = _cell(row[col].strip(), p, line, name)
    return X


def _read_jsonl(p: Path, space: Any) -> np.ndarray:
    rows = []
    with open(p, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CLIError(f"{p} line {line_no} is not valid JSON ({exc.msg})") from None
            try:
                if isinstance(obj, dict):
                    rows.append(space.to_vector(obj))
                elif isinstance(obj, list):
                    if len(obj) != space.dim:
                        raise ValueError(f"has {len(obj)} values; {space.name} needs {space.dim}")
                    rows.append([_json_number(v, space.parameters[j]) for j, v in enumerate(obj)])
                else:
                    raise ValueError("must be a JSON object {name: value} or a list of values")
            except ValueError as exc:
                raise CLIError(f"{p} line {line_no}: {exc}") from None
    if not rows:
        raise CLIError(f"{p} holds no configurations")
    return np.asarray(rows, dtype=np.float64)


def _json_number(v: Any, param: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"variable {param.name!r} = {v!r} is not a number; allowed: {param.allowed}")
    return float(v)


# -- writing results ---------------------------------------------------------------------------


def _write_results(path: Path, y: np.ndarray, objective: str) -> None:
    from smm_plugins._io import atomic_write_bytes, atomic_write_text

    suffix = path.suffix.lower()
    if suffix == ".npy":
        buf = io.BytesIO()
        np.save(buf, y, allow_pickle=False)
        atomic_write_bytes(path, buf.getvalue())
    elif suffix == ".csv":
        atomic_write_text(path, objective + "\n" + "".join(f"{v!r}\n" for v in y.tolist()))
    elif suffix in (".jsonl", ".ndjson"):
        atomic_write_text(path, "".join(json.dumps({objective: v}) + "\n" for v in y.tolist()))
    else:
        atomic_write_text(path, "".join(f"{v!r}\n" for v in y.tolist()))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
