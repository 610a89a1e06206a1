"""Behavioural fidelity: do optimisers behave on a surrogate as they do on the true objective?

For each optimiser (random search, TPE and CMA-ES with margin: the optimisers ``random``, ``tpe`` and
``cmaes-margin`` of ``smm-bench compare``; ``es``: a (1+1)-ES with the 1/5th success rule) and each seed, one run of
``n_evals`` evaluations maximises ``train_acc`` on the true objective and, with the same seed, on the
surrogate. The report compares

* final best values (median / mean / IQR over seeds) on both, and the test accuracy of the returned
  configuration (the generalisation an SMM-Bench user reports); for surrogate runs also the true
  accuracy of the configuration they return;
* the ranking of the optimisers (by mean final value): Kendall tau between truth and surrogate, plus
  tau over all (optimiser, seed) final values;
* the surrogate's error on the configurations the optimisers visited on the truth (re-predicted),
  i.e. fidelity where optimisers actually go, not only on the training distribution;
* picks on the truth: each surrogate run's returned configuration re-scored on the truth, and the
  over-estimation ``surrogate value - true value`` (median and max per optimiser and over all runs):
  what an optimiser developed on the surrogate is rewarded for that is not real;

and draws best-so-far trajectories (median and inter-quartile band over seeds).

Parameter encoding per sampler: random search and TPE see categorical parameters as categorical;
CMA-ES (which only handles numbers) sees a categorical with contiguous integer codes as an integer
(CMA-ES with margin), otherwise Optuna falls back to independent sampling for it.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from smm_plugins._io import atomic_save_png, atomic_write_text
from smm_plugins.benchmark import Benchmark

__all__ = [
    "OPTIMIZERS",
    "uniform_fidelity",
    "exploit_rows",
    "ranking_uncertainty",
    "step_agreement",
    "RunTrace",
    "ValidateConfig",
    "run_optimizer",
    "validate_benchmark",
]

logger = logging.getLogger(__name__)

#: Optimisers compared by default (Optuna samplers, then the (1+1)-ES).
OPTIMIZERS: tuple[str, ...] = ("random", "cmaes", "tpe", "es")


@dataclass(frozen=True)
class ValidateConfig:
    """Settings: ``n_seeds`` seeds ``seed0 .. seed0 + n_seeds - 1``, ``n_evals`` evaluations per run."""

    n_seeds: int = 5
    n_evals: int = 500
    seed0: int = 0
    optimizers: tuple[str, ...] = OPTIMIZERS
    objective: str = "train_acc"
    #: Also evaluate ``test_acc`` of each run's returned configuration (on the same benchmark).
    report_test_acc: bool = True
    #: Uniform random configurations (seeded by ``seed0``) on which surrogate and truth are compared
    #: (R², Kendall tau per objective); 0 skips this.
    n_uniform: int = 2000
    #: Processes running the (optimiser, seed, side) runs; results do not depend on it.
    workers: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "optimizers", tuple(self.optimizers))
        if self.workers < 1:
            raise ValueError(f"workers = {self.workers} is not allowed; allowed: an integer >= 1")
        if self.n_uniform < 0 or self.n_uniform == 1:
            raise ValueError(f"n_uniform = {self.n_uniform} is not allowed; allowed: 0 (skip) or an integer >= 2")
        if self.n_seeds < 1 or self.n_evals < 2:
            raise ValueError(f"n_seeds must be >= 1 and n_evals >= 2, got {self.n_seeds} and {self.n_evals}")
        bad = [o for o in self.optimizers if o not in OPTIMIZERS]
        if bad or not self.optimizers:
            raise ValueError(f"optimizers {bad or list(self.optimizers)} not allowed; allowed: {', '.join(OPTIMIZERS)}")


@dataclass
class RunTrace:
    """One optimiser run: every evaluated configuration (rows, model-input order) and its value."""

    optimizer: str
    seed: int
    X: np.ndarray
    values: np.ndarray
    seconds: float = 0.0

    @property
    def best_so_far(self) -> np.ndarray:
        return np.maximum.accumulate(self.values)

    @property
    def best_index(self) -> int:
        return int(np.argmax(self.values))


# -- loading ----------------------------------------------------------------------------------------


def _load(name_or_bench: str | os.PathLike[str] | Benchmark) -> Benchmark:
    if isinstance(name_or_bench, Benchmark):
        return name_or_bench
    from smm_plugins.registry import load_benchmark

    return load_benchmark(os.fspath(name_or_bench))


def _bench_label(b: Benchmark, fallback: str) -> str:
    return str(getattr(b, "name", None) or fallback)


# -- one run ----------------------------------------------------------------------------------------


#: Validation optimiser -> the comparison runner's optimiser it runs. ``cmaes`` is CMA-ES with margin
#: searching the DFS layer choices as integers, as the published validations and exploit rows did (the
#: runner's ``cmaes`` samples categoricals independently, as Optuna does).
_RUNNER_OPTIMIZERS: Mapping[str, str] = {"random": "random", "tpe": "tpe", "cmaes": "cmaes-margin"}


def _compare_optimizer(bench: Benchmark, optimizer: str, seed: int, n_evals: int, objective: str) -> RunTrace:
    """One run of the comparison runner's optimiser for ``optimizer``, recorded by a traced benchmark."""
    from smm_plugins.compare.optimizers import get_optimizer
    from smm_plugins.compare.traced import TracedBenchmark

    opt = get_optimizer(_RUNNER_OPTIMIZERS[optimizer])
    traced = TracedBenchmark(bench, objective, budget=n_evals)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt(traced, seed, n_evals, objective=objective)
    X, values, _ = traced.trace()
    return RunTrace(optimizer, seed, X, values, time.perf_counter() - t0)


