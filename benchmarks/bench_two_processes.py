"""Two `smm-bench compare` processes started at once on one output folder: how many runs execute?

Each run of the grid (1 benchmark x 1 optimiser x 8 seeds, serial) sleeps a little per evaluation and
appends one line to a log when it starts, so the log counts executions. Without run claims each process
executes every run (16 executions for 8 runs); with claims every run executes once and the two processes
share the work. Prints the counts and the wall time of the pair.

    python benchmarks/bench_two_processes.py [--runs 8] [--delay 0.02]
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TOY = textwrap.dedent(
    """
    import os
    import time
    import numpy as np
    from smm_plugins.benchmark import Benchmark
    from smm_plugins.space import ps_space
    from smm_plugins.testing import synthetic_accuracy

    class Toy(Benchmark):
        def __init__(self):
            self.space = ps_space("toy-ps", n_layers=4)
            self.name = self.space.name
        def _predict(self, X, objective):
            return synthetic_accuracy(self.space, X, objective)

    def ps():
        return Toy()

    def logged_random(benchmark, seed, budget, *, objective="train_acc", delay=0.0):
        with open(os.environ["EXEC_LOG"], "a") as fh:
            fh.write(f"{os.getpid()} {seed}\\n")
        rng = np.random.default_rng(seed)
        for _ in range(budget):
            time.sleep(delay)
            benchmark.evaluate(benchmark.space.sample(1, rng)[0], objective)
    """
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--delay", type=float, default=0.02, help="seconds per evaluation (20 evaluations per run)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="two-procs-"))
    (work / "two_procs_toy.py").write_text(TOY)
    env = dict(os.environ, EXEC_LOG=str(work / "exec.log"), OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(work), env.get("PYTHONPATH", "")) if p)
    cmd = [
        sys.executable,
        "-m",
        "smm_plugins.compare.cli",
        "compare",
        "--benchmarks",
        "two_procs_toy:ps",
        "--optimizers",
        "two_procs_toy:logged_random",
        "--seeds",
        str(args.runs),
        "--budget",
        "20",
        "--workers",
        "1",
        "--option",
        f"two_procs_toy:logged_random.delay={args.delay}",
        "--no-progress",
        "--out",
        str(work / "out"),
    ]
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    wall = time.perf_counter() - t0
    lines = (work / "exec.log").read_text().split()
    pids = collections.Counter(lines[0::2])
    files = len(list((work / "out" / "runs").glob("*.parquet")))
    print(f"runs in the grid: {args.runs}; run files written: {files}")
    print(f"executions: {sum(pids.values())} (per process: {sorted(pids.values(), reverse=True)})")
    print(f"exit codes: {[p.returncode for p in procs]}; wall time of the pair: {wall:.1f} s")
    for k, (_, err) in enumerate(outputs):
        print(f"process {k}: {err.strip().splitlines()[-1] if err.strip() else ''}")


if __name__ == "__main__":
    main()
