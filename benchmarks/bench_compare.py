"""The comparison runner, serial vs Ray: trials/s, speed-up, and where the time goes.

Runs the same grid (default: the demo preset's, i.e. 5 optimisers on both embedded surrogates, 5 seeds
x 300 evaluations) once in this process without Ray and once on 2 local Ray workers, checks that both give
bit-identical values, and prints trials/s, the speed-up (goal >= 1.7x on 2 cores; with and without
Ray's start-up) and the share of run time spent in the surrogate vs in the optimiser.

    OMP_NUM_THREADS=1 python benchmarks/bench_compare.py [--seeds 5] [--budget 300] [--workers 2]

Without the embedded surrogates (``smm-mini-ps``/``smm-mini-dfs``) it uses tiny official-format
surrogates written to ``benchmarks/.cache/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def _benchmarks(names: list[str]) -> list[str]:
    """The requested benchmarks if they load, else tiny official-format surrogates (both spaces)."""
    from smm_plugins.registry import load_benchmark

    try:
        for n in names:
            load_benchmark(n)
        return names
    except Exception as exc:  # noqa: BLE001 - any missing file: fall back and say so
        print(f"note: {names} not loadable ({type(exc).__name__}: {exc}); using tiny surrogates", file=sys.stderr)
    from smm_plugins.space import dfs_space, ps_space
    from smm_plugins.testing import write_cv_booster_dir

    cache = Path(__file__).resolve().parent / ".cache"
    out = []
    for name, space, cat in (("tiny-ps", ps_space(), False), ("tiny-dfs", dfs_space(), True)):
        d = cache / name
        if not (d / "label.json").is_file():
            write_cv_booster_dir(d, space, categorical=cat, n_trees=200, num_leaves=31, n_folds=5)
        out.append(str(d))
    return out


def _shares(out: Path) -> dict[str, float]:
    from smm_plugins.compare.runner import read_run_meta

    tot = {"optimize_seconds": 0.0, "surrogate_seconds": 0.0, "optimizer_seconds": 0.0, "cpu_seconds": 0.0}
    for f in (out / "runs").glob("*.parquet"):
        meta = read_run_meta(f)
        for k in tot:
            tot[k] += float(meta.get(k, 0.0))
    return tot


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    from smm_plugins.compare.experiment import preset

    demo = preset("demo")
    ap.add_argument("--benchmarks", default=",".join(demo.benchmarks))
    ap.add_argument("--optimizers", default=",".join(demo.optimizers))
    ap.add_argument("--seeds", type=int, default=len(demo.seeds))
    ap.add_argument("--budget", type=int, default=demo.budget)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import pandas as pd
    import ray

    from smm_plugins.compare.experiment import Experiment
    from smm_plugins.compare.runner import read_runs, run_experiment

    exp = Experiment(
        benchmarks=_benchmarks(args.benchmarks.split(",")),
        optimizers=args.optimizers.split(","),
        seeds=args.seeds,
        budget=args.budget,
    )
    trials = exp.n_runs * exp.budget
    print(
        f"grid: {len(exp.benchmarks)} benchmarks x {len(exp.optimizers)} optimisers ({', '.join(exp.optimizers)}) "
        f"x {len(exp.seeds)} seeds x {exp.budget} evaluations = {exp.n_runs} runs, {trials} trials"
    )
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        t0 = time.perf_counter()
        run_experiment(exp, Path(tmp) / "serial", workers=1, progress=False)
        serial_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        ray.init(
            num_cpus=args.workers,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}},
        )
        startup_s = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            summary = run_experiment(exp, Path(tmp) / "ray", workers=args.workers, progress=False)
            ray_s = time.perf_counter() - t0
        finally:
            ray.shutdown()
        assert summary.backend == "ray" and summary.failed == 0, summary

        def values(d: str) -> pd.DataFrame:
            df = read_runs(Path(tmp) / d).drop(columns="wall_time")
            return df.sort_values(["benchmark", "optimizer", "seed", "trial"]).reset_index(drop=True)

        identical = values("serial").equals(values("ray"))
        shares = _shares(Path(tmp) / "serial")
        ray_shares = _shares(Path(tmp) / "ray")
    # Surrogate share of the optimisation loops: time inside the benchmark's evaluate vs everything else.
    sur = 1.0 - shares["optimizer_seconds"] / max(shares["optimize_seconds"], 1e-12)
    res = {
        "runs": exp.n_runs,
        "trials": trials,
        "serial_seconds": serial_s,
        "ray_startup_seconds": startup_s,
        "ray_seconds": ray_s,
        "serial_trials_per_s": trials / serial_s,
        "ray_trials_per_s": trials / ray_s,
        "speedup": serial_s / ray_s,
        "speedup_with_startup": serial_s / (ray_s + startup_s),
        "surrogate_share": sur,
        "optimizer_share": 1.0 - sur,
        "bit_identical": identical,
        # CPU seconds a run got per wall second: below 1, other processes took the CPU from it.
        "serial_cpu_per_wall": shares["cpu_seconds"] / max(shares["optimize_seconds"], 1e-12),
        "ray_cpu_per_wall": ray_shares["cpu_seconds"] / max(ray_shares["optimize_seconds"], 1e-12),
        "serial_cpu_seconds": shares["cpu_seconds"],
        "ray_cpu_seconds": ray_shares["cpu_seconds"],
        "workers": args.workers,
    }
    print(f"serial           : {serial_s:7.1f} s  {res['serial_trials_per_s']:8.0f} trials/s")
    print(
        f"ray x{args.workers}           : {ray_s:7.1f} s  {res['ray_trials_per_s']:8.0f} trials/s "
        f"(+{startup_s:.1f} s Ray start-up)"
    )
    print(
        f"speed-up         : {res['speedup']:.2f}x  ({res['speedup_with_startup']:.2f}x including start-up; "
        f"goal >= 1.7x)"
    )
    print(f"time in surrogate: {100 * sur:.1f} %   in the optimiser (and framework): {100 * (1 - sur):.1f} %")
    print(f"serial == ray    : {'bit-identical' if identical else 'DIFFERENT'}")
    print(
        f"CPU per wall sec : serial runs {res['serial_cpu_per_wall']:.2f}, Ray runs {res['ray_cpu_per_wall']:.2f} "
        f"(1.00 = a core to itself; CPU seconds of all runs: {res['serial_cpu_seconds']:.0f} serial, "
        f"{res['ray_cpu_seconds']:.0f} Ray)"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    res["load_average_1min_after"] = load
    print(f"load average     : {load:.2f} on {os.cpu_count()} CPUs (other processes slow both modes down)")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
