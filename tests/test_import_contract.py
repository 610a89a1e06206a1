"""The import contract of pyproject.toml's [tool.importlinter] holds, covers the whole core, and the core
reaches the applications only through the entry points that pyproject.toml declares."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import smm_plugins

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
CORE = Path(smm_plugins.__file__).resolve().parent
APPLICATIONS = ("smm_plugins.compare", "smm_plugins.lab", "smm_plugins.surrogate_tools")


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["type"]: c for c in config["contracts"]}


def test_lint_imports_keeps_every_contract() -> None:
    # A development tool (the dev extra, Python >= 3.11): the floors stage of .ci/run installs no dev tools, and
    # `make test` / `make check` run with them.
    pytest.importorskip("importlinter", reason='import-linter checks the contract: pip install -e ".[dev]"')
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, 'the lint-imports script is missing: pip install -e ".[dev]" (import-linter is in the dev extra)'
    res = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    n = len(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"])
    assert f"Contracts: {n} kept, 0 broken." in res.stdout


def test_the_framework_contract_lists_every_core_module() -> None:
    # A new top-level module of smm_plugins is core: the contract must check it too.
    core = {"smm_plugins"} | {f"smm_plugins.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__"}
    assert set(_contracts()["forbidden"]["source_modules"]) == core
    assert set(_contracts()["protected"]["protected_modules"]) == set(APPLICATIONS)


def test_core_modules_do_not_even_name_the_applications() -> None:
    # Not in imports and not in strings (a module name in a string is an import by another road).
    mentions = [
        f"{p.name}:{i}: {line.strip()}"
        for p in sorted(CORE.glob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if any(app in line for app in APPLICATIONS)
    ]
    assert mentions == []


def test_the_entry_point_groups_are_read() -> None:
    # Sub-commands of the applications: `smm-bench --help` lists them (group smm_plugins.cli).
    exe = shutil.which("smm-bench", path=str(Path(sys.executable).parent)) or shutil.which("smm-bench")
    assert exe, "the smm-bench console script is not installed: pip install -e ."
    env = {**os.environ, "COLUMNS": "200"}
    res = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0 and "warning" not in res.stderr, res.stderr
    listed = re.findall(r"^ {4}([a-z-]+)\s", res.stdout, flags=re.MULTILINE)
    assert listed[:4] == ["list", "info", "install", "eval"]
    assert {"lab", "build-surrogate", "validate", "compare", "report"} <= set(listed[4:])
    # The lab's exact objectives (group smm_plugins.benchmarks), with what the "lab" cost model needs.
    from smm_plugins.cost import LabCostModel, cost_model_for
    from smm_plugins.lab.objectives import DFSTrueBenchmark, PSTrueBenchmark
    from smm_plugins.registry import benchmark_entry, list_benchmarks, load_benchmark

    assert {"smm-mini-ps-true", "smm-mini-dfs-true"} <= set(list_benchmarks())
    entry = benchmark_entry("smm-mini-dfs-true")
    assert (entry.kind, entry.eval_seconds, entry.twins) == ("true", DFSTrueBenchmark.eval_seconds, ("smm-mini-dfs",))
    for name, truth in (("smm-mini-ps", PSTrueBenchmark), ("smm-mini-dfs", DFSTrueBenchmark)):
        bench = load_benchmark(name)
        want = LabCostModel.from_eval_seconds(truth.eval_seconds, dict(bench.n_problems_full))
        assert cost_model_for(bench, "lab") == want
