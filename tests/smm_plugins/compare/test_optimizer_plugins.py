"""Optimiser plugins: entry points of an installed distribution, a broken plugin, and a core that names no adapter."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import smm_plugins
from smm_plugins.compare.optimizers import OPTIMIZER_GROUP, RESOLVER_GROUP, get_optimizer, optimizer_plugin_errors

BUILTIN = {
    "random": "optuna",
    "tpe": "optuna",
    "cmaes": "optuna",
    "sep-cmaes": "optuna",
    "qmc": "optuna",
    "gp": "optuna",
    "nsga2": "optuna",
    "synetune-random": "syne-tune",
    "synetune-rea": "syne-tune",
    "synetune-kde": "syne-tune",
    "synetune-tpe": "syne-tune",
    "synetune-bore": "syne-tune",
    "hpobench-random": "hpobench",
}

# A third-party package: an installed distribution (dist-info with entry points) and its module.
PLUGIN = textwrap.dedent(
    """
    import numpy as np
    from smm_plugins.compare.optimizers import OptimizerInfo
    from smm_plugins.space import ps_space
    from smm_plugins.testing import SyntheticBenchmark

    def toy():
        return SyntheticBenchmark(ps_space("toy-ps", n_layers=4))

    def hill_climb(benchmark, seed, budget, *, objective="train_acc", step=0.1):
        rng = np.random.default_rng(seed)
        space = benchmark.space
        best = space.sample(1, rng)[0]
        best_value = benchmark.evaluate(best, objective)
        for _ in range(budget - 1):
            x = np.clip(best + step * (space.upper - space.lower) * rng.standard_normal(space.dim), space.lower,
                        space.upper)
            value = benchmark.evaluate(x, objective)
            if value >= best_value:
                best, best_value = x, value

    HILL_CLIMB = OptimizerInfo("hill-climb", hill_climb, framework="thirdparty", description="a hill climber")

    def resolve(spec):
        # "hill:<step>": the hill climber with that step size.
        if not spec.startswith("hill:"):
            return None
        return OptimizerInfo(spec, hill_climb, framework="thirdparty", description="hill climber",
                             defaults={"step": float(spec[5:])})
    """
)
ENTRY_POINTS = f"""
[{OPTIMIZER_GROUP}]
hill-climb = thirdparty_opt:HILL_CLIMB
broken-opt = thirdparty_opt:NO_SUCH_ATTRIBUTE

[{RESOLVER_GROUP}]
thirdparty = thirdparty_opt:resolve
"""


@pytest.fixture()
def site(tmp_path: Path) -> dict[str, str]:
    root = tmp_path / "site"
    info = root / "thirdparty_opt-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-opt\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (root / "thirdparty_opt.py").write_text(PLUGIN)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    return env


def _compare(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "smm_plugins.compare.cli", "compare", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_third_party_plugin_is_listed_and_runs(site: dict[str, str], tmp_path: Path) -> None:
    listing = _compare(site, "--list-optimizers")
    assert listing.returncode == 0, listing.stderr
    lines = {ln.split()[0]: ln for ln in listing.stdout.splitlines()}
    assert "thirdparty" in lines["hill-climb"] and "a hill climber" in lines["hill-climb"]
    # The broken entry point is named with its target and distribution; the listing goes on.
    assert "not loaded" in lines["broken-opt"] and "thirdparty_opt:NO_SUCH_ATTRIBUTE" in lines["broken-opt"]
    assert "thirdparty-opt" in lines["broken-opt"] and "de" in lines and "random" in lines
    out = tmp_path / "out"
    res = _compare(
        site,
        *("--benchmarks", "thirdparty_opt:toy", "--optimizers", "hill-climb,hill:0.3", "--seeds", "2"),
        *("--budget", "9", "--workers", "1", "--no-progress", "--out", str(out)),
    )
    assert res.returncode == 0, res.stderr
    df = pd.read_parquet(out / "runs")
    assert set(df["optimizer"]) == {"hill-climb", "hill:0.3"} and len(df) == 2 * 2 * 9
    # The resolver's default step (0.3) differs from the registered one (0.1): different runs.
    by = df.set_index(["optimizer", "seed", "trial"])["value"]
    assert not by["hill-climb"].equals(by["hill:0.3"])
    broken = _compare(
        site,
        "--benchmarks",
        "smm-mini-ps",
        "--optimizers",
        "broken-opt",
        "--seeds",
        "1",
        "--budget",
        "2",
        "--out",
        str(tmp_path / "b"),
    )
    assert broken.returncode == 2
    assert "optimizer plugin 'thirdparty_opt:NO_SUCH_ATTRIBUTE'" in broken.stderr and "thirdparty-opt" in broken.stderr


def test_builtin_optimizers_are_entry_points_of_this_distribution() -> None:
    try:
        eps = {ep.name: ep for ep in importlib.metadata.entry_points(group=OPTIMIZER_GROUP)}
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - metadata always answers
        eps = {}
    if "random" not in eps:
        pytest.fail("smm-plugins is not installed with its entry points: pip install -e . (then run the tests)")
    for name, framework in BUILTIN.items():
        assert eps[name].dist is not None and eps[name].dist.name == "smm-plugins"
        assert eps[name].value.split(".")[0] in {"optuna_ext", "synetune_ext", "hpobench_ext"}
        try:
            info = get_optimizer(name)
        except ValueError:
            assert name in optimizer_plugin_errors()  # its framework is not installed here: reported, by name
            continue
        assert (info.name, info.framework) == (name, framework)
    assert get_optimizer("de").framework == "scipy"  # the core's own, registered without metadata


def _adapter_mentions(path: Path) -> list[str]:
    """Imports of adapter packages and string constants naming them (docstrings excluded)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    adapters = ("optuna_ext", "synetune_ext", "hpobench_ext", "carps_ext", "hposuite_ext")
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            names = [node.value]
        found += [f"{path}:{node.lineno}: {n!r}" for n in names if any(a in n for a in adapters)]  # type: ignore[attr-defined]
    return found


def test_the_core_names_no_adapter() -> None:
    root = Path(smm_plugins.__file__).parent
    mentions = [m for p in sorted(root.rglob("*.py")) for m in _adapter_mentions(p)]
    assert mentions == []


@pytest.mark.slow
def test_without_optuna_its_optimizers_name_the_fix() -> None:
    # A process in which Optuna cannot be imported: the core and DE work, Optuna's names say what to install.
    code = textwrap.dedent(
        """
        import sys

        class NoOptuna:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("optuna", "optunahub"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)

        sys.meta_path.insert(0, NoOptuna())
        from smm_plugins.compare.optimizers import get_optimizer, list_optimizers
        names = [i.name for i in list_optimizers()]
        assert "de" in names and "tpe" not in names, names
        try:
            get_optimizer("tpe")
        except ValueError as exc:
            print(exc)
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "optimizer plugin 'optuna_ext.optimizers:TPE'" in res.stdout
    assert 'pip install "smm-plugins[optuna]"' in res.stdout
