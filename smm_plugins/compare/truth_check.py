"""The report's truth check: each run's returned configuration re-scored on the benchmark's exact twin.

A surrogate is a model of the true objective; where it errs, an optimiser can win on the surrogate and not
on the truth (a LightGBM surrogate flatters local search on DFS: docs/surrogates.md). For a benchmark with an
exact twin, :func:`check_on_truth` evaluates the final incumbent of every run (the configuration an optimiser
returns, stored as ``best_config`` in the run file; each distinct configuration once) and the reference
configurations on the twin, and compares: true value per optimiser, surrogate minus truth, the two rankings
with a bootstrap interval of Kendall's tau over seeds, and which of the surrogate's significant pairwise
differences hold on the truth.

**Which twin.** In this order: ``bench.meta["truth"]`` (a factory's ``meta={"truth": SPEC}``), the key
``"truth"`` of ``build_info.json`` in a benchmark directory, and :data:`KNOWN_TWINS` for the embedded lab
surrogates. ``SPEC`` is anything :func:`smm_plugins.registry.load_benchmark` takes (a registered name, a
directory, ``"module:factory"``); the twin must have the same search space.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smm_plugins.compare.stats import ALPHA, average_ranks, final_values, wide_finals, wilcoxon_of_finals

__all__ = [
    "KNOWN_TWINS",
    "TruthCheck",
    "check_on_truth",
    "kendall_tau_b",
    "markdown_truth_check",
    "ranking_agreement",
    "truth_twin",
]

logger = logging.getLogger(__name__)

#: Exact twins of the registered surrogates: the merge lab's surrogates and its exact objectives.
KNOWN_TWINS = {"smm-mini-ps": "smm-mini-ps-true", "smm-mini-dfs": "smm-mini-dfs-true"}

#: Bootstrap resamples (over seeds) of the interval of Kendall's tau.
BOOTSTRAP_RESAMPLES = 1000

_METRIC_NAMES = {"best_train": "train_acc", "inc_test": "test_acc"}
_TRUE = {"best_train": "true_train", "inc_test": "true_test"}


def truth_twin(spec: str, bench: Any) -> str | None:
    """The spec of the exact twin of benchmark ``bench`` (loaded from ``spec``), or None if it declares none."""
    meta = getattr(bench, "meta", None) or {}
    if meta.get("truth"):
        return str(meta["truth"])
    directory = getattr(bench, "directory", None)
    info = Path(directory) / "build_info.json" if directory is not None else None
    if info is not None and info.is_file():
        declared = json.loads(info.read_text()).get("truth")
        if declared:
            return str(declared)
    return KNOWN_TWINS.get(spec)


@dataclass
class TruthCheck:
    """What :func:`check_on_truth` found (frames empty when no benchmark has a twin)."""

    twins: dict[str, str]  # benchmark label -> twin spec
    runs: pd.DataFrame  # per run: benchmark, optimizer, seed, best_train, inc_test, true_train, true_test
    table: pd.DataFrame  # per benchmark and optimiser: true means / stds, surrogate - truth, average ranks
    rankings: pd.DataFrame  # per benchmark and metric: Kendall tau, bootstrap interval, both rank orders
    verdicts: dict[str, str]  # benchmark label -> one line
    references: pd.DataFrame  # reference configurations on the surrogate and on the twin
    distinct: int  # configurations evaluated on the twins
    seconds: float
    notes: list[str] = field(default_factory=list)
    exact: list[str] = field(default_factory=list)  # benchmark labels that are exact objectives themselves


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row of ``x`` with the same row of ``y`` (``scipy.stats.kendalltau``'s default).

    ``x``, ``y``: arrays of shape (rows, k). NaN where one row is all tied. Vectorised over rows, for the
    bootstrap: ``(concordant - discordant) / sqrt(pairs not tied in x * pairs not tied in y)``.
    """
    i, j = np.triu_indices(x.shape[1], k=1)
    sx, sy = np.sign(x[:, i] - x[:, j]), np.sign(y[:, i] - y[:, j])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sx * sy).sum(axis=1) / np.sqrt((sx != 0).sum(axis=1) * (sy != 0).sum(axis=1))


