"""Benchmark the compiled inference engine against LightGBM on an official-size CV booster.

Builds (once, cached under ``benchmarks/.cache/``) a CV booster of the official SMM-Bench-PS size:
5 folds x 2,000 trees x 63 leaves over 64 features, trained with ``lgb.cv`` on synthetic data. Then
measures, in the same process, LightGBM and :class:`smm_plugins.engine.TreeEnsemble` side by side.

Prints one table: single-configuration latency (reference ``mean(CVBooster.predict(x))`` vs the
engine; once alternating blocks of 25 calls, which lets each side flush the other's caches, once in
runs of 200 calls), batch-of-10,000 time per configuration at one thread (LightGBM
``Booster.predict(X, num_threads=1)`` averaged over folds vs the engine), load times, the largest
difference from the reference on 10,000 rows with out-of-range values and NaN, and memory.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_inference.py            # full size (first run trains ~minutes)
    OMP_NUM_THREADS=1 python benchmarks/bench_inference.py --quick    # small model, smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"
N_FEATURES = 64


def _synthetic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rows in [0, 1]^64 and an accuracy-like target where every feature matters about equally.

    Spreading the signal over all 64 features (like the layer-wise merge weights) grows balanced,
    deep trees, as in the official surrogates; a target dominated by one or two features would
    grow lopsided trees whose typical path is only ~3 splits long (unrealistically cheap).
    """
    X = rng.random((n, N_FEATURES))
    j = np.arange(N_FEATURES)
    main = np.sin(3.0 * X + j * 0.9) @ (1.0 + 0.5 * np.cos(j)) / N_FEATURES
    inter = np.mean(X[:, :32] * X[:, 32:], axis=1) - 0.25
    y = 0.4 + 0.5 * main + 0.8 * inter + rng.normal(0.0, 0.01, n)
    return X, y


def _synthetic_dfs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """DFS-shaped rows (32 layer choices in {0, 1, 2}, then 63 scales in [0.4, 1.5]) and a target."""
    C = rng.integers(0, 3, size=(n, 32)).astype(np.float64)
    S = rng.uniform(0.4, 1.5, size=(n, 63))
    j = np.arange(63)
    main = np.sin(2.0 * S + j * 0.9) @ (1.0 + 0.5 * np.cos(j)) / 63
    cat = np.mean(np.where(C == 2, 0.6, np.where(C == 1, -0.2, 0.1)) * np.cos(np.arange(32)), axis=1)
    y = 0.06 + 0.05 * main + 0.1 * cat + 0.05 * np.mean(C[:, :16] * S[:, :16], axis=1) + rng.normal(0, 0.005, n)
    return np.hstack([C, S]), y


def _rows(n: int, rng: np.random.Generator, dfs: bool, wild: bool) -> np.ndarray:
    """Evaluation rows: in range (``wild=False``) or with out-of-range values and NaN."""
    if not dfs:
        X = rng.uniform(-0.5, 1.5, size=(n, N_FEATURES)) if wild else rng.random((n, N_FEATURES))
    else:
        C = rng.integers(0, 3, size=(n, 32)).astype(np.float64)
        S = rng.uniform(0.4, 1.5, size=(n, 63))
        if wild:
            C = rng.choice(np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 7.0, 0.5]), size=(n, 32))
            S = rng.uniform(0.0, 2.0, size=(n, 63))
        X = np.hstack([C, S])
    if wild:
        X[rng.random(X.shape) < 0.02] = np.nan
    return X


