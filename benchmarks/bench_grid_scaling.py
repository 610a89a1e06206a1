"""The cost of a grid of short runs as it grows: serial, 2 local Ray workers, a two-node local Ray cluster.

For each size N (default 10, 100, 1,000 and 10,000 runs: one optimiser, 50 evaluations, the embedded
surrogates x N/2 seeds) the script runs ``smm-bench compare`` as a user does (a fresh process: imports,
Ray start-up and all) once per mode, then ``smm-bench report`` on the serial folder, and prints

* wall: seconds of the whole command;
* per run: wall / N;
* overhead per run: (wall x workers - the runs' own optimisation seconds, from their files) / N, i.e. the
  worker time not spent optimising (start-up, imports, model loads, writing files, Ray's round trips);
* the 1-minute load average before each command (other processes on the cores slow every mode down).

    OMP_NUM_THREADS=1 python benchmarks/bench_grid_scaling.py --sizes 10,100,1000 [--modes serial,ray2,cluster]

The two-node cluster is two ``ray start`` processes on this machine (``--head --num-cpus 1`` and
``--address HEAD:PORT --num-cpus 1``) joined with ``--ray-address``; they authenticate with a private
token file and are stopped by their own process ids (never ``ray stop``). 10,000 runs take ~18 min serially,
~9 min in each Ray mode and ~2 min of report on the machine of docs/compare.md (~50 minutes for all sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODES = ("serial", "ray2", "cluster")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client_port() -> list[str]:
    # The minimal `ray` starts no client server and refuses the option; its default port may be taken.
    from ray._private.utils import get_ray_client_dependency_error

    return [] if get_ray_client_dependency_error() else [f"--ray-client-server-port={_free_port()}"]


@contextmanager
def two_node_cluster(env: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    """A head and a worker node of 1 CPU each on this machine; yields the address and the driver's env."""
    temp = tempfile.mkdtemp(prefix="rg", dir="/tmp")  # Ray's socket paths must stay short
    token = Path(temp) / "auth_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    env = {**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    ray = str(Path(sys.executable).with_name("ray"))
    port = _free_port()
    common = ["--num-cpus=1", "--object-store-memory=200000000", "--block"]
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        for args in (
            ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}"]
            + [f"--dashboard-port={_free_port()}", *_client_port()],
            [f"--address=127.0.0.1:{port}"],
        ):
            log = Path(temp) / f"node{len(nodes)}.log"
            with open(log, "wb") as fh:
                cmd = [ray, "start", *args, *common, f"--dashboard-agent-listen-port={_free_port()}"]
                nodes.append(subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT))
            deadline = time.time() + 120
            while "Ray runtime started." not in log.read_text(errors="replace"):
                if nodes[-1].poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"a Ray node did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.25)
        yield f"127.0.0.1:{port}", env
    finally:
        for node in reversed(nodes):
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
        for node in reversed(nodes):
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                node.kill()
        shutil.rmtree(temp, ignore_errors=True)


def _optimise_seconds(out: Path) -> float:
    from smm_plugins.compare.results import read_run_meta

    return sum(float(read_run_meta(f).get("optimize_seconds", 0.0)) for f in (out / "runs").glob("*.parquet"))


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, load average before) of one command, which must succeed."""
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    return wall, load


def measure(size: int, mode: str, args: argparse.Namespace, root: Path, env: dict[str, str], address: str) -> dict:
    """Run the grid of ``size`` runs in ``mode`` into a fresh folder; the numbers of one table row."""
    out = root / f"{mode}-{size}"
    cli = [sys.executable, "-m", "smm_plugins.compare.cli"]
    grid = ["--benchmarks", args.benchmarks, "--optimizers", args.optimizer, "--seeds", str(size // 2)]
    cmd = [*cli, "compare", *grid, "--budget", str(args.budget), "--no-progress", "--out", str(out)]
    workers = {"serial": 1, "ray2": 2, "cluster": 2}[mode]
    cmd += ["--ray-address", address] if mode == "cluster" else ["--workers", str(workers)]
    wall, load = _timed(cmd, env)
    runs = len(list((out / "runs").glob("*.parquet")))
    if runs != size:
        raise RuntimeError(f"{out}: {runs} run files, expected {size}")
    row = {"size": size, "mode": mode, "wall": wall, "load": load, "per_run_ms": 1000 * wall / size}
    row["overhead_ms"] = 1000 * (wall * workers - _optimise_seconds(out)) / size
    if mode == "serial" and not args.no_report:
        row["report_wall"], row["report_load"] = _timed([*cli, "report", str(out), *args.report_args.split()], env)
    return row


def _print_row(r: dict) -> None:
    report = f"{r['report_wall']:.1f}" if "report_wall" in r else ""
    print(
        f"| {r['size']:,} | {r['mode']} | {r['wall']:.1f} | {r['per_run_ms']:.1f} | {r['overhead_ms']:.1f} "
        f"| {report} | {r['load']:.2f} |",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100,1000,10000", help="comma-separated grid sizes (even numbers)")
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    ap.add_argument("--benchmarks", default="smm-mini-ps,smm-mini-dfs")
    ap.add_argument("--optimizer", default="random")
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--report-args", default="", help="extra arguments of smm-bench report")
    ap.add_argument("--no-report", action="store_true", help="do not time smm-bench report")
    ap.add_argument("--keep", metavar="DIR", help="write the folders here and keep them (default: a temp dir)")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = args.modes.split(",")
    bad = [m for m in modes if m not in MODES] + [str(s) for s in sizes if s < 2 or s % 2]
    if bad:
        ap.error(f"--modes/--sizes: {', '.join(bad)} not allowed; modes: {', '.join(MODES)}; sizes: even, >= 2")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    root = Path(args.keep or tempfile.mkdtemp(prefix="bench-grid-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"{args.optimizer}, {args.budget} evaluations, {args.benchmarks}; {os.cpu_count()} CPUs; folders in {root}")
    rows: list[dict] = []
    try:
        with two_node_cluster(env) if "cluster" in modes else _no_cluster(env) as (address, cluster_env):
            print("| runs | mode | wall, s | per run, ms | overhead per run, ms | report, s | load (1 min) |")
            print("|---:|---|---:|---:|---:|---:|---:|", flush=True)
            for size in sizes:
                for mode in modes:
                    rows.append(measure(size, mode, args, root, cluster_env if mode == "cluster" else env, address))
                    _print_row(rows[-1])
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


@contextmanager
def _no_cluster(env: dict[str, str]) -> Iterator[tuple[str, dict[str, str]]]:
    yield "", env


if __name__ == "__main__":
    sys.exit(main())
