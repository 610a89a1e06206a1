"""`pip install smm-plugins` (no extra) evaluates every benchmark from Python and the CLI.

Each check runs in a fresh interpreter in which every optional framework is made unimportable, as in an
environment that has only the core's dependencies.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from smm_plugins.space import dfs_space, ps_space
from smm_plugins.testing import write_cv_booster_dir

#: Top-level modules of the extras (and what they pull in) that the core must never need.
OPTIONAL = (
    "torch",
    "optuna",
    "optunahub",
    "cmaes",
    "ray",
    "matplotlib",
    "ConfigSpace",
    "syne_tune",
    "hpobench",
    "yaml",
    "xgboost",
    "sklearn",
)

_BLOCK = textwrap.dedent(
    f"""
    import importlib.abc, sys

    class _Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {OPTIONAL!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: core-only test)", name=name)
            return None

    sys.meta_path.insert(0, _Block())
    """
)


def _run(code: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", **env_extra)
    return subprocess.run(
        [sys.executable, "-c", _BLOCK + textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def data_dir_with_official(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory into which official-layout PS and DFS files were installed with `smm-bench install`."""
    root = tmp_path_factory.mktemp("core-only")
    download = root / "download"
    write_cv_booster_dir(download / "smm-bench-ps", ps_space(), seed=1, n_trees=5)
    write_cv_booster_dir(download / "smm-bench-dfs", dfs_space(), seed=2, n_trees=5)
    data = root / "data"
    res = _run(
        f"""
        import sys
        from smm_plugins.cli import main
        sys.exit(main(["install", {str(download)!r}]))
        """,
        {"SMM_BENCH_DATA_DIR": str(data)},
    )
    assert res.returncode == 0, res.stderr
    return data


@pytest.mark.slow
def test_every_benchmark_evaluates_from_python_without_any_extra(data_dir_with_official: Path) -> None:
    res = _run(
        """
        import json, sys
        import numpy as np
        from smm_plugins import list_benchmarks, load_benchmark
        from smm_plugins.references import reference_configs
        out = {}
        for name in list_benchmarks():
            bench = load_benchmark(name)
            X = bench.space.sample(4, rng=0)
            train, test = bench.evaluate(X), bench.evaluate(X, objective="test_acc")
            refs = bench.evaluate(np.stack(list(reference_configs(bench.space).values())))
            out[name] = [float(v) for v in (*train, *test, *refs, *np.atleast_1d(bench.cost(X)))]
        blocked = sorted(m for m in sys.modules if m.split(".")[0] in OPTIONAL)
        print(json.dumps({"values": out, "blocked_loaded": blocked}))
        """.replace("OPTIONAL", repr(OPTIONAL)),
        {"SMM_BENCH_DATA_DIR": str(data_dir_with_official)},
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["blocked_loaded"] == []
    names = set(report["values"])
    assert {"smm-mini-ps", "smm-mini-dfs", "smm-mini-ps-true", "smm-mini-dfs-true"} <= names
    assert {"smm-bench-ps", "smm-bench-dfs"} <= names  # the installed official-layout files
    for name, values in report["values"].items():
        assert all(v >= 0 for v in values), name


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smm-mini-ps", "smm-mini-dfs-true", "smm-bench-dfs"])
def test_cli_list_info_and_eval_without_any_extra(name: str, data_dir_with_official: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return _run(
            f"""
            import sys
            from smm_plugins.cli import main
            sys.exit(main({list(args)!r}))
            """,
            {"SMM_BENCH_DATA_DIR": str(data_dir_with_official)},
        )

    listed = cli("list")
    assert listed.returncode == 0 and name in listed.stdout, listed.stderr
    assert cli("info", name, "--json").returncode == 0
    ev = cli("eval", name, "--random", "5", "--seed", "0", "--objective", "test_acc")
    assert ev.returncode == 0, ev.stderr
    values = [float(v) for v in ev.stdout.split()]
    assert len(values) == 5 and all(0 <= v <= 1 for v in values)


def test_lab_training_without_torch_names_the_extra() -> None:
    res = _run(
        """
        import sys
        from smm_plugins.cli import main
        sys.exit(main(["lab", "train-sources", "--no-progress"]))
        """,
        {},
    )
    assert res.returncode != 0
    err = res.stderr.strip().splitlines()
    assert len(err) == 1 and 'pip install "smm-plugins[lab]"' in err[0] and "torch" in err[0]


@pytest.mark.slow
def test_compare_runs_serially_with_de_and_report_names_its_extra(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return _run(f"import sys\nfrom smm_plugins.cli import main\nsys.exit(main({list(args)!r}))\n", {})

    out = tmp_path / "cmp"
    args = ("--benchmarks", "smm-mini-ps", "--optimizers", "de", "--seeds", "1", "--budget", "20", "--no-progress")
    run = cli("compare", *args, "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert len(list((out / "runs").glob("*.parquet"))) == 1
    rep = cli("report", str(out))
    assert rep.returncode != 0
    err = rep.stderr.strip().splitlines()
    assert len(err) == 1 and 'pip install "smm-plugins[report]"' in err[0] and "matplotlib" in err[0]


@pytest.mark.parametrize("strategy", ["cma", "tpe"])
def test_lab_collect_without_optuna_names_the_extra_before_any_row(strategy: str, tmp_path: Path) -> None:
    out = tmp_path / "rows"
    counts = ["--cma-runs", "1" if strategy == "cma" else "0", "--tpe-runs", "1" if strategy == "tpe" else "0"]
    cmd = ["lab", "collect", "--kind", "ps", "--preset", "tiny", "--out", str(out), "--no-progress", *counts]
    res = _run(f"import sys\nfrom smm_plugins.cli import main\nsys.exit(main({cmd!r}))\n", {})
    assert res.returncode != 0
    err = res.stderr.strip().splitlines()
    module = "cmaes" if strategy == "cma" else "optuna"
    assert len(err) == 1 and 'pip install "smm-plugins[optuna]"' in err[0] and module in err[0], res.stderr
    assert list(out.glob("part-*.parquet")) == []  # the random rows did not start either