def _one_plus_one_es(bench: Benchmark, seed: int, n_evals: int, objective: str) -> RunTrace:
    """(1+1)-ES: Gaussian steps on the continuous variables (step size by the 1/5th success rule, in
    units of each range, starting at 0.1), each categorical resampled with probability 1 / dim; ties accepted."""
    space = bench.space
    rng = np.random.default_rng(seed)
    span = space.upper - space.lower
    cat = space.is_categorical
    choices = [np.asarray(p.choices or (0,), dtype=np.float64) for p in space.parameters]
    p_cat = 1.0 / space.dim
    sigma = 0.1
    t0 = time.perf_counter()
    x = space.sample(1, rng)[0]
    rows, vals = [x], [float(bench.evaluate(x, objective))]
    best = vals[0]
    for _ in range(n_evals - 1):
        step = np.clip(x + sigma * span * rng.standard_normal(space.dim), space.lower, space.upper)
        y = np.where(cat, x, step)
        for i in np.flatnonzero(cat & (rng.random(space.dim) < p_cat)):
            others = choices[i][choices[i] != x[i]]
            y[i] = rng.choice(others) if len(others) else x[i]
        v = float(bench.evaluate(y, objective))
        rows.append(y)
        vals.append(v)
        success = v >= best
        # 1/5th rule: sigma is stationary when one step in five succeeds.
        sigma = float(np.clip(sigma * (np.exp(0.2) if success else np.exp(-0.05)), 1e-3, 1.0))
        if success:
            x, best = y, v
    return RunTrace("es", seed, np.array(rows), np.array(vals), time.perf_counter() - t0)


def run_optimizer(
    bench: Benchmark, optimizer: str, seed: int, n_evals: int, *, objective: str = "train_acc"
) -> RunTrace:
    """Maximise ``objective`` of ``bench`` for ``n_evals`` evaluations with one seeded optimiser.

    ``optimizer``: ``random``, ``tpe`` or ``cmaes`` (the optimisers ``random``, ``tpe`` and ``cmaes-margin``
    of ``smm-bench compare``) or ``es`` (a (1+1)-ES).
    """
    if optimizer == "es":
        return _one_plus_one_es(bench, seed, n_evals, objective)
    if optimizer in _RUNNER_OPTIMIZERS:
        return _compare_optimizer(bench, optimizer, seed, n_evals, objective)
    raise ValueError(f"optimizer = {optimizer!r} is not known; allowed: {', '.join(OPTIMIZERS)}")


