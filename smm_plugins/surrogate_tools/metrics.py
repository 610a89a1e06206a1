"""Fidelity measures of a surrogate against a truth: error metrics, ranking agreement of optimisers, steps
judged alike, picks re-scored on the truth. Accuracies and errors are in [0, 1] units."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from smm_plugins.benchmark import Benchmark

if TYPE_CHECKING:
    from smm_plugins.surrogate_tools.runs import RunTrace, ValidateConfig

__all__ = [
    "fidelity_metrics",
    "final_entry",
    "on_truth_trajectories",
    "picks_on_truth",
    "ranking_agreement",
    "ranking_uncertainty",
    "step_agreement",
    "uniform_fidelity",
]


def fidelity_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """R², Kendall tau (tau-b), RMSE, MAE and mean signed error (pred - true; > 0 = over-estimation).

    Errors are in accuracy units (fractions in [0, 1]).
    """
    from scipy.stats import kendalltau

    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    err = p - t
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else float("nan")
    tau = kendalltau(t, p).statistic if len(t) > 1 else float("nan")
    return {
        "n": int(len(t)),
        "r2": float(r2),
        "kendall_tau": float(tau) if tau is not None else float("nan"),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "mean_signed_error": float(np.mean(err)),
        "true_mean": float(t.mean()),
        "pred_mean": float(p.mean()),
    }


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


def final_entry(
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


def ranking_agreement(final: Mapping[str, Mapping[str, Any]], optimizers: Sequence[str]) -> dict[str, Any]:
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

    from scipy.stats import mannwhitneyu

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
        out["bootstrap"] = _bootstrap_tau(samples, len(opts), n_resamples=n_resamples, alpha=alpha, seed=seed)
    return out


def _bootstrap_tau(
    samples: Sequence[np.ndarray], k: int, *, n_resamples: int, alpha: float, seed: int
) -> dict[str, Any]:
    """Bootstrap of the Kendall tau between the mean finals of the first ``k`` samples (truth) and the rest."""
    from scipy.stats import bootstrap

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
    return {
        "n_resamples": n_resamples,
        "seed": seed,
        "tau_median": float(np.nanmedian(dist)),
        "tau_interval": [float(res.confidence_interval.low), float(res.confidence_interval.high)],
        "share_tau_1": float(np.mean(dist >= 1.0 - 1e-12)),
    }


def on_truth_trajectories(
    truth_traces: Mapping[str, Sequence[RunTrace]], benches: Mapping[str, Benchmark], cfg: ValidateConfig
) -> dict[str, Any]:
    """Where optimisers go on the truth, how wrong is the surrogate, and does it judge their steps alike?

    ``surrogate_error_on_truth_trajectories``: fidelity metrics of the surrogate on every configuration the
    truth-side runs visited. ``step_agreement``: the same runs' steps judged by both (see :func:`step_agreement`).
    """
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


def uniform_fidelity(
    surrogate: Benchmark, truth: Benchmark, n: int, *, seed: int = 0, objectives: Sequence[str] | None = None
) -> dict[str, Any]:
    """Fidelity (R², Kendall tau, errors) of ``surrogate`` against ``truth`` on ``n`` uniform random configurations.

    The regime of random search and of an optimiser's first steps, unlike a held-out split of the
    training table (which mixes in the optimisers' rows). Configurations: ``space.sample(n, seed)``.
    """
    X = truth.space.sample(n, rng=seed)
    objs = [o for o in (objectives or truth.objectives) if o in surrogate.objectives]
    out: dict[str, Any] = {"n": int(n), "seed": int(seed), "objectives": {}}
    for obj in objs:
        t = np.asarray(truth.evaluate(X, obj), dtype=np.float64)
        out["objectives"][obj] = fidelity_metrics(t, np.asarray(surrogate.evaluate(X, obj), dtype=np.float64))
    return out


def picks_on_truth(final: Mapping[str, Any], optimizers: Sequence[str]) -> dict[str, Any]:
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