def ranking_agreement(
    surrogate: pd.DataFrame, truth: pd.DataFrame, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> tuple[float, float, float]:
    """Kendall's tau of the average-rank orders of two seeds x optimisers tables, with a 95 % bootstrap interval.

    Seeds present in both without a missing value are resampled with replacement (``resamples`` times,
    ``numpy.random.default_rng(seed)``). Returns ``(tau, low, high)``; NaN where the tau is undefined (fewer
    than 2 optimisers or seeds, or one ranking all tied).
    """
    from scipy.stats import rankdata

    cols = list(surrogate.columns)
    both = pd.concat([surrogate[cols], truth[cols]], axis=1, keys=["s", "t"]).dropna()
    if len(cols) < 2 or len(both) < 2:
        return float("nan"), float("nan"), float("nan")
    rank_s = rankdata(-both["s"].to_numpy(), axis=1)
    rank_t = rankdata(-both["t"].to_numpy(), axis=1)
    n = len(both)
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    # Average ranks of each resample: (resamples, optimisers).
    boot = kendall_tau_b(rank_s[draws].mean(axis=1), rank_t[draws].mean(axis=1))
    tau = float(kendall_tau_b(rank_s.mean(axis=0)[None, :], rank_t.mean(axis=0)[None, :])[0])
    if not np.isfinite(boot).any():
        return tau, float("nan"), float("nan")
    low, high = np.nanpercentile(boot, [2.5, 97.5])
    return tau, float(low), float(high)


def _incumbents(run_dir: Path, keys: set[tuple[str, str, int]]) -> dict[tuple[str, str, int], tuple[dict, str]]:
    # (benchmark, optimizer, seed) -> (the run's returned configuration, its objective), from the run files.
    from smm_plugins.compare.results import read_run_meta

    out = {}
    for f in sorted((run_dir / "runs").glob("*.parquet")):
        try:
            meta = read_run_meta(f)
        except Exception:  # noqa: BLE001 - an unreadable file is the run reader's to report
            continue
        spec = meta.get("spec", {})
        key = (str(spec.get("label")), str(spec.get("optimizer")), int(spec.get("seed", -1)))
        if key in keys and meta.get("best_config"):
            out[key] = (meta["best_config"], str(spec.get("objective", "train_acc")))
    return out


def _rescore(twin: Any, incumbents: dict[tuple[str, str, int], tuple[dict, str]]) -> tuple[pd.DataFrame, int]:
    # True objective and test_acc of each run's configuration; every distinct configuration evaluated once.
    keys = list(incumbents)
    X = np.stack([twin.space.to_vector(incumbents[k][0]) for k in keys])
    objective = incumbents[keys[0]][1]
    unique, inverse = np.unique(X, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    true_train = np.asarray(twin.evaluate(unique, objective), dtype=float).reshape(-1)[inverse]
    has_test = "test_acc" in twin.objectives
    true_test = np.asarray(twin.evaluate(unique, "test_acc"), dtype=float).reshape(-1)[inverse] if has_test else None
    frame = pd.DataFrame(keys, columns=["benchmark", "optimizer", "seed"])
    frame["true_train"] = true_train
    frame["true_test"] = true_test if true_test is not None else np.nan
    return frame, len(unique)


def _optimiser_table(runs: pd.DataFrame, tested: set[tuple[str, str]]) -> pd.DataFrame:
    rows = []
    for bench, g in runs.groupby("benchmark", sort=True):
        in_tests = g[[(bench, o) in tested for o in g["optimizer"]]]
        ranks = {
            (m, src): average_ranks(wide_finals(in_tests, col))
            for m in _TRUE
            for src, col in (("surrogate", m), ("truth", _TRUE[m]))
        }
        for opt, h in g.groupby("optimizer", sort=True):
            row: dict[str, Any] = {"benchmark": bench, "optimizer": opt, "runs": len(h)}
            for m, t in _TRUE.items():
                name = _METRIC_NAMES[m]
                row[f"true_{name}_mean"] = float(h[t].mean())
                row[f"true_{name}_std"] = float(h[t].std(ddof=1)) if len(h) > 1 else float("nan")
                row[f"{name}_surrogate_minus_truth"] = float((h[m] - h[t]).mean())
                for src in ("surrogate", "truth"):
                    row[f"{name}_rank_{src}"] = float(ranks[(m, src)].get(opt, np.nan))
            rows.append(row)
    return pd.DataFrame(rows)


def _rankings(runs: pd.DataFrame, tested: set[tuple[str, str]]) -> pd.DataFrame:
    rows = []
    for bench, g in runs.groupby("benchmark", sort=True):
        g = g[[(bench, o) in tested for o in g["optimizer"]]]
        for m, t in _TRUE.items():
            sur, tru = wide_finals(g, m), wide_finals(g, t)
            tau, low, high = ranking_agreement(sur, tru)
            order = {src: average_ranks(w).sort_values(kind="stable") for src, w in (("s", sur), ("t", tru))}
            rows.append(
                {
                    "benchmark": bench,
                    "metric": m,
                    "kendall_tau": tau,
                    "tau_low": low,
                    "tau_high": high,
                    "surrogate_ranking": " > ".join(str(o) for o in order["s"].index),
                    "truth_ranking": " > ".join(str(o) for o in order["t"].index),
                }
            )
    return pd.DataFrame(rows)


def _direction(r: Any) -> int:
    # +1 if a beats b (median paired difference, else the wins), -1 if b beats a.
    d = np.sign(r.median_diff) or np.sign(r.wins_a - r.wins_b)
    return int(d)


def _pair_text(r: Any, d: int) -> str:
    first, second = (r.a, r.b) if d > 0 else (r.b, r.a)
    return f"{first} > {second} ({_METRIC_NAMES.get(r.metric, r.metric)})"


def verdict(bench: str, surrogate_wilcoxon: pd.DataFrame, truth_wilcoxon: pd.DataFrame, alpha: float = ALPHA) -> str:
    """One line: which of the surrogate's significant pairwise differences (Holm, ``alpha``) hold on the truth.

    A difference holds if the truth's Wilcoxon test of the same pair and metric is significant in the same
    direction. Differences only the truth finds are named too.
    """
    sur = surrogate_wilcoxon[(surrogate_wilcoxon["benchmark"] == bench) & (surrogate_wilcoxon["p_holm"] < alpha)]
    tru = {(t.metric, t.a, t.b): t for t in truth_wilcoxon[truth_wilcoxon["benchmark"] == bench].itertuples()}
    held, failed = [], []
    for r in sur.itertuples():
        d = _direction(r)
        t = tru.get((r.metric, r.a, r.b))
        if t is not None and t.p_holm < alpha and _direction(t) == d:
            held.append(_pair_text(r, d))
            continue
        why = "not tested" if t is None else f"not significant, p (Holm) {t.p_holm:.3g}"
        if t is not None and t.p_holm < alpha:
            why = f"reversed, p (Holm) {t.p_holm:.3g}"
        failed.append(f"{_pair_text(r, d)} [truth: {why}]")
    checked = {(r.metric, r.a, r.b) for r in sur.itertuples()}
    only_truth = [_pair_text(t, _direction(t)) for k, t in tru.items() if t.p_holm < alpha and k not in checked]
    n = len(held) + len(failed)
    if n:
        line = f"{len(held)} of {n} significant difference(s) on the surrogate hold on the truth"
        line += f": {'; '.join(held)}" if held else ""
        line += f". Do not hold: {'; '.join(failed)}" if failed else ""
    else:
        line = "no significant difference on the surrogate to check"
    if only_truth:
        line += f". Significant on the truth only: {'; '.join(only_truth)}"
    return line + "."


def _twins(specs: dict[str, str], notes: list[str], exact: list[str]) -> dict[str, tuple[str, Any]]:
    # label -> (twin spec, loaded twin) of every benchmark that declares a loadable twin; the labels of
    # exact objectives (registry kind "true": their values are the truth) go to ``exact``.
    from smm_plugins.registry import load_benchmark

    out = {}
    for label, spec in specs.items():
        try:
            bench = load_benchmark(spec)
            if (getattr(bench, "meta", None) or {}).get("source_kind") == "true":
                exact.append(label)
                continue
            twin_spec = truth_twin(spec, bench)
            if twin_spec is None or twin_spec == spec:
                continue
            out[label] = (twin_spec, load_benchmark(twin_spec))
        except Exception as exc:  # noqa: BLE001 - the report goes on without this benchmark's check
            logger.warning("no truth check for benchmark %r (%s): %s", label, spec, exc)
            notes.append(f"`{label}`: not checked ({type(exc).__name__}: {exc})")
    return out


def check_on_truth(
    run_dir: str | Path,
    df: pd.DataFrame,
    surrogate_wilcoxon: pd.DataFrame,
    references: pd.DataFrame,
    specs: dict[str, str],
    tested: set[tuple[str, str]] | None = None,
) -> TruthCheck:
    """Re-score every run's returned configuration on its benchmark's exact twin.

    ``df``: the report's incumbent-curves frame; ``surrogate_wilcoxon``: its pairwise tests (the differences
    to check); ``references``: :func:`~smm_plugins.compare.report.reference_values` of the surrogates;
    ``specs``: ``{label: spec}`` of the benchmarks; ``tested``: the ``(benchmark, optimizer)`` pairs in the
    statistical tests (default all): the rankings and tests on the truth use the same ones.
    """
    from smm_plugins.compare.report import reference_values

    t0 = time.perf_counter()
    notes: list[str] = []
    exact: list[str] = []
    twins = _twins(specs, notes, exact)
    fin = final_values(df)
    fin = fin[fin["benchmark"].isin(list(twins))]
    keys = {(str(b), str(o), int(s)) for b, o, s in fin[["benchmark", "optimizer", "seed"]].itertuples(index=False)}
    incumbents = _incumbents(Path(run_dir), keys)
    parts, distinct = [], 0
    for label, (_, twin) in twins.items():
        mine = {k: v for k, v in incumbents.items() if k[0] == label}
        missing = sum(1 for k in keys if k[0] == label) - len(mine)
        if missing:
            notes.append(f"`{label}`: {missing} run(s) without a stored configuration are not checked")
        if mine:
            frame, n = _rescore(twin, mine)
            parts.append(frame)
            distinct += n
    scored = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["benchmark", "optimizer", "seed"])
    runs = fin.merge(scored, on=["benchmark", "optimizer", "seed"], how="inner")
    tested = tested if tested is not None else set(zip(runs["benchmark"], runs["optimizer"], strict=True))
    # A boolean array, not a list: an empty list would select no columns of an empty frame.
    in_tests = runs[np.array([k in tested for k in zip(runs["benchmark"], runs["optimizer"], strict=True)], dtype=bool)]
    truth_fin = in_tests.drop(columns=["best_train", "inc_test"]).rename(columns={v: k for k, v in _TRUE.items()})
    truth_wilcoxon = wilcoxon_of_finals(truth_fin)
    true_refs = reference_values({label: spec for label, (spec, _) in twins.items()})
    refs = references.merge(true_refs, on=["benchmark", "reference"], suffixes=("", "_truth"))
    return TruthCheck(
        twins={label: spec for label, (spec, _) in twins.items()},
        runs=runs,
        table=_optimiser_table(runs, tested),
        rankings=_rankings(runs, tested),
        verdicts={b: verdict(b, surrogate_wilcoxon, truth_wilcoxon) for b in sorted(set(runs["benchmark"]))},
        references=refs,
        distinct=distinct,
        seconds=time.perf_counter() - t0,
        notes=notes,
        exact=exact,
    )


# -- Markdown ----------------------------------------------------------------------------------------


def _pm(mean: float, std: float) -> str:
    return f"{mean:.4f} ± {std:.4f}" if np.isfinite(std) else f"{mean:.4f}"


def _rank_pair(a: float, b: float) -> str:
    return f"{a:.2f} / {b:.2f}" if np.isfinite(a) and np.isfinite(b) else "— (not in the tests)"


def _tau_text(r: Any) -> str:
    if not np.isfinite(r["kendall_tau"]):
        return f"{_METRIC_NAMES[r['metric']]} — (undefined: fewer than 2 optimisers or seeds, or all tied)"
    interval = f" [{r['tau_low']:.2f}, {r['tau_high']:.2f}]" if np.isfinite(r["tau_low"]) else ""
    return f"{_METRIC_NAMES[r['metric']]} {r['kendall_tau']:.2f}{interval}"


def _markdown_benchmark(tc: TruthCheck, bench: str) -> list[str]:
    t = tc.table[tc.table["benchmark"] == bench]
    rk = tc.rankings[tc.rankings["benchmark"] == bench]
    lines = [
        f"**{bench}** on `{tc.twins[bench]}`",
        "",
        "| optimizer | train_acc on the truth | surrogate − truth | test_acc on the truth | surrogate − truth | "
        "avg rank train: surrogate / truth | avg rank test: surrogate / truth |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in t.iterrows():
        lines.append(
            f"| {r['optimizer']} | {_pm(r['true_train_acc_mean'], r['true_train_acc_std'])} | "
            f"{r['train_acc_surrogate_minus_truth']:+.4f} | {_pm(r['true_test_acc_mean'], r['true_test_acc_std'])} | "
            f"{r['test_acc_surrogate_minus_truth']:+.4f} | "
            f"{_rank_pair(r['train_acc_rank_surrogate'], r['train_acc_rank_truth'])} | "
            f"{_rank_pair(r['test_acc_rank_surrogate'], r['test_acc_rank_truth'])} |"
        )
    train = rk[rk["metric"] == "best_train"]
    if len(train):
        lines += [
            "",
            f"Ranking by train_acc on the surrogate: {train.iloc[0]['surrogate_ranking']}; "
            f"on the truth: {train.iloc[0]['truth_ranking']}.",
        ]
    lines += [
        "Kendall τ of the rankings (95 % bootstrap interval over seeds): "
        f"{'; '.join(_tau_text(r) for _, r in rk.iterrows())}.",
        "",
        f"**Verdict ({bench})**: {tc.verdicts.get(bench, '—')}",
        "",
    ]
    return lines


def _markdown_references(refs: pd.DataFrame) -> list[str]:
    if not len(refs):
        return []
    lines = [
        "Reference configurations on the surrogate and on the truth:",
        "",
        "| benchmark | configuration | train_acc surrogate | truth | surrogate − truth | "
        "test_acc surrogate | truth | surrogate − truth |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, r in refs.iterrows():
        lines.append(
            f"| {r['benchmark']} | {r['reference']} | {r['train_acc']:.4f} | {r['train_acc_truth']:.4f} | "
            f"{r['train_acc'] - r['train_acc_truth']:+.4f} | {r['test_acc']:.4f} | {r['test_acc_truth']:.4f} | "
            f"{r['test_acc'] - r['test_acc_truth']:+.4f} |"
        )
    return [*lines, ""]


def markdown_truth_check(tc: TruthCheck, benchmarks: list[str]) -> str:
    """The section "Checked on the truth" of ``report.md`` (``benchmarks``: every benchmark of the report)."""
    exact = ", ".join(f"`{b}`" for b in benchmarks if b in tc.exact)
    if benchmarks and all(b in tc.exact for b in benchmarks):
        return "\n".join(["## Checked on the truth", "", _exact_line(exact, every=True)])
    lines = [
        "## Checked on the truth",
        "",
        "The configuration each run returns (its final incumbent) re-scored on the benchmark's exact twin "
        f"({tc.distinct} distinct configuration(s) of {len(tc.runs)} run(s), {tc.seconds:.1f} s). "
        "Surrogate − truth > 0: the surrogate flatters that optimiser's result. Average ranks (1 = best) and "
        "Kendall's τ of the two rankings use the optimisers in the statistical tests; a surrogate difference "
        "holds if the same Wilcoxon test (Holm, 5 %) on the true values is significant in the same direction.",
        "",
    ]
    checked = set(tc.table["benchmark"]) if len(tc.table) else set()
    for bench in sorted(tc.twins):
        if bench in checked:
            lines += _markdown_benchmark(tc, bench)
    lines += _markdown_references(tc.references)
    if exact:
        lines += [_exact_line(exact, every=False), ""]
    without = [b for b in benchmarks if b not in tc.twins and b not in tc.exact]
    if without:
        lines.append(
            f"No exact twin declared for {', '.join(f'`{b}`' for b in without)} (a benchmark declares one with "
            '`meta["truth"]` or the key `"truth"` of its `build_info.json`; docs/compare.md).'
        )
    lines += [f"- {n}" for n in tc.notes]
    return "\n".join(lines) + "\n"


def _exact_line(names: str, *, every: bool) -> str:
    head = "Every benchmark of this grid is an exact objective" if every else f"Exact objectives: {names}"
    return f"{head} (no surrogate): the values above are the truth, so there is nothing to re-score.\n"


def truth_section(
    run_dir: str | Path,
    df: pd.DataFrame,
    surrogate_wilcoxon: pd.DataFrame,
    references: pd.DataFrame,
    specs: dict[str, str],
    tested: pd.DataFrame,
    out: Path,
) -> tuple[str, list[Path]]:
    """Run :func:`check_on_truth` for a report; returns its Markdown section and ``[out/truth_check.csv]``.

    ``tested``: the rows of ``df`` that entered the statistical tests.
    """
    from smm_plugins._io import atomic_write_text

    pairs = set(zip(tested["benchmark"], tested["optimizer"], strict=True))
    tc = check_on_truth(run_dir, df, surrogate_wilcoxon, references, specs, pairs)
    logger.info("truth check: %d configurations re-scored in %.1f s", tc.distinct, tc.seconds)
    path = out / "truth_check.csv"
    atomic_write_text(path, tc.table.to_csv(index=False, float_format="%.6g"))
    return markdown_truth_check(tc, sorted(specs)), [path]