def build_model(quick: bool, dfs: bool = False) -> Path:
    """Train (or reuse) the benchmark CV booster; returns the path of its JSON file."""
    import lightgbm as lgb

    n_trees, n_rows = (200, 5000) if quick else (2000, 30000)
    nf = 95 if dfs else N_FEATURES
    path = CACHE / f"cv_booster_{n_trees}x63_{nf}f_{n_rows}{'_dfs' if dfs else ''}.json"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    X, y = (_synthetic_dfs if dfs else _synthetic)(n_rows, np.random.default_rng(0))
    params = {
        "objective": "regression",
        "num_leaves": 63,
        "learning_rate": 0.05,
        "min_data_in_leaf": 20,
        "verbose": -1,
        "num_threads": 1,
        "seed": 0,
        "deterministic": True,
    }
    t0 = time.perf_counter()
    ds = lgb.Dataset(X, y, categorical_feature=list(range(32)) if dfs else "auto")
    res = lgb.cv(params, ds, num_boost_round=n_trees, nfold=5, stratified=False, seed=0, return_cvbooster=True)
    tmp = path.with_suffix(".tmp")
    res["cvbooster"].save_model(str(tmp))
    tmp.replace(path)
    print(f"trained benchmark model in {time.perf_counter() - t0:.0f} s -> {path}", file=sys.stderr)
    return path