# -- summaries --------------------------------------------------------------------------------------


def _stats(x: np.ndarray) -> dict[str, float]:
    q25, med, q75 = np.percentile(x, [25, 50, 75])
    return {
        "median": float(med),
        "mean": float(np.mean(x)),
        "q25": float(q25),
        "q75": float(q75),
        "min": float(np.min(x)),
        "max": float(np.max(x)),
    }


def _kendall(a: Sequence[float], b: Sequence[float]) -> float:
    from scipy.stats import kendalltau

    if len(a) < 2:
        return float("nan")
    tau = kendalltau(a, b).statistic
    return float(tau) if tau is not None and np.isfinite(tau) else float("nan")


def _plot(path: Path, curves: Mapping[str, Mapping[str, np.ndarray]], labels: Mapping[str, str], title: str) -> None:

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    colours = {"random": "tab:gray", "cmaes": "tab:red", "tpe": "tab:blue", "es": "tab:green"}
    fig, axes = plt.subplots(1, len(curves), figsize=(5.2 * len(curves), 4.0), squeeze=False, sharey=True)
    for ax, (side, by_opt) in zip(axes[0], curves.items(), strict=True):
        for opt, mat in by_opt.items():
            x = np.arange(1, mat.shape[1] + 1)
            q25, med, q75 = np.percentile(mat, [25, 50, 75], axis=0)
            ax.plot(x, med, color=colours.get(opt), label=f"{opt} (median, n={mat.shape[0]})", lw=1.5)
            ax.fill_between(x, q25, q75, color=colours.get(opt), alpha=0.2, lw=0)
        ax.set_title(labels[side], fontsize=10)
        ax.set_xlabel("evaluations")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("best train_acc so far (IQR band)")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    atomic_save_png(fig, path)


