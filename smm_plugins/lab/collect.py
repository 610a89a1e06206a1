"""Data collection on the lab's exact objectives, as the paper collected its surrogate training data.

Three strategies, each row one evaluated configuration (both objectives):

* ``random``: uniform random configurations (categoricals uniform over {0, 1, 2});
* ``cmaes``: CMA-ES runs maximising ``train_acc`` (package ``cmaes``; a whole generation is one batch).
  PS: ``cmaes.CMA`` with bounds [0, 1]. DFS: ``cmaes.CatCMA`` (a Gaussian over the 63 scales with bounds
  [0.4, 1.5] jointly with a categorical distribution over each of the 32 layer choices), so no rounding;
* ``tpe``: Optuna TPE runs maximising ``train_acc`` (ask/tell; a few trials asked per batch).

Every optimiser sees ``train_acc`` only; ``test_acc`` is recorded for the same configuration.

Output: a folder of Parquet part files, one per finished unit (a chunk of random rows or one whole
optimiser run), written atomically; a rerun skips the finished parts, so the collection is resumable
(a unit interrupted half-way is redone from its start, deterministically). ``plan.json`` records the
plan; resuming with a different plan is refused. Columns: the space's parameter names (layer choices as
int64, weights/scales as float64), ``train_acc``, ``test_acc``, ``strategy``, ``run_id``, ``step``
(index of the row within its unit) and ``eval_seconds`` (wall seconds of the row's evaluation: batch
time / batch size).
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from smm_plugins._deps import require
from smm_plugins._io import atomic_write_bytes, atomic_write_text
from smm_plugins._optuna import optuna_distributions

__all__ = [
    "CollectPlan",
    "PRESETS",
    "Unit",
    "collect",
    "read_collection",
    "lab_table",
    "run_cmaes",
    "reference_configs",
    "format_table",
]

logger = logging.getLogger(__name__)

_PLAN_FILE = "plan.json"
#: Strategy -> the optional module it runs on (both come with the ``optuna`` extra).
_STRATEGY_MODULES = {"cmaes": "cmaes", "tpe": "optuna"}


@dataclass(frozen=True)
class Unit:
    """One resumable piece of work: a chunk of random rows or one optimiser run."""

    strategy: str
    index: int
    n_rows: int
    seed: int

    @property
    def run_id(self) -> str:
        return f"{self.strategy}-{self.index:03d}"

    @property
    def filename(self) -> str:
        return f"part-{self.run_id}.parquet"


@dataclass(frozen=True)
class CollectPlan:
    """What to collect for one benchmark kind (``"ps"`` or ``"dfs"``); row counts per strategy.

    ``n_random`` rows in chunks of ``random_chunk``; ``cma_runs`` CMA-ES runs of ``cma_evals`` rows;
    ``tpe_runs`` TPE runs of ``tpe_trials`` rows; seeds derived from ``seed``.
    """

    kind: str
    n_random: int
    cma_runs: int
    cma_evals: int
    tpe_runs: int
    tpe_trials: int
    random_chunk: int = 2000
    seed: int = 0
    #: Initial CMA-ES step size, as a fraction of each continuous range.
    cma_sigma: float = 0.3
    #: TPE trials asked (and evaluated) per batch; Optuna's TPE itself dominates the cost.
    tpe_batch: int = 4

    def __post_init__(self) -> None:
        if self.kind not in ("ps", "dfs"):
            raise ValueError(f"kind = {self.kind!r}; allowed: 'ps' or 'dfs'")
        for name in ("n_random", "cma_runs", "cma_evals", "tpe_runs", "tpe_trials"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} = {v!r}; allowed: an integer >= 0")
        if self.random_chunk < 1 or self.tpe_batch < 1:
            raise ValueError("random_chunk and tpe_batch must be >= 1")

    def units(self) -> list[Unit]:
        """The plan's units in execution order (random chunks, CMA-ES runs, TPE runs)."""
        out = []
        n_chunks = -(-self.n_random // self.random_chunk)
        for i in range(n_chunks):
            n = min(self.random_chunk, self.n_random - i * self.random_chunk)
            out.append(Unit("random", i, n, self.seed * 1_000_003 + 10_000 + i))
        out += [
            Unit("cmaes", i, self.cma_evals, self.seed * 1_000_003 + 20_000 + i)
            for i in range(self.cma_runs)
            if self.cma_evals
        ]
        out += [
            Unit("tpe", i, self.tpe_trials, self.seed * 1_000_003 + 30_000 + i)
            for i in range(self.tpe_runs)
            if self.tpe_trials
        ]
        return out

    @property
    def total_rows(self) -> int:
        return sum(u.n_rows for u in self.units())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Full-size plans (the committed collection). Row mix after the paper (random > CMA-ES > TPE); TPE
#: is budgeted lower because Optuna's sampler costs far more than one lab evaluation.
PRESETS: dict[str, CollectPlan] = {
    "ps": CollectPlan("ps", n_random=58_000, cma_runs=12, cma_evals=3_000, tpe_runs=6, tpe_trials=1_200),
    "dfs": CollectPlan("dfs", n_random=23_000, cma_runs=5, cma_evals=3_000, tpe_runs=3, tpe_trials=1_000),
    "tiny-ps": CollectPlan("ps", n_random=40, random_chunk=16, cma_runs=2, cma_evals=24, tpe_runs=1, tpe_trials=12),
    "tiny-dfs": CollectPlan("dfs", n_random=40, random_chunk=16, cma_runs=1, cma_evals=24, tpe_runs=1, tpe_trials=12),
}


# -- evaluation helpers ---------------------------------------------------------------------------


def _benchmark(kind: str, weights: str | os.PathLike[str] | None = None) -> Any:
    from smm_plugins.lab.objectives import dfs_true_benchmark, ps_true_benchmark

    return ps_true_benchmark(weights) if kind == "ps" else dfs_true_benchmark(weights)


def _evaluate(bench: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t0 = time.perf_counter()
    acc = bench.evaluate_all(X)
    per_row = (time.perf_counter() - t0) / X.shape[0]
    return acc["train_acc"], acc["test_acc"], np.full(X.shape[0], per_row)


def _cont_mask(bench: Any) -> np.ndarray:
    return ~bench.space.is_categorical


# -- strategies: each yields batches (X, train, test, secs) until n rows ---------------------------

Batch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _strategy_module(strategy: str) -> ModuleType:
    # One-line ImportError naming the extra (``pip install "smm-plugins[optuna]"``) if it is missing.
    return require(_STRATEGY_MODULES[strategy], "optuna", who=f"smm-bench lab collect ({strategy} rows)")


def _random_batches(bench: Any, unit: Unit, plan: CollectPlan) -> Iterator[Batch]:
    X = bench.space.sample(unit.n_rows, np.random.default_rng(unit.seed))
    for s in range(0, unit.n_rows, 256):
        xb = X[s : s + 256]
        yield (xb, *_evaluate(bench, xb))


def _cma_optimizer(bench: Any, seed: int, sigma_frac: float, mean: np.ndarray | None = None) -> Any:
    cmaes = _strategy_module("cmaes")
    space = bench.space
    cont = _cont_mask(bench)
    lo, hi = space.lower[cont], space.upper[cont]
    rng = np.random.default_rng(seed)
    if mean is None:
        # Diverse runs: each starts from its own random point in the middle 60% of the box.
        mean = lo + (hi - lo) * rng.uniform(0.2, 0.8, size=lo.shape)
    # Optimise in the unit cube so one sigma fits every range.
    bounds = np.tile([0.0, 1.0], (lo.size, 1))
    m01 = (mean - lo) / (hi - lo)
    if space.n_categorical:
        cat_num = np.array([len(p.choices) for p in space.parameters if p.kind == "categorical"])
        return cmaes.CatCMA(mean=m01, sigma=sigma_frac, cat_num=cat_num, bounds=bounds, seed=seed)
    return cmaes.CMA(mean=m01, sigma=sigma_frac, bounds=bounds, seed=seed)


def _cma_decode(bench: Any, sol: Any) -> np.ndarray:
    space = bench.space
    cont = _cont_mask(bench)
    lo, hi = space.lower[cont], space.upper[cont]
    row = np.empty(space.dim)
    if space.n_categorical:
        x01, onehot = sol
        # One-hot index -> the parameter's own choice value (not necessarily 0..k-1).
        cats = [p for p in space.parameters if p.kind == "categorical"]
        row[~cont] = [p.choices[int(k)] for p, k in zip(cats, np.argmax(onehot, axis=1), strict=True)]
    else:
        x01 = sol
    row[cont] = np.clip(lo + (hi - lo) * np.asarray(x01), lo, hi)
    return row


def _cma_batches(
    bench: Any, n_rows: int, seed: int, sigma_frac: float, mean: np.ndarray | None = None
) -> Iterator[Batch]:
    opt = _cma_optimizer(bench, seed, sigma_frac, mean)
    done, restarts = 0, 0
    while done < n_rows:
        sols = [opt.ask() for _ in range(opt.population_size)]
        X = np.stack([_cma_decode(bench, s) for s in sols])
        tr, te, secs = _evaluate(bench, X)
        # cmaes minimises: tell 1 - train_acc (the optimiser never sees test_acc).
        opt.tell([(s, float(1.0 - v)) for s, v in zip(sols, tr, strict=True)])
        take = min(len(X), n_rows - done)
        yield X[:take], tr[:take], te[:take], secs[:take]
        done += take
        if opt.should_stop() and done < n_rows:
            restarts += 1
            logger.info("CMA-ES converged after %d rows; restart %d", done, restarts)
            opt = _cma_optimizer(bench, seed + 7919 * restarts, sigma_frac)


def _tpe_batches(bench: Any, unit: Unit, plan: CollectPlan) -> Iterator[Batch]:
    optuna = _strategy_module("tpe")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = optuna_distributions(bench.space)
    sampler = optuna.samplers.TPESampler(seed=unit.seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    done = 0
    while done < unit.n_rows:
        k = min(plan.tpe_batch, unit.n_rows - done)
        trials = [study.ask(dists) for _ in range(k)]
        X = np.array([[float(t.params[n]) for n in bench.space.names] for t in trials])
        tr, te, secs = _evaluate(bench, X)
        for t, v in zip(trials, tr, strict=True):
            study.tell(t, float(v))
        yield X, tr, te, secs
        done += k


def _unit_batches(bench: Any, unit: Unit, plan: CollectPlan) -> Iterator[Batch]:
    if unit.strategy == "random":
        return _random_batches(bench, unit, plan)
    if unit.strategy == "cmaes":
        return _cma_batches(bench, unit.n_rows, unit.seed, plan.cma_sigma)
    if unit.strategy == "tpe":
        return _tpe_batches(bench, unit, plan)
    raise ValueError(f"unknown strategy {unit.strategy!r}")


# -- the collection ---------------------------------------------------------------------------------


def _frame(bench: Any, unit: Unit, batches: list[Batch]) -> Any:
    import pandas as pd

    X = np.concatenate([b[0] for b in batches])
    cols: dict[str, Any] = {}
    for i, p in enumerate(bench.space.parameters):
        cols[p.name] = X[:, i].astype(np.int64) if p.kind == "categorical" else X[:, i].astype(np.float64)
    n = X.shape[0]
    cols["train_acc"] = np.concatenate([b[1] for b in batches])
    cols["test_acc"] = np.concatenate([b[2] for b in batches])
    cols["strategy"] = [unit.strategy] * n
    cols["run_id"] = [unit.run_id] * n
    cols["step"] = np.arange(n, dtype=np.int64)
    cols["eval_seconds"] = np.concatenate([b[3] for b in batches])
    return pd.DataFrame(cols)


def _write_parquet(df: Any, path: Path) -> None:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())


def collect(
    plan: CollectPlan,
    out_dir: str | os.PathLike[str],
    *,
    weights: str | os.PathLike[str] | None = None,
    progress: bool = True,
    on_unit: Callable[[Unit], None] | None = None,
) -> int:
    """Run (or resume) ``plan`` into ``out_dir``; returns the number of rows now on disk.

    Finished units (their part file exists) are skipped. Raises ``ValueError`` if ``out_dir`` holds a
    different plan. ``on_unit`` is called after each unit is written (tests use it to interrupt).
    """
    from tqdm.auto import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan_path = out / _PLAN_FILE
    want = json.dumps(plan.to_dict(), sort_keys=True, indent=1)
    if plan_path.exists():
        have = plan_path.read_text(encoding="utf-8")
        if json.loads(have) != json.loads(want):
            raise ValueError(
                f"{str(out)!r} holds a collection with a different plan ({plan_path.name}); "
                "use another folder or the same options to resume"
            )
    else:
        atomic_write_text(plan_path, want)

    bench = _benchmark(plan.kind, weights)
    units = plan.units()
    todo = [u for u in units if not (out / u.filename).exists()]
    for strategy in sorted({u.strategy for u in todo} & set(_STRATEGY_MODULES)):
        _strategy_module(strategy)  # a missing optimiser fails before any row is collected, not hours later
    done_rows = sum(u.n_rows for u in units if u not in todo)
    if done_rows:
        logger.info("resuming %s: %d of %d rows already on disk", out, done_rows, plan.total_rows)
    with tqdm(
        total=plan.total_rows,
        initial=done_rows,
        unit="row",
        desc=f"collect {plan.kind}",
        disable=not progress,
        smoothing=0.05,
    ) as bar:
        for unit in todo:
            bar.set_postfix(unit=unit.run_id)
            batches = []
            for b in _unit_batches(bench, unit, plan):
                batches.append(b)
                bar.update(len(b[0]))
            _write_parquet(_frame(bench, unit, batches), out / unit.filename)
            done_rows += unit.n_rows
            if on_unit is not None:
                on_unit(unit)
    return done_rows


def read_collection(out_dir: str | os.PathLike[str]) -> Any:
    """All finished part files of a collection as one DataFrame (parts in sorted name order)."""
    import pandas as pd

    parts = sorted(Path(out_dir).glob("part-*.parquet"))
    if not parts:
        raise FileNotFoundError(f"no part-*.parquet files under {os.fspath(out_dir)!r}")
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


# -- the table of the docs ---------------------------------------------------------------------------


def run_cmaes(bench: Any, n_evals: int = 1000, seed: int = 0, sigma: float = 0.3) -> tuple[np.ndarray, float, float]:
    """One CMA-ES run of ``n_evals`` evaluations from the centre of the space maximising ``train_acc``.

    Returns the best configuration by ``train_acc`` with its ``train_acc`` and ``test_acc``.
    """
    space = bench.space
    cont = _cont_mask(bench)
    centre = 0.5 * (space.lower[cont] + space.upper[cont])
    best: tuple[np.ndarray, float, float] | None = None
    for X, tr, te, _ in _cma_batches(bench, n_evals, seed, sigma, mean=centre):
        i = int(np.argmax(tr))
        if best is None or tr[i] > best[1]:
            best = (X[i].copy(), float(tr[i]), float(te[i]))
    assert best is not None
    return best


def lab_table(
    kind: str,
    *,
    n_random: int = 2000,
    cma_evals: int = 1000,
    seed: int = 0,
    weights: str | os.PathLike[str] | None = None,
    task: str = "math-far-32",
) -> list[dict[str, Any]]:
    """Reference points of a lab benchmark: rows ``{"what", "train_acc", "test_acc"}`` (accuracies in [0, 1]).

    PS: base (all 0), each source alone (its weights 1), uniform (all 0.5), all ones. DFS: path of A's
    blocks, of B's blocks, of both at every layer; all scales 1. Both: quantiles of ``n_random`` random
    configurations and the best of one seeded CMA-ES run of ``cma_evals`` evaluations. ``task``: an
    SMM-Mini task (:mod:`smm_plugins.lab.suite`; default the committed pair).
    """
    from smm_plugins.lab.suite import task_benchmark

    bench = task_benchmark(task, kind, weights=weights)
    refs = reference_configs(bench, kind)
    rows = []
    X = np.stack(list(refs.values()))
    acc = bench.evaluate_all(X)
    for i, what in enumerate(refs):
        rows.append({"what": what, "train_acc": float(acc["train_acc"][i]), "test_acc": float(acc["test_acc"][i])})
    R = bench.space.sample(n_random, np.random.default_rng(seed + 12345))
    racc = bench.evaluate_all(R)
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        rows.append(
            {
                "what": f"random configurations, {int(q * 100)}% quantile",
                "train_acc": float(np.quantile(racc["train_acc"], q)),
                "test_acc": float(np.quantile(racc["test_acc"], q)),
            }
        )
    rows.append(
        {
            "what": f"random configurations, best of {n_random} (by train_acc)",
            "train_acc": float(racc["train_acc"].max()),
            "test_acc": float(racc["test_acc"][int(np.argmax(racc["train_acc"]))]),
        }
    )
    _, tr, te = run_cmaes(bench, cma_evals, seed)
    rows.append(
        {"what": f"CMA-ES best of {cma_evals} evaluations (seed {seed}, by train_acc)", "train_acc": tr, "test_acc": te}
    )
    return rows


def reference_configs(bench: Any, kind: str) -> dict[str, np.ndarray]:
    """Named simple configurations of a lab benchmark: each source alone, base, uniform, all ones (PS) or
    the paths of A, of B and of both with scales 1 (DFS)."""
    L = bench.lab.n_blocks
    if kind == "ps":
        n = len(bench.lab.sources)
        letters = "ABCDEFGH"[:n]

        def ps(*w: float) -> np.ndarray:
            return np.repeat(np.asarray(w, dtype=np.float64), L)

        refs = {"base (all weights 0)": ps(*[0.0] * n)}
        for i, m in enumerate(letters):
            onehot = [1.0 if j == i else 0.0 for j in range(n)]
            if n == 2:
                what = "w_A = 1, w_B = 0" if i == 0 else "w_A = 0, w_B = 1"
            else:
                what = f"w_{m} = 1, others 0"
            refs[f"{m} alone ({what})"] = ps(*onehot)
        refs["uniform merge (all 0.5)"] = ps(*[0.5] * n)
        refs["all weights 1"] = ps(*[1.0] * n)
        return refs

    def dfs(code: int) -> np.ndarray:
        return np.r_[np.full(L, code), np.ones(2 * L - 1)]

    return {
        f"A alone (path of A's {L} blocks)": dfs(0),
        f"B alone (path of B's {L} blocks)": dfs(1),
        f"both at every layer ({2 * L} hops, scales 1)": dfs(2),
    }


def format_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of :func:`lab_table` rows (accuracies in percent)."""
    lines = ["| configuration | train_acc (%) | test_acc (%) |", "|---|---:|---:|"]
    lines += [f"| {r['what']} | {100 * r['train_acc']:.1f} | {100 * r['test_acc']:.1f} |" for r in rows]
    return "\n".join(lines)
