"""Plugins of a third-party distribution: a benchmark and a sub-command come in through entry points, as the
merge lab's do; a broken plugin is reported by name and breaks nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from smm_plugins import plugins
from smm_plugins.cli import main
from smm_plugins.plugins import BENCHMARK_GROUP, CLI_GROUP, entry_points

PLUGIN = textwrap.dedent(
    """
    from smm_plugins.registry import BenchmarkEntry
    from smm_plugins.space import ps_space
    from smm_plugins.testing import SyntheticBenchmark

    def toy():
        return SyntheticBenchmark(ps_space("toy", n_layers=4))

    TOY = BenchmarkEntry("ignored: the entry point names it", toy, description="a toy benchmark", kind="thirdparty",
                         eval_seconds=0.5, twins=("toy-surrogate",))

    def add_subcommands(subparsers):
        p = subparsers.add_parser("hello", help="say hello")
        p.add_argument("--n", type=int, default=1)
        p.set_defaults(func=lambda args: print("hi" * args.n) or 3)
    """
)
ENTRY_POINTS = f"""
[{BENCHMARK_GROUP}]
toy = thirdparty_bench:TOY
broken-bench = thirdparty_bench:NO_SUCH_ENTRY
smm-mini-ps = thirdparty_bench:TOY

[{CLI_GROUP}]
hello = thirdparty_bench:add_subcommands
broken-cli = no_such_module_smm_plugin:add_subcommands
"""


def _write_site(root: Path) -> Path:
    info = root / "thirdparty_bench-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-bench\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (root / "thirdparty_bench.py").write_text(PLUGIN)
    return root


@pytest.fixture()
def site(tmp_path: Path) -> dict[str, str]:
    """Environment of a process in which the third-party distribution is installed."""
    root = _write_site(tmp_path / "site")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    return env


def test_a_third_party_benchmark_and_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], scratch_registry: Any
) -> None:
    # Installed in this process: the entry points are read afresh, the registration is undone afterwards.
    monkeypatch.syspath_prepend(str(_write_site(tmp_path / "site")))
    monkeypatch.setattr(plugins, "_FOUND", {})
    monkeypatch.setattr(scratch_registry, "_PLUGIN_ERRORS", {})
    monkeypatch.delitem(sys.modules, "thirdparty_bench", raising=False)
    scratch_registry._register_plugins()
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    assert any(line.split()[:2] == ["ok", "toy"] and "a toy benchmark" in line for line in out.splitlines())
    # The broken command-line plugin is named in one line; the other commands work.
    assert "command-line plugin 'no_such_module_smm_plugin:add_subcommands'" in err and "thirdparty-bench" in err
    assert main(["hello", "--n", "2"]) == 3 and capsys.readouterr().out == "hihi\n"
    assert main(["eval", "toy", "--random", "2", "--seed", "0"]) == 0
    assert len(capsys.readouterr().out.split()) == 2
    sys.modules.pop("thirdparty_bench", None)


def test_registered_entries_and_broken_benchmark_plugins(site: dict[str, str]) -> None:
    code = textwrap.dedent(
        """
        from smm_plugins.cost import cost_model_for
        from smm_plugins.registry import benchmark_entry, benchmark_plugin_errors, load_benchmark
        entry = benchmark_entry("toy")
        print(entry.name, entry.kind, entry.eval_seconds, entry.twins)
        errors = benchmark_plugin_errors()
        print(sorted(errors))
        print(errors["smm-mini-ps"])
        print(benchmark_entry("smm-mini-ps").kind)  # the core's own name is not taken over
        try:
            load_benchmark("broken-bench")
        except ValueError as exc:
            print(exc)
        toy = load_benchmark("toy")
        spp = cost_model_for(toy, "lab").seconds_per_problem
        print(all(spp[o] == 0.5 / n for o, n in toy.n_problems_full.items()), sorted(spp))
        """
    )
    res = subprocess.run([sys.executable, "-c", code], env=site, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "toy thirdparty 0.5 ('toy-surrogate',)"
    assert lines[1] == "['broken-bench', 'smm-mini-ps']"
    assert "benchmark plugin 'thirdparty_bench:TOY'" in lines[2] and "already registered" in lines[2]
    assert lines[3] == "embedded"
    assert "benchmark plugin 'thirdparty_bench:NO_SUCH_ENTRY'" in lines[4] and "thirdparty-bench" in lines[4]
    # The "lab" cost model spreads the registered eval_seconds (0.5) over the problems of each split.
    assert lines[5] == "True ['test_acc', 'train_acc']"


def test_this_distribution_declares_the_lab_and_the_applications() -> None:
    benchmarks, commands = entry_points(BENCHMARK_GROUP), entry_points(CLI_GROUP)
    assert {"smm-mini-ps-true", "smm-mini-dfs-true"} <= set(benchmarks)
    assert {"lab", "surrogate-tools", "compare"} <= set(commands)
    for ep in [benchmarks["smm-mini-ps-true"], commands["compare"]]:
        assert ep.dist is not None and ep.dist.name == "smm-plugins"
