"""smm_plugins.compare on a two-node Ray cluster: user benchmark directories shipped to a node that cannot
see them, results bit-identical to the serial run, and a grid that survives losing a worker node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ray")
pytest.importorskip("psutil")  # a dependency of ray[default]; kills a node's whole process tree

from smm_plugins.compare import Experiment, read_runs, run_experiment
from smm_plugins.space import dfs_space, ps_space
from smm_plugins.testing import write_cv_booster_dir

pytestmark = pytest.mark.slow

# An optimiser that notes, in a log shared by all nodes, which node each run started on.
TOY = textwrap.dedent(
    """
    import os, time
    import numpy as np

    def _note(event, benchmark, seed):
        with open(os.environ["CLUSTER_LOG"], "a") as fh:
            fh.write(f"{os.environ.get('NODE_TAG', 'driver')} {event} {benchmark.name} {seed}\\n")

    def tagged_random(benchmark, seed, budget, *, objective="train_acc", pause=0.0):
        _note("start", benchmark, seed)
        rng = np.random.default_rng(seed)
        for _ in range(budget):
            benchmark.evaluate(benchmark.space.sample(1, rng)[0], objective)
            time.sleep(pause)  # long enough runs for a node to die in the middle of one
        _note("end", benchmark, seed)
    """
)

# The driver joins the cluster in its own process: Ray reads the token settings when it is imported.
DRIVER = textwrap.dedent(
    """
    import json, sys
    from smm_plugins.compare import load_experiment, run_experiment

    summary = run_experiment(load_experiment(sys.argv[1]), sys.argv[2], ray_address=sys.argv[3], progress=False)
    print(json.dumps({"backend": summary.backend, "done": summary.done, "failures": summary.failures}))
    """
)


@pytest.fixture(scope="module")
def user_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The toy optimiser module, the driver script and two user benchmark directories (PS and DFS)."""
    root = tmp_path_factory.mktemp("cluster")
    (root / "modules").mkdir()
    (root / "modules" / "cluster_toy.py").write_text(TOY)
    (root / "driver.py").write_text(DRIVER)
    benches = root / "user-benchmarks"
    small = {"n_folds": 2, "n_trees": 8, "n_samples": 400}
    write_cv_booster_dir(benches / "my-ps", ps_space(), seed=5, **small)
    write_cv_booster_dir(benches / "my-dfs", dfs_space(), seed=6, **small)
    sys.path.insert(0, str(root / "modules"))  # the serial runs import the toy optimiser here
    try:
        yield {"root": root, "modules": root / "modules", "benchmarks": benches}
    finally:
        sys.path.remove(str(root / "modules"))
        sys.modules.pop("cluster_toy", None)


def _two_nodes(
    factory: type, files: dict[str, Path], log: Path, can_hide: bool, home: Path | None = None, **head_env: str
) -> tuple:
    """Head (1 CPU) and one worker node (1 CPU) that cannot see the user's benchmark folder (if hiding works)."""
    env = {
        "PYTHONPATH": os.pathsep.join([str(files["modules"]), os.environ.get("PYTHONPATH", "")]),
        "CLUSTER_LOG": str(log),
    }
    cluster = factory({**env, "HOME": str(home)} if home else env)
    cluster.start_head(num_cpus=1, node_env={"NODE_TAG": "head", **head_env})
    hidden = [files["benchmarks"]] if can_hide else []
    worker = cluster.add_node(num_cpus=1, node_env={"NODE_TAG": "worker"}, hidden=hidden)
    return cluster, worker


