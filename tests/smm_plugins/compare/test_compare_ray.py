"""smm_plugins.compare on a Ray cluster: a local head started with `ray start --head`, results bit-identical
to the serial path, one benchmark load per worker process, failures isolated."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # starts a Ray cluster

from smm_plugins.compare.experiment import load_experiment
from smm_plugins.compare.runner import read_run_meta, read_runs, run_experiment

TOY = textwrap.dedent(
    """
    import os
    import numpy as np
    from smm_plugins.space import dfs_space, ps_space
    from smm_plugins.testing import SyntheticBenchmark

    LOADS = []

    class Toy(SyntheticBenchmark):
        def __init__(self, space):
            super().__init__(space)
            LOADS.append(os.getpid())

    def ps():
        return Toy(ps_space("toy-ps", n_layers=6))

    def dfs():
        return Toy(dfs_space("toy-dfs", n_layers=4))

    def loads(benchmark, seed, budget, *, objective="train_acc"):
        # Random search that also reports how often this worker process built a benchmark.
        rng = np.random.default_rng(seed)
        for _ in range(budget):
            benchmark.evaluate(benchmark.space.sample(1, rng)[0], objective)
        with open(os.environ["TOY_LOG"], "a") as fh:
            fh.write(f"{os.getpid()} {len(LOADS)}\\n")

    def boom(benchmark, seed, budget, *, objective="train_acc"):
        if benchmark.space.n_categorical:
            raise ValueError("boom on a DFS space")
        loads(benchmark, seed, budget, objective=objective)
    """
)


@pytest.fixture(scope="module")
def ray_head(ray_cluster_factory: type) -> Iterator[tuple[str, dict[str, str]]]:
    """A local Ray head (2 CPUs) whose workers can import the toy module.

    Yields its address and the environment a driver needs (its private authentication token, see
    conftest.py); the Ray-side driver runs as a ``smm-bench compare --ray-address`` subprocess.
    """
    mod_dir = Path(tempfile.mkdtemp(prefix="cmpray"))
    (mod_dir / "cmp_ray_toy.py").write_text(TOY)
    cluster = ray_cluster_factory(
        {
            "PYTHONPATH": os.pathsep.join([str(mod_dir), os.environ.get("PYTHONPATH", "")]),
            "TOY_LOG": str(mod_dir / "loads.log"),
        }
    )
    address = cluster.start_head(num_cpus=2)
    sys.path.insert(0, str(mod_dir))
    try:
        yield address, cluster.env
    finally:
        sys.path.remove(str(mod_dir))
        shutil.rmtree(mod_dir, ignore_errors=True)


def test_ray_cluster_matches_serial_and_isolates_failures(
    ray_head: tuple[str, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, env = ray_head
    optimizers = ["de", "cmp_ray_toy:loads", "cmp_ray_toy:boom"]
    try:
        import optuna_ext

        if hasattr(optuna_ext, "Problem"):
            optimizers.append("random")  # an Optuna sampler through the real adapter, when it is there
    except ImportError:
        pass
    exp_file = tmp_path / "exp.toml"
    exp_file.write_text(
        'benchmarks = ["cmp_ray_toy:ps", "cmp_ray_toy:dfs"]\n'
        f"optimizers = {json.dumps(optimizers)}\n"
        "seeds = 3\nbudget = 40\n[options.de]\npopulation_size = 8\n"
    )
    cmd = [
        sys.executable,
        "-m",
        "smm_plugins.compare.cli",
        "compare",
        "--experiment",
        str(exp_file),
        "--ray-address",
        address,
        "--no-progress",
        "--out",
        str(tmp_path / "ray"),
    ]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res.stderr  # 1: some runs failed (boom), the others finished
    assert "(ray, 2 worker(s))" in res.stderr
    exp = load_experiment(exp_file)
    monkeypatch.setenv("TOY_LOG", str(tmp_path / "serial.log"))
    serial = run_experiment(exp, tmp_path / "serial", workers=1, progress=False)
    assert serial.backend == "serial"
    # boom fails on DFS, identically in both modes; the other runs all finish.
    ray_fail = sorted(p.stem for p in (tmp_path / "ray" / "failures").glob("*.json"))
    assert ray_fail == sorted(serial.failures) == [f"dfs__cmp_ray_toy-boom__seed{k}" for k in range(3)]
    assert (
        "boom on a DFS space"
        in json.loads((tmp_path / "ray" / "failures" / f"{ray_fail[0]}.json").read_text())["traceback"]
    )
    pd.testing.assert_frame_equal(
        read_runs(tmp_path / "ray", reproducible=True), read_runs(tmp_path / "serial", reproducible=True)
    )  # bit-identical
    pids = {read_run_meta(p)["pid"] for p in (tmp_path / "ray" / "runs").glob("*.parquet")}
    assert os.getpid() not in pids and 1 <= len(pids) <= 4  # ran in worker processes
    # One benchmark build per (worker process, benchmark): the per-process cache, not one per task.
    lines = [tuple(map(int, ln.split())) for ln in Path(env["TOY_LOG"]).read_text().split("\n") if ln]
    worker_lines = [(pid, n) for pid, n in lines if pid in pids]
    assert worker_lines and max(n for _, n in worker_lines) <= 2
    assert len(worker_lines) > len({pid for pid, _ in worker_lines})  # workers were reused across runs
    # Resume on the cluster: nothing left but the failed runs, which are tried again.
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert f"0 run(s) done, {exp.n_runs - len(ray_fail)} skipped" in again.stderr, again.stderr
