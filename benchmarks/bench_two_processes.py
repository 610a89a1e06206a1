"""Two `smm-bench compare` processes started at once on one output folder: how many runs execute?

Each run of the grid (smm-mini-ps x 1 optimiser x 8 seeds, serial) sleeps a little per evaluation and
appends one line to a log when it starts, so the log counts executions. Without run claims each process
executes every run (16 executions for 8 runs); with claims every run executes once and the two processes
share the work. Prints the counts and the wall time of the pair.

    python benchmarks/bench_two_processes.py [--runs 8] [--delay 0.02]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OPTIMIZER = "smm_plugins.testing:logged_random_search"  # appends "<pid> <seed>" to its log as a run starts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--delay", type=float, default=0.02, help="seconds per evaluation (20 evaluations per run)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="two-procs-"))
    log = work / "exec.log"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        "-m",
        "smm_plugins.compare.cli",
        "compare",
        *("--benchmarks", "smm-mini-ps", "--optimizers", OPTIMIZER, "--seeds", str(args.runs), "--budget", "20"),
        *("--option", f"{OPTIMIZER}.delay={args.delay}", "--option", f"{OPTIMIZER}.log={json.dumps(str(log))}"),
        *("--workers", "1", "--no-progress", "--out", str(work / "out")),
    ]
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    wall = time.perf_counter() - t0
    lines = log.read_text().split()
    pids = collections.Counter(lines[0::2])
    files = len(list((work / "out" / "runs").glob("*.parquet")))
    print(f"runs in the grid: {args.runs}; run files written: {files}")
    print(f"executions: {sum(pids.values())} (per process: {sorted(pids.values(), reverse=True)})")
    print(f"exit codes: {[p.returncode for p in procs]}; wall time of the pair: {wall:.1f} s")
    for k, (_, err) in enumerate(outputs):
        print(f"process {k}: {err.strip().splitlines()[-1] if err.strip() else ''}")


if __name__ == "__main__":
    main()
