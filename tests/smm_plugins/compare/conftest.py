"""Fixtures of the compare tests: a toy module of benchmarks and optimisers importable by name, and local Ray
clusters for the cluster tests (`ray start` processes with a private authentication token).

Ray 2.60 authenticates with a token when ``RAY_AUTH_MODE=token``; without a token file it refuses to start
("Token authentication is enabled but no authentication token was found"). Every cluster here writes its
own token into a temporary file and points ``RAY_AUTH_TOKEN_PATH`` at it for its nodes and drivers, so
the tests depend neither on the order they run in nor on ``~/.ray``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

RAY_CLI = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _has_ray_client() -> bool:
    from ray._private.utils import get_ray_client_dependency_error

    return get_ray_client_dependency_error() is None


def _hiding_supported() -> bool:
    # A private mount namespace (root, or unprivileged user namespaces) lets a node's processes see an
    # empty folder where the driver has files: the same as a remote machine that lacks them.
    probe = tempfile.mkdtemp(prefix="hide")
    try:
        res = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "mount", "-t", "tmpfs", "tmpfs", probe],
            capture_output=True,
            timeout=30,
        )
        return res.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(probe, ignore_errors=True)


class LocalRayCluster:
    """Ray nodes on this machine, each a ``ray start --block`` process stopped by its own pid.

    ``env`` is what a driver needs to join (the token settings and ``extra_env``); :meth:`start_head`
    and :meth:`add_node` start nodes, :meth:`kill_node` kills one node's whole process tree at once
    (a crashed machine), :meth:`shutdown` stops the rest. ``ray stop`` is never used: it would stop
    every Ray on the machine.
    """

    def __init__(self, extra_env: Mapping[str, str] | None = None, log_dir: str | os.PathLike[str] = ".") -> None:
        self.log_dir = Path(log_dir)
        # Ray's socket paths must stay short: its own temp dir directly under /tmp.
        self.temp_dir = tempfile.mkdtemp(prefix="rt", dir="/tmp")
        token_file = Path(self.temp_dir) / "auth_token"
        token_file.write_text(secrets.token_hex(32))
        token_file.chmod(0o600)
        self.env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN_PATH": str(token_file),
            **(extra_env or {}),
        }
        self.env.pop("RAY_AUTH_TOKEN", None)  # would take precedence over the file
        self.env.pop("RAY_ADDRESS", None)
        self.address = ""
        self.nodes: list[subprocess.Popen[bytes]] = []

    def start_head(self, num_cpus: int, node_env: Mapping[str, str] | None = None) -> str:
        """Start the head node; returns its ``HOST:PORT`` address."""
        port = _free_port()
        args = [
            "--head",
            f"--port={port}",
            "--include-dashboard=false",
            f"--temp-dir={self.temp_dir}",
            # Ray's fixed defaults (10001, 8265) would clash with any other cluster on this machine.
            f"--dashboard-port={_free_port()}",
        ]
        if _has_ray_client():  # the minimal `ray` starts no client server and refuses the option
            args.append(f"--ray-client-server-port={_free_port()}")
        self._start(args, num_cpus, node_env)
        self.address = f"127.0.0.1:{port}"
        return self.address

    def add_node(
        self, num_cpus: int, node_env: Mapping[str, str] | None = None, hidden: Sequence[str | os.PathLike[str]] = ()
    ) -> subprocess.Popen[bytes]:
        """Start a worker node; each folder in ``hidden`` looks empty to its processes (a private mount)."""
        return self._start([f"--address={self.address}"], num_cpus, node_env, hidden)

    def kill_node(self, node: subprocess.Popen[bytes]) -> None:
        """SIGKILL a node and every process under it (raylet, object store, workers) at once."""
        import psutil

        try:
            tree = [psutil.Process(node.pid), *psutil.Process(node.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        for proc in tree:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        node.wait(timeout=30)

    def shutdown(self) -> None:
        """Stop every node still running (workers first), then remove the temp dir."""
        for node in reversed(self.nodes):
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
        for node in reversed(self.nodes):
            try:
                node.wait(timeout=40)
            except subprocess.TimeoutExpired:
                node.kill()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def _start(
        self,
        args: list[str],
        num_cpus: int,
        node_env: Mapping[str, str] | None,
        hidden: Sequence[str | os.PathLike[str]] = (),
    ) -> subprocess.Popen[bytes]:
        cmd = [RAY_CLI, "start", *args, f"--num-cpus={num_cpus}", "--object-store-memory=100000000"]
        # Each node's agent needs its own port (the default, 52365, is one per machine).
        cmd += [f"--dashboard-agent-listen-port={_free_port()}", "--block"]
        if hidden:
            mounts = " && ".join(f"mount -t tmpfs tmpfs {subprocess.list2cmdline([str(h)])}" for h in hidden)
            # unshare execs the shell, which execs ray: the Popen pid is the node's `ray start` process.
            cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'{mounts} && exec "$@"', "sh", *cmd]
        log = self.log_dir / f"node{len(self.nodes)}.log"  # kept by pytest for a post-mortem
        with open(log, "wb") as fh:
            node = subprocess.Popen(cmd, env={**self.env, **(node_env or {})}, stdout=fh, stderr=subprocess.STDOUT)
        self.nodes.append(node)
        # `ray start` says so once its node has registered with the cluster's control store (GCS).
        self._wait(lambda: "Ray runtime started." in log.read_text(errors="replace"), f"the node of {log}")
        return node

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if ready():
                return
            if any(n.poll() is not None for n in self.nodes):
                pytest.fail(f"a Ray node exited while waiting for {what}; see the logs in {self.log_dir}")
            time.sleep(0.25)
        pytest.fail(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def ray_cluster_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[LocalRayCluster]]:
    """``LocalRayCluster`` constructor; every cluster made through it is shut down when the module ends."""
    made: list[LocalRayCluster] = []

    class _Tracked(LocalRayCluster):
        def __init__(self, extra_env: Mapping[str, str] | None = None) -> None:
            super().__init__(extra_env, log_dir=tmp_path_factory.mktemp("ray-nodes"))
            made.append(self)

    try:
        yield _Tracked
    finally:
        for cluster in made:
            cluster.shutdown()


@pytest.fixture(scope="session")
def can_hide_folders() -> bool:
    """True if a node can be started with folders hidden from it (see :meth:`LocalRayCluster.add_node`)."""
    return _hiding_supported()


# A pure-numpy benchmark and an optimiser in an importable module: subprocesses and Ray workers load them by
# "module:name", exactly as a user's own benchmark factory or optimiser.
TOY = textwrap.dedent(
    """
    import time
    import numpy as np
    from smm_plugins.space import dfs_space, ps_space
    from smm_plugins.testing import SyntheticBenchmark

    def ps():
        return SyntheticBenchmark(ps_space("toy-ps", n_layers=6))

    def dfs():
        return SyntheticBenchmark(dfs_space("toy-dfs", n_layers=4))

    def slow_random(benchmark, seed, budget, *, objective="train_acc", delay=0.0):
        rng = np.random.default_rng(seed)
        for _ in range(budget):
            time.sleep(delay)
            benchmark.evaluate(benchmark.space.sample(1, rng)[0], objective)
    """
)


@pytest.fixture()
def toy_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on ``sys.path`` with the module ``cmp_toy``: benchmarks ``ps``, ``dfs``, optimiser ``slow_random``."""
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "cmp_toy.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(mod_dir))
    return mod_dir


@pytest.fixture()
def toy_env(toy_modules: Path) -> dict[str, str]:
    """Environment of a subprocess that imports ``cmp_toy`` (one thread per process)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(toy_modules), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env