def _table(final: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str]) -> str:
    opts = list(next(iter(final.values())).keys())
    extra = "surrogate" in final and "true_value_of_best" in final["surrogate"][opts[0]]
    head = [f"{labels[s]} final (median [IQR])" for s in final]
    if extra:
        head.append(f"true value of {labels['surrogate']}'s pick")
    lines = ["| optimiser | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for opt in opts:
        cells = []
        keys = [(side, "best_train_acc") for side in final] + ([("surrogate", "true_value_of_best")] if extra else [])
        for side, key in keys:
            s = final[side][opt][key]
            cells.append(f"{s['median']:.4f} [{s['q25']:.4f}, {s['q75']:.4f}]")
        lines.append(f"| {opt} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the whole validation ---------------------------------------------------------------------------


def validate_benchmark(
    surrogate: str | os.PathLike[str] | Benchmark,
    truth: str | os.PathLike[str] | Benchmark | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    config: ValidateConfig | None = None,
    *,
    progress: bool = False,
    on_run: Callable[[str, str, int], None] | None = None,
) -> dict[str, Any]:
    """Run every optimiser x seed on the truth and on the surrogate; return (and write) the report.

    ``surrogate``: a registered name (e.g. ``"smm-mini-ps"``), a surrogate directory, or a Benchmark.
    ``truth``: the true objective; default ``surrogate + "-true"`` (names only).
    ``out_dir``: if given, writes ``validate_report.json``, ``trajectories.png`` and
    ``final_values.md`` there. Values are accuracies in [0, 1].
    """
    cfg = config or ValidateConfig()
    benches, labels = _resolve_pair(surrogate, truth)
    seeds = list(range(cfg.seed0, cfg.seed0 + cfg.n_seeds))
    traces = _run_all(benches, cfg, seeds, progress, on_run)
    final = {side: {o: _final_entry(side, runs, benches, cfg) for o, runs in by.items()} for side, by in traces.items()}
    report: dict[str, Any] = {
        "truth": labels["truth"],
        "surrogate": labels["surrogate"],
        "objective": cfg.objective,
        "n_seeds": cfg.n_seeds,
        "seeds": seeds,
        "n_evals": cfg.n_evals,
        "optimizers": list(cfg.optimizers),
        "final": final,
        **_ranking_agreement(final, cfg.optimizers),
        **_on_truth_trajectories(traces["truth"], benches, cfg),
        "uniform": uniform_fidelity(benches["surrogate"], benches["truth"], cfg.n_uniform, seed=cfg.seed0)
        if cfg.n_uniform
        else None,
        "picks_on_truth": _picks_on_truth(final["surrogate"], cfg.optimizers),
        "encoding": (
            "random/TPE: categoricals as categorical; CMA-ES: contiguous integer categoricals as integers (with margin)"
        ),
    }
    curves = {
        side: {o: np.array([r.best_so_far for r in runs]) for o, runs in by_opt.items()}
        for side, by_opt in traces.items()
    }
    report["trajectories_median"] = {
        side: {o: np.median(m, axis=0)[[k - 1 for k in _checkpoints(cfg.n_evals)]].tolist() for o, m in by.items()}
        for side, by in curves.items()
    }
    report["trajectory_checkpoints"] = _checkpoints(cfg.n_evals)
    report["table_markdown"] = _table(final, labels)
    if out_dir is not None:
        _write_report(Path(out_dir), report, curves, labels)
    return report


def _resolve_pair(
    surrogate: str | os.PathLike[str] | Benchmark, truth: str | os.PathLike[str] | Benchmark | None
) -> tuple[dict[str, Benchmark], dict[str, str]]:
    """The truth and surrogate benchmarks (same search space) and their labels, keyed ``truth``/``surrogate``."""
    if truth is None:
        if isinstance(surrogate, Benchmark) or Path(os.fspath(surrogate)).exists():
            raise ValueError(
                "truth is required when the surrogate is a directory or an object (e.g. --truth smm-mini-ps-true)"
            )
        truth = os.fspath(surrogate) + "-true"
    benches = {"truth": _load(truth), "surrogate": _load(surrogate)}
    labels = {
        "truth": _bench_label(benches["truth"], str(truth)),
        "surrogate": _bench_label(benches["surrogate"], str(surrogate)),
    }
    if benches["truth"].space.names != benches["surrogate"].space.names:
        raise ValueError(
            f"{labels['truth']} and {labels['surrogate']} have different search spaces "
            f"({benches['truth'].space.dim} vs {benches['surrogate'].space.dim} parameters); pass the matching --truth"
        )
    return benches, labels


def _final_entry(
    side: str, runs: Sequence[RunTrace], benches: Mapping[str, Benchmark], cfg: ValidateConfig
) -> dict[str, Any]:
    """Final values of one optimiser's runs on one side; for the surrogate also what its picks are truly worth."""
    best = np.array([r.values.max() for r in runs])
    chosen = np.array([r.X[r.best_index] for r in runs])  # the configuration each run returns
    entry: dict[str, Any] = {
        "best_train_acc": _stats(best),
        "per_seed": best.tolist(),
        "seconds_per_run": float(np.mean([r.seconds for r in runs])),
    }
    if cfg.report_test_acc and "test_acc" in benches[side].objectives and cfg.objective != "test_acc":
        # Scored on the held-out split of the same benchmark.
        test = np.asarray(benches[side].evaluate(chosen, "test_acc"), dtype=np.float64)
        entry["test_acc_of_best"] = _stats(test)
        entry["test_acc_per_seed"] = test.tolist()
    if side == "surrogate":
        real = np.asarray(benches["truth"].evaluate(chosen, cfg.objective), dtype=np.float64)
        entry["true_value_of_best"] = _stats(real)
        entry["true_value_per_seed"] = real.tolist()
        entry["overestimation_of_pick"] = _stats(best - real)
        folds = getattr(benches["surrogate"], "fold_predictions", None)
        if folds is not None:  # how far the CV fold boosters disagree on each pick
            entry["fold_std_per_seed"] = folds(chosen, cfg.objective).std(axis=1).tolist()
    return entry


def _ranking_agreement(final: Mapping[str, Mapping[str, Any]], optimizers: Sequence[str]) -> dict[str, Any]:
    """Rankings by mean final value on each side and their Kendall tau; tau over all (optimiser, seed) runs."""
    means = {side: [final[side][o]["best_train_acc"]["mean"] for o in optimizers] for side in final}
    all_runs = {side: [v for o in optimizers for v in final[side][o]["per_seed"]] for side in final}
    ranking = {
        side: sorted(optimizers, key=lambda o: -float(final[side][o]["best_train_acc"]["mean"])) for side in final
    }
    return {
        "ranking": ranking,
        "ranking_kendall_tau": _kendall(means["truth"], means["surrogate"]),
        "ranking_agrees": ranking["truth"] == ranking["surrogate"],
        "runs_kendall_tau": _kendall(all_runs["truth"], all_runs["surrogate"]),
        "ranking_uncertainty": ranking_uncertainty(
            {o: final["truth"][o]["per_seed"] for o in optimizers},
            {o: final["surrogate"][o]["per_seed"] for o in optimizers},
        ),
    }


def ranking_uncertainty(
    truth_finals: Mapping[str, Sequence[float]],
    surrogate_finals: Mapping[str, Sequence[float]],
    *,
    n_resamples: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, Any]:
    """How much of the optimiser-ranking agreement the seeds can support.

    ``truth_finals`` / ``surrogate_finals``: optimiser -> final values of its runs (one per seed; the
    seeds of the two sides need not match). Returns the bootstrap distribution (runs resampled with
    replacement within each optimiser and side, ``n_resamples`` times, seeded by ``seed``) of the Kendall
    tau between the two sides' mean final values — its median, its ``1 - alpha`` percentile interval and
    the share of resamples with tau = 1 — and, per pair of optimisers, the difference of means and a
    two-sided Mann-Whitney U p-value on each side. A pair ``separated`` on the truth (p < ``alpha``) is one
    the truth's runs can order; ``separated_pairs_agreeing`` counts those the surrogate orders the same way.
    The bootstrap part is ``None`` when an optimiser has fewer than two runs on a side.
    """
    from itertools import combinations

    from scipy.stats import bootstrap, mannwhitneyu

    opts = list(truth_finals)
    if sorted(opts) != sorted(surrogate_finals):
        raise ValueError(
            f"optimizers differ: truth has {sorted(opts)}, surrogate has {sorted(surrogate_finals)}; allowed: the same"
        )
    sides = {"truth": truth_finals, "surrogate": surrogate_finals}
    runs = {side: {o: np.asarray(v[o], dtype=np.float64) for o in opts} for side, v in sides.items()}
    pairs = []
    for a, b in combinations(opts, 2):
        entry: dict[str, Any] = {"a": a, "b": b}
        for side, by in runs.items():
            x, y = by[a], by[b]
            entry[f"{side}_mean_difference"] = float(x.mean() - y.mean())
            p = mannwhitneyu(x, y, alternative="two-sided").pvalue if min(len(x), len(y)) > 1 else float("nan")
            entry[f"{side}_p_value"] = float(p)
        entry["separated_on_truth"] = bool(entry["truth_p_value"] < alpha)
        entry["same_order"] = bool(
            np.sign(entry["truth_mean_difference"]) == np.sign(entry["surrogate_mean_difference"])
        )
        pairs.append(entry)
    separated = [e for e in pairs if e["separated_on_truth"]]
    out: dict[str, Any] = {
        "alpha": alpha,
        "pairs": pairs,
        "separated_pairs": len(separated),
        "separated_pairs_agreeing": sum(e["same_order"] for e in separated),
        "bootstrap": None,
    }
    samples = [runs["truth"][o] for o in opts] + [runs["surrogate"][o] for o in opts]
    if len(opts) > 1 and min(len(x) for x in samples) > 1:
        k = len(opts)

        def tau(*resampled: np.ndarray) -> float:
            return _kendall([float(np.mean(x)) for x in resampled[:k]], [float(np.mean(x)) for x in resampled[k:]])

        res = bootstrap(
            samples,
            tau,
            n_resamples=n_resamples,
            vectorized=False,
            paired=False,
            confidence_level=1 - alpha,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
        dist = res.bootstrap_distribution
        out["bootstrap"] = {
            "n_resamples": n_resamples,
            "seed": seed,
            "tau_median": float(np.nanmedian(dist)),
            "tau_interval": [float(res.confidence_interval.low), float(res.confidence_interval.high)],
            "share_tau_1": float(np.mean(dist >= 1.0 - 1e-12)),
        }
    return out


def _on_truth_trajectories(
    truth_traces: Mapping[str, Sequence[RunTrace]], benches: Mapping[str, Benchmark], cfg: ValidateConfig
) -> dict[str, Any]:
    """Where optimisers go on the truth, how wrong is the surrogate, and does it judge their steps alike?

    ``surrogate_error_on_truth_trajectories``: fidelity metrics of the surrogate on every configuration the
    truth-side runs visited. ``step_agreement``: the same runs' steps judged by both (see :func:`step_agreement`).
    """
    from smm_plugins.surrogate_tools.build import fidelity_metrics

    errors, steps = {}, {}
    for opt in cfg.optimizers:
        runs = truth_traces[opt]
        preds = [np.asarray(benches["surrogate"].evaluate(r.X, cfg.objective), dtype=np.float64) for r in runs]
        errors[opt] = fidelity_metrics(np.concatenate([r.values for r in runs]), np.concatenate(preds))
        steps[opt] = step_agreement([r.values for r in runs], preds)
    return {"surrogate_error_on_truth_trajectories": errors, "step_agreement": steps}


def step_agreement(
    truth_runs: Sequence[ArrayLike], surrogate_runs: Sequence[ArrayLike], *, margin: float = 0.02
) -> dict[str, Any]:
    """Do surrogate and truth judge an optimiser's steps alike? (local fidelity, e.g. at local optima)

    ``truth_runs[k]``: the true values of run ``k``'s evaluations in order; ``surrogate_runs[k]``: the
    surrogate's values of the same configurations. Each evaluation after the first is a step, compared
    with the run's incumbent on the truth (its best earlier configuration, first if tied). A step the truth
    rejects (true value below the incumbent's) that the surrogate rates above the incumbent is a *false
    improvement*. Late steps of a local search differ from the incumbent by less than any surrogate's
    error, so compare the rates with those of a faithful surrogate on the same optimiser. Returns the number
    of judged steps (truth ties left out), the share judged alike
    (``agreement``), ``false_improvement`` (share of rejected steps) and ``missed_improvement`` (share of
    the truth's improvements the surrogate rates at or below the incumbent); NaN where there is no such step.
    ``clear_rejections`` counts the steps the truth rates more than ``margin`` (accuracy, >= 0) below the
    incumbent, and ``false_improvement_beyond_margin`` is the share of them the surrogate rates above it: a
    faithful surrogate keeps it near 0 even where fine-scale steps are a coin toss, so it isolates local
    optima the surrogate smooths away.
    """
    if not (np.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin is {margin}; allowed: a finite accuracy difference >= 0")
    if len(truth_runs) != len(surrogate_runs):
        raise ValueError(
            f"truth_runs has {len(truth_runs)} runs and surrogate_runs {len(surrogate_runs)}; allowed: the same number"
        )
    better_t, better_s, clear = [], [], []
    for k, (t_run, s_run) in enumerate(zip(truth_runs, surrogate_runs, strict=True)):
        t, s = np.asarray(t_run, dtype=np.float64), np.asarray(s_run, dtype=np.float64)
        if t.shape != s.shape or t.ndim != 1:
            raise ValueError(f"run {k}: truth has shape {t.shape}, surrogate {s.shape}; allowed: equal 1-d shapes")
        if len(t) < 2:
            continue
        # A strictly better value makes a new incumbent, so a tie keeps the earlier one.
        earlier_best = np.concatenate([[-np.inf], np.maximum.accumulate(t)[:-1]])
        inc = np.maximum.accumulate(np.where(t > earlier_best, np.arange(len(t)), 0))[:-1]
        judged = t[1:] != t[inc]
        better_t.append((t[1:] > t[inc])[judged])
        better_s.append((s[1:] > s[inc])[judged])
        clear.append((t[1:] < t[inc] - margin)[judged])
    bt, bs, bc = (np.concatenate(m) if m else np.zeros(0, dtype=bool) for m in (better_t, better_s, clear))

    def share(mask: np.ndarray) -> float:
        return float(mask.mean()) if mask.size else float("nan")

    return {
        "steps": int(bt.size),
        "agreement": share(bt == bs),
        "false_improvement": share(bs[~bt]),
        "missed_improvement": share(~bs[bt]),
        "margin": float(margin),
        "clear_rejections": int(bc.sum()),
        "false_improvement_beyond_margin": share(bs[bc]),
    }


def _write_report(
    out: Path,
    report: Mapping[str, Any],
    curves: Mapping[str, Mapping[str, np.ndarray]],
    labels: Mapping[str, str],
) -> None:
    """``validate_report.json``, ``final_values.md`` and ``trajectories.png`` in ``out`` (each written atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "validate_report.json", json.dumps(report, indent=1, sort_keys=True))
    atomic_write_text(out / "final_values.md", report["table_markdown"] + "\n")
    title = (
        f"{report['n_seeds']} seeds x {report['n_evals']} evaluations; "
        f"ranking tau = {report['ranking_kendall_tau']:.2f}"
    )
    _plot(out / "trajectories.png", curves, labels, title)
    logger.info("wrote %s", out)


def exploit_rows(
    surrogate: str | os.PathLike[str] | Benchmark,
    truth: str | os.PathLike[str] | Benchmark,
    *,
    optimizers: Sequence[str] = ("cmaes", "tpe"),
    seeds: Sequence[int] = (100, 101, 102, 103, 104),
    n_evals: int = 500,
    objective: str = "train_acc",
    progress: bool = False,
) -> Any:
    """Configurations optimisers visit on the surrogate, labelled with the truth's accuracies.

    Where an optimiser climbs a surrogate's error (predicted high, truly low) these rows are the
    correction: pass them to ``build_surrogate(..., extra_data=rows)``. Use seeds disjoint from those of
    :func:`validate_benchmark` so that the validation stays out of sample. Returns a pandas DataFrame
    (parameter columns, one column per truth objective, ``strategy`` = ``exploit-<optimizer>``,
    ``run_id`` = seed).
    """
    import pandas as pd
    from tqdm.auto import tqdm

    sur, tru = _load(surrogate), _load(truth)
    if sur.space.names != tru.space.names:
        raise ValueError("surrogate and truth have different search spaces")
    frames = []
    jobs = [(o, s) for o in optimizers for s in seeds]
    for opt, seed in tqdm(jobs, desc="exploit", unit="run", disable=not progress):
        trace = run_optimizer(sur, opt, seed, n_evals, objective=objective)
        df = pd.DataFrame(trace.X, columns=sur.space.names)
        for obj in tru.objectives:
            df[obj] = np.asarray(tru.evaluate(trace.X, obj), dtype=np.float64)
        df["strategy"] = f"exploit-{opt}"
        df["run_id"] = seed
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _run_all(
    benches: Mapping[str, Benchmark],
    cfg: ValidateConfig,
    seeds: Sequence[int],
    progress: bool,
    on_run: Callable[[str, str, int], None] | None,
) -> dict[str, dict[str, list[RunTrace]]]:
    """Every (optimiser, seed, side) run, serially or on ``cfg.workers`` processes (same traces either way)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    jobs = [(opt, seed, side) for opt in cfg.optimizers for seed in seeds for side in benches]
    traces: dict[str, dict[str, list[RunTrace]]] = {s: {o: [] for o in cfg.optimizers} for s in benches}
    bar = tqdm(total=len(jobs), desc="validate", unit="run", disable=not progress)
    # spawn: a forked child would inherit the parent's OpenMP/numba thread state
    pool = (
        ProcessPoolExecutor(cfg.workers, mp_context=multiprocessing.get_context("spawn")) if cfg.workers > 1 else None
    )
    try:
        if pool is None:
            results = (run_optimizer(benches[side], o, s, cfg.n_evals, objective=cfg.objective) for o, s, side in jobs)
        else:
            futures = [
                pool.submit(run_optimizer, benches[side], o, s, cfg.n_evals, objective=cfg.objective)
                for o, s, side in jobs
            ]
            results = (f.result() for f in futures)
        for (opt, seed, side), trace in zip(jobs, results, strict=True):
            traces[side][opt].append(trace)  # in job order, so seeds stay sorted within each list
            if on_run is not None:
                on_run(side, opt, seed)
            bar.update(1)
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return traces


def uniform_fidelity(
    surrogate: Benchmark, truth: Benchmark, n: int, *, seed: int = 0, objectives: Sequence[str] | None = None
) -> dict[str, Any]:
    """Fidelity (R², Kendall tau, errors) of ``surrogate`` against ``truth`` on ``n`` uniform random configurations.

    The regime of random search and of an optimiser's first steps, unlike a held-out split of the
    training table (which mixes in the optimisers' rows). Configurations: ``space.sample(n, seed)``.
    """
    from smm_plugins.surrogate_tools.build import fidelity_metrics

    X = truth.space.sample(n, rng=seed)
    objs = [o for o in (objectives or truth.objectives) if o in surrogate.objectives]
    out: dict[str, Any] = {"n": int(n), "seed": int(seed), "objectives": {}}
    for obj in objs:
        t = np.asarray(truth.evaluate(X, obj), dtype=np.float64)
        out["objectives"][obj] = fidelity_metrics(t, np.asarray(surrogate.evaluate(X, obj), dtype=np.float64))
    return out


def _picks_on_truth(final: Mapping[str, Any], optimizers: Sequence[str]) -> dict[str, Any]:
    """Surrogate value - true value of each surrogate run's returned configuration (> 0: over-estimated)."""
    per_opt = {
        o: (np.asarray(final[o]["per_seed"]) - np.asarray(final[o]["true_value_per_seed"])).tolist() for o in optimizers
    }
    every = np.concatenate([np.asarray(v) for v in per_opt.values()])
    out: dict[str, Any] = {
        "definition": "surrogate value - true value of the configuration each surrogate run returns (accuracy)",
        "by_optimizer": {o: {**_stats(np.asarray(v)), "per_seed": v} for o, v in per_opt.items()},
        "all_runs": _stats(every),
    }
    if all("fold_std_per_seed" in final[o] for o in optimizers) and len(every) > 2:
        from scipy.stats import spearmanr

        std = np.concatenate([np.asarray(final[o]["fold_std_per_seed"]) for o in optimizers])
        rho = spearmanr(std, every).statistic
        # Does the fold boosters' disagreement flag the over-estimated picks?
        out["spearman_fold_std_vs_overestimation"] = float(rho) if np.isfinite(rho) else float("nan")
    return out


def _checkpoints(n: int) -> list[int]:
    pts = sorted({k for k in (1, 10, 25, 50, 100, 200, 300, 400, 500, 1000) if k <= n} | {n})
    return pts