def _write_experiment(path: Path, exp: Experiment) -> Path:
    lines = [f"{k} = {json.dumps(getattr(exp, k))}" for k in ("benchmarks", "optimizers", "seeds", "budget")]
    for opt, options in exp.options.items():
        lines.append(f"[options.{json.dumps(opt)}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in options.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _serial(exp: Experiment, out: Path, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    monkeypatch.setenv("CLUSTER_LOG", str(out.with_suffix(".log")))
    summary = run_experiment(exp, out, workers=1, progress=False)
    assert summary.backend == "serial" and not summary.failures
    return read_runs(out, reproducible=True)


def _events(log: Path) -> list[tuple[str, str, str]]:
    """(node, "start" | "end", run) of each line the toy optimiser wrote."""
    rows = [line.split() for line in log.read_text().splitlines() if line] if log.is_file() else []
    return [(node, event, f"{bench} {seed}") for node, event, bench, seed in rows]


def _nodes_that_ran(log: Path) -> list[str]:
    return [node for node, event, _ in _events(log) if event == "start"]


def _running_on(log: Path, node: str) -> set[str]:
    events = [(event, run) for n, event, run in _events(log) if n == node]
    return {run for event, run in events if event == "start"} - {run for event, run in events if event == "end"}


def test_two_node_cluster_ships_user_directories_and_matches_serial(
    ray_cluster_factory: type,
    can_hide_folders: bool,
    user_files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "cluster.log"
    # A home without ~/.ray: the cluster and its driver authenticate with the cluster's private token only.
    home = tmp_path / "home"
    home.mkdir()
    cluster, _ = _two_nodes(ray_cluster_factory, user_files, log, can_hide_folders, home=home)
    benches = [str(user_files["benchmarks"] / "my-ps"), str(user_files["benchmarks"] / "my-dfs")]
    exp = Experiment(
        benchmarks=benches,
        optimizers=["de", "cluster_toy:tagged_random"],
        seeds=3,
        budget=30,
        options={"de": {"population_size": 6}},
    )
    exp_file = _write_experiment(tmp_path / "exp.toml", exp)
    res = subprocess.run(
        [sys.executable, str(user_files["root"] / "driver.py"), str(exp_file), str(tmp_path / "ray"), cluster.address],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary == {"backend": "ray", "done": exp.n_runs, "failures": []}
    # Both nodes ran runs; the worker node saw an empty folder where the user's files are, so its runs
    # loaded the files the driver shipped.
    assert set(_nodes_that_ran(log)) == {"head", "worker"}
    if can_hide_folders:
        hidden_view = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount -t tmpfs tmpfs "$1" && ls "$1"']
            + ["sh", str(user_files["benchmarks"])],
            capture_output=True,
            text=True,
        )
        assert hidden_view.returncode == 0 and hidden_view.stdout == ""
    assert not (home / ".ray").exists()
    serial = _serial(exp, tmp_path / "serial", monkeypatch)
    assert len(serial) == exp.n_runs * exp.budget
    pd.testing.assert_frame_equal(read_runs(tmp_path / "ray", reproducible=True), serial)  # bit-identical


def test_grid_completes_when_a_worker_node_dies(
    ray_cluster_factory: type,
    can_hide_folders: bool,
    user_files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "cluster.log"
    # A dead node is noticed within ~2 s instead of Ray's default ~30 s.
    fast_failure = {"RAY_health_check_period_ms": "500", "RAY_health_check_failure_threshold": "3"}
    cluster, worker = _two_nodes(ray_cluster_factory, user_files, log, can_hide_folders, **fast_failure)
    toy = "cluster_toy:tagged_random"
    exp = Experiment(
        benchmarks=[str(user_files["benchmarks"] / "my-ps")],
        optimizers=[toy],
        seeds=8,
        budget=20,
        options={toy: {"pause": 0.05}},  # about 1 s per run
    )
    exp_file = _write_experiment(tmp_path / "exp.toml", exp)
    out = tmp_path / "ray"
    driver = subprocess.Popen(
        [sys.executable, str(user_files["root"] / "driver.py"), str(exp_file), str(out), cluster.address],
        env=cluster.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Kill the worker node while it is in the middle of a run, after some runs have finished.
        deadline = time.time() + 90
        while not (_running_on(log, "worker") and any((out / "runs").glob("*.parquet"))):
            assert driver.poll() is None, driver.communicate()[1][-3000:]
            assert time.time() < deadline, "no run was in progress on the worker node"
            time.sleep(0.05)
        started_before_kill = len(_nodes_that_ran(log))
        cluster.kill_node(worker)
        interrupted = _running_on(log, "worker")
        stdout, stderr = driver.communicate(timeout=300)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, stderr[-3000:]
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary == {"backend": "ray", "done": exp.n_runs, "failures": []}
    assert started_before_kill < exp.n_runs  # the grid was not over when the node died
    # The run the dead node held was started again, on the head, and finished there.
    assert interrupted and all(("head", "end", run) in _events(log) for run in interrupted)
    assert len(_nodes_that_ran(log)) > exp.n_runs
    # Nothing lost, nothing duplicated: one file per run, one row per evaluation, equal to the serial run.
    assert sorted(p.stem for p in (out / "runs").glob("*.parquet")) == sorted(
        f"my-ps__cluster_toy-tagged_random__seed{k}" for k in range(exp.n_runs)
    )
    assert not (out / "failures").is_dir() or not any((out / "failures").iterdir())
    ray_values = read_runs(out, reproducible=True)
    assert not ray_values.duplicated(["benchmark", "optimizer", "seed", "trial"]).any()
    pd.testing.assert_frame_equal(ray_values, _serial(exp, tmp_path / "serial", monkeypatch))
