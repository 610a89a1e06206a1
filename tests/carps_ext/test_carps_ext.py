"""carps_ext with the real CARP-S: the objective function, generated task configs and CARP-S's own runner."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("carps")
yaml = pytest.importorskip("yaml")

from carps.objective_functions.objective_function import ObjectiveFunction
from carps.utils.trials import TrialInfo

import carps_ext
from carps_ext import SMMObjectiveFunction, task_config, write_task_configs
from smm_plugins import list_benchmarks, load_benchmark
from smm_plugins.configspace import configuration_space
from smm_plugins.fidelity import fidelity_range

ROOT = Path(__file__).resolve().parents[2]


def _trial(f: SMMObjectiveFunction, x: np.ndarray, **kw) -> TrialInfo:
    from ConfigSpace import Configuration

    return TrialInfo(config=Configuration(f.configspace, values=f.benchmark.space.to_config(x)), **kw)


def test_objective_function_is_the_core_benchmark_in_carps_terms():
    f = SMMObjectiveFunction("smm-mini-ps")
    b = load_benchmark("smm-mini-ps")
    assert isinstance(f, ObjectiveFunction) and f.benchmark is b
    assert f.configspace == configuration_space(b.space)  # the one translation
    X = b.space.sample(5, rng=1)
    for k, x in enumerate(X):
        value = f.evaluate(_trial(f, x))
        assert value.cost == pytest.approx(1.0 - b.evaluate(x), abs=0) and value.status.name == "SUCCESS"
        assert value.virtual_time == b.cost(x) > 0
        assert value.additional_info == {
            "train_acc": b.evaluate(x),
            "test_acc": b.evaluate(x, "test_acc"),
            "n_problems": b.n_problems_full["train_acc"],
        }
        assert f.n_function_calls == k + 1


def test_budget_is_the_evaluation_size_and_trials_replay():
    f = SMMObjectiveFunction("smm-mini-dfs", seed=3)
    b = f.benchmark
    x = b.space.sample(1, rng=2)[0]
    full = b.n_problems_full["train_acc"]
    low = f.evaluate(_trial(f, x, budget=37.0))
    assert low.additional_info["n_problems"] == 37
    assert low.cost == 1.0 - b.evaluate(x, n_problems=37, seed=3)  # the task seed picks the subset
    assert f.evaluate(_trial(f, x, budget=37.0)).cost == low.cost  # same trial, same measurement
    assert f.evaluate(_trial(f, x, budget=37.0, seed=8)).cost == 1.0 - b.evaluate(x, n_problems=37, seed=8)
    assert low.virtual_time == b.cost(x, n_problems=37) < f.evaluate(_trial(f, x, budget=full)).virtual_time
    assert f.evaluate(_trial(f, x, budget=float(full))).cost == 1.0 - b.evaluate(x)  # full: deterministic
    with pytest.raises(ValueError, match="n_problems = 0"):
        f.evaluate(_trial(f, x, budget=0.0))


def test_directory_and_instance(ps_dir, tiny_dfs):
    by_dir = SMMObjectiveFunction(ps_dir)
    x = by_dir.benchmark.space.sample(1, rng=0)[0]
    assert by_dir.evaluate(_trial(by_dir, x)).cost == 1.0 - load_benchmark(ps_dir).evaluate(x)
    by_instance = SMMObjectiveFunction(tiny_dfs)
    assert by_instance.benchmark is tiny_dfs and len(list(by_instance.configspace)) == tiny_dfs.space.dim


def _comparable(node):
    # ConfigSpace records its own version in a serialised space: not part of the task.
    if isinstance(node, dict):
        return {k: _comparable(v) for k, v in node.items() if k != "python_module_version"}
    if isinstance(node, list):
        return [_comparable(v) for v in node]
    return node


def test_shipped_task_configs_are_the_generated_ones(tmp_path):
    written = write_task_configs(tmp_path)
    assert len(written) == 2 * len(list_benchmarks())
    shipped = sorted(p.relative_to(carps_ext.CONFIG_DIR) for p in carps_ext.CONFIG_DIR.rglob("*.yaml"))
    assert shipped == sorted(p.relative_to(tmp_path) for p in written), "run `python -m carps_ext.generate_tasks`"
    for rel in shipped:
        new, old = (yaml.safe_load((d / rel).read_text()) for d in (tmp_path, carps_ext.CONFIG_DIR))
        assert _comparable(new) == _comparable(old), f"{rel} is stale: run `python -m carps_ext.generate_tasks`"


@pytest.mark.parametrize("kind", ["blackbox", "multifidelity"])
def test_task_configs_instantiate_carps_tasks(kind):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    for name in ("smm-mini-ps", "smm-mini-dfs-true"):
        cfg = OmegaConf.load(carps_ext.CONFIG_DIR / "task" / "SMM" / kind / f"{name}.yaml")
        cfg.seed = 5
        task = instantiate(cfg.task)
        f = task.objective_function
        assert isinstance(f, SMMObjectiveFunction) and f.seed == 5 and f.benchmark is load_benchmark(name)
        assert task.input_space.configuration_space == f.configspace
        fid = task.input_space.fidelity_space
        full = f.benchmark.n_problems_full["train_acc"]
        if kind == "multifidelity":
            assert (fid.is_multifidelity, fid.fidelity_type, fid.max_fidelity) == (True, "n_problems", full)
            assert 1 <= fid.min_fidelity < full and task.metadata.deterministic is False
        else:
            assert not fid.is_multifidelity and task.metadata.deterministic is True
        assert task.metadata.dimensions == f.benchmark.space.dim
        assert task.metadata.search_space_n_categoricals == f.benchmark.space.n_categorical
        assert task.metadata.objective_function_approximation == ("real" if name.endswith("true") else "surrogate")


def test_official_benchmarks_get_configs_without_their_files(data_dir):
    cfg = task_config("smm-bench-dfs", multifidelity=True)
    fid = cfg["task"]["input_space"]["fidelity_space"]
    assert (fid["min_fidelity"], fid["max_fidelity"]) == (39, 1069)
    assert cfg["task"]["metadata"]["dimensions"] == 95 and cfg["task"]["metadata"]["search_space_n_categoricals"] == 32
    with pytest.raises(ValueError, match="unknown benchmark|no-such"):
        task_config("no-such-benchmark", multifidelity=False)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _run_module(cwd: Path, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` in ``cwd``, as a user runs it; fails the test with its stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=_env(), cwd=cwd, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.slow
def test_carps_runner_and_results_tooling_on_a_user_directory(tmp_path, ps_dir):
    # The documented workflow: generate configs for your own benchmark, run CARP-S's runner on them
    # through Hydra's search path, gather the logs with CARP-S's analysis tooling.
    gen = _run_module(tmp_path, "carps_ext.generate_tasks", "--out", str(tmp_path / "configs"), str(ps_dir))
    assert gen.stdout.split() == [
        str(tmp_path / "configs" / "task" / "SMM" / k / "smm-bench-ps.yaml") for k in ("blackbox", "multifidelity")
    ]
    _run_module(
        tmp_path,
        "carps.run",
        "+task/SMM/blackbox=smm-bench-ps",
        "+optimizer/randomsearch=config",
        f"hydra.searchpath=[file://{tmp_path / 'configs'}]",
        "task.optimization_resources.n_trials=15",
        f"baserundir={tmp_path / 'runs'}",
        "seed=2",
    )
    _run_module(tmp_path, "carps.analysis.gather_data", str(tmp_path / "runs"))
    import pandas as pd

    logs = pd.read_parquet(tmp_path / "runs" / "logs.parquet")
    assert len(logs) == 15 and set(logs["task_id"]) == {"smm/blackbox/smm-bench-ps"}
    bench = load_benchmark(ps_dir)
    for _, row in logs.iterrows():
        # CARP-S logs the configuration as a JSON list in space order (13 significant digits) and the
        # additional info as a Python dict literal.
        x = np.array(json.loads(row["trial_info__config"]))
        info = ast.literal_eval(row["trial_value__additional_info"])
        assert row["trial_value__cost"] == 1.0 - info["train_acc"]
        assert info["train_acc"] == pytest.approx(bench.evaluate(x), abs=1e-12)
        assert info["test_acc"] == pytest.approx(bench.evaluate(x, "test_acc"), abs=1e-12)


def test_missing_carps_is_one_line_naming_the_extra():
    code = "import sys; sys.modules['carps'] = None\ntry:\n import carps_ext\nexcept ImportError as e:\n print(e)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
    assert 'pip install "smm-plugins[carps]"' in out.stdout and len(out.stdout.strip().splitlines()) == 1


@pytest.mark.slow
def test_carps_runner_multifidelity_smac_hyperband(tmp_path):
    pytest.importorskip("smac")
    _run_module(
        tmp_path,
        "carps.run",
        "+task/SMM/multifidelity=smm-mini-dfs",
        "+optimizer/smac20=multifidelity",
        f"hydra.searchpath=[{carps_ext.SEARCH_PATH}]",
        "task.optimization_resources.n_trials=10",
        f"baserundir={tmp_path / 'runs'}",
        "seed=1",
    )
    (log,) = (tmp_path / "runs").rglob("trial_logs.jsonl")
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    bench = load_benchmark("smm-mini-dfs")
    # Hyperband's float budgets (37.04, 111.1, ...) become evaluation sizes; the low ones are subset accuracies.
    sizes = {r["trial_value"]["additional_info"]["n_problems"] for r in rows}
    assert {37, bench.n_problems_full["train_acc"]} <= sizes
    for r in rows:
        info, budget = r["trial_value"]["additional_info"], r["trial_info"]["budget"]
        assert info["n_problems"] == round(budget) and r["trial_value"]["cost"] == 1.0 - info["train_acc"]
        x = np.array(r["trial_info"]["config"])
        assert r["trial_value"]["virtual_time"] == pytest.approx(bench.cost(x, n_problems=info["n_problems"]))


SUITE = list_benchmarks(suite="smm-mini")


def test_every_suite_member_has_its_shipped_configs():
    for name in SUITE:
        for kind in ("blackbox", "multifidelity"):
            cfg = yaml.safe_load((carps_ext.CONFIG_DIR / "task" / "SMM" / kind / f"{name}.yaml").read_text())
            assert cfg["task"]["objective_function"]["benchmark"] == name, "run `python -m carps_ext.generate_tasks`"
            assert cfg["task"]["metadata"]["objective_function_approximation"] == "real"


@pytest.mark.parametrize("name", SUITE)
def test_suite_member_task_by_name(name):
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    # The multi-fidelity task (the black-box one runs through carps.run below, marked slow).
    bench = load_benchmark(name)
    cfg = OmegaConf.load(carps_ext.CONFIG_DIR / "task" / "SMM" / "multifidelity" / f"{name}.yaml")
    cfg.seed = 2
    task = instantiate(cfg.task)
    f, fid = task.objective_function, task.input_space.fidelity_space
    assert f.benchmark is bench and task.input_space.configuration_space == f.configspace
    assert fid.min_fidelity == fidelity_range(bench.n_problems_full["train_acc"])[0]
    config = task.input_space.configuration_space.sample_configuration()
    x = bench.space.to_vector(dict(config))
    for n in (fid.min_fidelity, fid.max_fidelity):
        value = f.evaluate(TrialInfo(config=config, budget=float(n)))
        assert value.additional_info["n_problems"] == n and value.virtual_time == bench.cost(x, n_problems=n)
        assert value.cost == 1.0 - (
            bench.evaluate(x, n_problems=n, seed=2) if n < fid.max_fidelity else bench.evaluate(x)
        )


@pytest.mark.slow
def test_carps_runner_over_the_whole_suite(tmp_path):
    # CARP-S's own runner, one Hydra multirun over every member's shipped black-box task.
    _run_module(
        tmp_path,
        "carps.run",
        "-m",
        f"+task/SMM/blackbox={','.join(SUITE)}",
        "+optimizer/randomsearch=config",
        f"hydra.searchpath=[{carps_ext.SEARCH_PATH}]",
        "++task.optimization_resources.n_trials=2",
        f"baserundir={tmp_path / 'runs'}",
        "seed=1",
    )
    for name in SUITE:
        (log,) = (tmp_path / "runs").rglob(f"blackbox/{name}/1/trial_logs.jsonl")
        rows = [json.loads(line) for line in log.read_text().splitlines()]
        bench = load_benchmark(name)
        assert len(rows) == 2
        for r in rows:
            info = r["trial_value"]["additional_info"]
            assert r["trial_value"]["cost"] == 1.0 - info["train_acc"]
            assert info["n_problems"] == bench.n_problems_full["train_acc"]
            x = bench.space.to_vector(_logged_config(bench, r["trial_info"]["config"]))
            assert info["train_acc"] == pytest.approx(bench.evaluate(x), abs=1e-12)


def _logged_config(bench, values: list) -> dict:
    """A configuration as CARP-S logs it (the active values, in ConfigSpace's order) as ``{name: value}``."""
    params: dict = {}
    rest = list(values)
    for name in configuration_space(bench.space):
        if bench.space.is_active(name, params):
            params[name] = rest.pop(0)
    assert not rest
    return params


def test_generate_tasks_for_a_suite(tmp_path, capsys):
    from carps_ext.generate_tasks import main

    assert main(["--suite", "smm-mini", "--out", str(tmp_path)]) == 0
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.yaml"))
    assert written == sorted(Path("task/SMM", k, f"{n}.yaml") for n in SUITE for k in ("blackbox", "multifidelity"))
    with pytest.raises(SystemExit):
        main(["--suite", "no-such-suite", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert "suite = 'no-such-suite' is not a registered suite; known suites:" in err and "smm-mini" in err