def _median_interleaved(fns: dict[str, object], n_blocks: int, per_block: int) -> dict[str, float]:
    """Median seconds per call of each function, alternating blocks of calls (fair under load)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(n_blocks):
        for k, fn in fns.items():
            for _ in range(per_block):
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
    return {k: float(np.median(v)) for k, v in times.items()}


def _cold_start(path: Path, cache_dir: str | None) -> tuple[float, float]:
    """(build s, first predict s) in a fresh interpreter; ``cache_dir`` set = empty numba cache."""
    import subprocess

    code = (
        "import json,time,numpy as np;t=time.perf_counter();"
        "from smm_plugins.engine import TreeEnsemble;"
        f"e=TreeEnsemble.from_model_strings(json.load(open({str(path)!r}))['boosters']);b=time.perf_counter()-t;"
        "x=np.full((1,e.n_features),0.5);t=time.perf_counter();e.predict(x);e.predict(np.vstack([x,x]));"
        "print(b,time.perf_counter()-t)"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    b, p = out.stdout.split()
    return float(b), float(p)


def main(quick: bool, dfs: bool = False) -> None:
    import tempfile
    import tracemalloc

    import lightgbm as lgb

    from smm_plugins.engine import TreeEnsemble

    path = build_model(quick, dfs)
    rows: list[tuple[str, str, str, str]] = []

    # -- load
    t = time.perf_counter()
    cv = lgb.CVBooster(model_file=str(path))
    t_cv = time.perf_counter() - t
    t = time.perf_counter()
    with open(path) as fh:
        strings = json.load(fh)["boosters"]
    eng = TreeEnsemble.from_model_strings(strings)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    TreeEnsemble.from_model_strings(strings)
    t_ours2 = time.perf_counter() - t
    npz = path.with_suffix(".engine.npz")
    eng.save(npz)
    t = time.perf_counter()
    TreeEnsemble.load(npz)
    t_npz = time.perf_counter() - t
    tracemalloc.start()  # separately: tracing slows the build down a lot
    TreeEnsemble.from_model_strings(strings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with tempfile.TemporaryDirectory() as tmp:
        cold_b, cold_p = _cold_start(path, tmp)
    _cold_start(path, None)  # fills the default numba cache if the kernels changed
    warm_b, warm_p = _cold_start(path, None)
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared; ratios are measured side by side)")
    print(
        f"model: {path.name}: {eng.n_trees} trees, {eng.n_splits:,} splits, {eng.n_features} features, "
        f"node dtype {eng._a['nodes'].dtype}",
        flush=True,
    )

    # -- exactness on 10,000 rows incl. out-of-range values and NaN
    rng = np.random.default_rng(123)
    X = _rows(10_000, rng, dfs, wild=True)
    X[:100] = _rows(100, rng, dfs, wild=False)
    ref = np.mean(cv.predict(X), axis=0)
    ours = eng.predict(X)
    singles = np.array([eng.predict(X[i : i + 1])[0] for i in range(200)])
    maxdiff = max(float(np.max(np.abs(ours - ref))), float(np.max(np.abs(singles - ref[:200]))))
    n_exact = int(np.sum(ours == ref))

    # -- single configuration latency (in-range rows, as an optimiser sends them)
    Xs = _rows(64, rng, dfs, wild=False)
    it = {"i": 0}

    def ref_one() -> None:
        it["i"] = (it["i"] + 1) % 64
        np.mean(cv.predict(Xs[it["i"] : it["i"] + 1]), axis=0)

    def ours_one() -> None:
        it["i"] = (it["i"] + 1) % 64
        eng.predict(Xs[it["i"] : it["i"] + 1])

    # each side's caches are partly flushed by the other's blocks (pessimistic for the engine)
    lat = _median_interleaved({"ref": ref_one, "ours": ours_one}, n_blocks=8, per_block=25)
    rows.append(
        (
            "single config, alternating blocks of 25",
            f"{lat['ref'] * 1e3:.3f} ms",
            f"{lat['ours'] * 1e3:.3f} ms",
            f"{lat['ref'] / lat['ours']:.1f}x",
        )
    )
    warm = _median_interleaved({"ref": ref_one, "ours": ours_one}, n_blocks=2, per_block=200)
    rows.append(
        (
            "single config, runs of 200 calls",
            f"{warm['ref'] * 1e3:.3f} ms",
            f"{warm['ours'] * 1e3:.3f} ms",
            f"{warm['ref'] / warm['ours']:.1f}x",
        )
    )

    # -- batch of 10,000 at one thread
    Xb = _rows(10_000, rng, dfs, wild=False)
    bt = {"ref": [], "ours": []}
    for _ in range(3):
        t = time.perf_counter()
        np.mean([b.predict(Xb, num_threads=1) for b in cv.boosters], axis=0)
        bt["ref"].append(time.perf_counter() - t)
        t = time.perf_counter()
        eng.predict(Xb)
        bt["ours"].append(time.perf_counter() - t)
    b_ref = min(bt["ref"]) / len(Xb)
    b_ours = min(bt["ours"]) / len(Xb)
    rows.append(
        ("batch 10k, per config, 1 thread", f"{b_ref * 1e6:.1f} us", f"{b_ours * 1e6:.1f} us", f"{b_ref / b_ours:.1f}x")
    )
    rows.append(
        ("load: json + parse + build, in process", f"{t_cv:.2f} s", f"{t_ours:.2f} s (again: {t_ours2:.2f} s)", "")
    )
    rows.append(("load: engine cache (TreeEnsemble.load)", "", f"{t_npz:.3f} s", ""))
    rows.append(("fresh process: build + 1st predict", "", f"{warm_b:.2f} s + {warm_p:.2f} s (numba cache)", ""))
    rows.append(("  same, empty numba cache", "", f"{cold_b:.2f} s + {cold_p:.2f} s (compile)", ""))
    rows.append(("max |ours - ref|, 10k rows + 200 single", "", f"{maxdiff:.1e} ({n_exact}/10000 bit-equal)", ""))
    rows.append(
        ("memory: model arrays / peak during build", "", f"{eng.nbytes / 2**20:.1f} MiB / {peak / 2**20:.0f} MiB", "")
    )

    print(f"load average after: {os.getloadavg()[0]:.2f}")
    w = [max(len(r[i]) for r in rows + [("what", "LightGBM", "engine", "ratio")]) for i in range(4)]
    line = "  ".join(f"{{:<{x}}}" for x in w)
    print(line.format("what", "LightGBM", "engine", "ratio"))
    print(line.format(*("-" * x for x in w)))
    for r in rows:
        print(line.format(*r))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small model (200 trees per fold), smoke run")
    ap.add_argument("--dfs", action="store_true", help="DFS-shaped model: 32 categorical + 63 continuous inputs")
    ap.add_argument("--build-only", action="store_true", help="only train/cache the model")
    args = ap.parse_args()
    if args.build_only:
        print(build_model(args.quick, args.dfs))
    else:
        main(args.quick, args.dfs)
