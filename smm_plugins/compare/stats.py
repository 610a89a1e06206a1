"""Statistics of a comparison's final values: average ranks, Friedman test, pairwise Wilcoxon + Holm, groups.

The protocol of HPO benchmark papers (Demšar 2006; Benavoli et al. 2016): rank the optimisers on every seed
(rank 1 = best final value, ties averaged), average the ranks, test whether any optimiser differs with the
Friedman test, and if it does, compare every pair with a two-sided Wilcoxon signed-rank test, paired by seed,
Holm-corrected within the benchmark and metric. Optimisers whose pairs are not significantly different form
the groups that a critical-difference diagram joins with a bar.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "METRICS",
    "CriticalDifference",
    "average_ranks",
    "block_ranks",
    "critical_differences",
    "final_values",
    "friedman",
    "holm",
    "not_significant_groups",
    "pairwise_wilcoxon",
    "wide_finals",
    "wilcoxon_of_finals",
]

#: Final values compared: the best train_acc found, and the test_acc of that incumbent.
METRICS = {"best_train": "best train_acc so far", "inc_test": "test_acc of the incumbent"}

#: Significance level of the Friedman test and of the Holm-adjusted pairwise tests.
ALPHA = 0.05


def final_values(df: pd.DataFrame) -> pd.DataFrame:
    """Last row of each (benchmark, optimiser, seed) run of an :func:`~.report.incumbent_curves` frame."""
    last = df.groupby(["benchmark", "optimizer", "seed"], sort=True).tail(1)
    return last[["benchmark", "optimizer", "seed", "trial", "best_train", "inc_test", "sim_time", "wall_time"]]


def wide_finals(fin: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seeds x optimisers table of one metric of one benchmark's final values (NaN where a run is missing)."""
    return fin.pivot(index="seed", columns="optimizer", values=metric)


def block_ranks(wide: pd.DataFrame) -> pd.DataFrame:
    """Rank of each optimiser (column) in each block (row: a seed, or a benchmark) that every optimiser finished.

    Rank 1 = highest value in the block; ties get the average of the ranks they span (``scipy.stats.rankdata``).
    """
    from scipy.stats import rankdata

    complete = wide.dropna()
    ranks = rankdata(-complete.to_numpy(), axis=1) if len(complete) else np.empty((0, wide.shape[1]))
    return pd.DataFrame(ranks, index=complete.index, columns=wide.columns, dtype=float)


def average_ranks(wide: pd.DataFrame) -> pd.Series:
    """Average rank of each optimiser (column) over the seeds (rows) every optimiser finished.

    Rank 1 = highest value on a seed; ties get the average of the ranks they span. NaN if no seed is complete.
    """
    ranks = block_ranks(wide)
    if not len(ranks):
        return pd.Series(np.nan, index=wide.columns, dtype=float)
    return pd.Series(ranks.to_numpy().mean(axis=0), index=wide.columns, dtype=float)


def friedman(wide: pd.DataFrame) -> tuple[float, float]:
    """Friedman chi-square statistic and p-value over the complete seeds (``nan`` with < 3 optimisers or < 2 seeds).

    ``scipy.stats.friedmanchisquare`` with the tie correction; each seed is a block.
    """
    from scipy.stats import friedmanchisquare

    complete = wide.dropna()
    if complete.shape[1] < 3 or complete.shape[0] < 2:
        return float("nan"), float("nan")
    values = complete.to_numpy()
    if np.all(values == values[:, :1]):  # every optimiser tied on every seed: no evidence of a difference
        return 0.0, 1.0
    res = friedmanchisquare(*values.T)
    return float(res.statistic), float(res.pvalue)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as ``p``, monotone, capped at 1)."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        adj[i] = running
    return adj


_WILCOXON_COLUMNS = [
    "benchmark",
    "metric",
    "a",
    "b",
    "n",
    "median_diff",
    "wins_a",
    "wins_b",
    "statistic",
    "p_value",
    "p_holm",
]


def _wilcoxon_pair(wide: pd.DataFrame, a: str, b: str) -> dict[str, float | int] | None:
    from scipy.stats import wilcoxon

    pair = wide[[a, b]].dropna()
    d = (pair[a] - pair[b]).to_numpy()
    if len(d) == 0:
        return None
    if np.all(d == 0):
        stat, p = float("nan"), 1.0  # identical results: no evidence of a difference
    else:
        res = wilcoxon(pair[a], pair[b], alternative="two-sided", zero_method="wilcox")
        stat, p = float(res.statistic), float(res.pvalue)
    return {
        "n": int(len(d)),
        "median_diff": float(np.median(d)),
        "wins_a": int((d > 0).sum()),
        "wins_b": int((d < 0).sum()),
        "statistic": stat,
        "p_value": p,
    }


def pairwise_wilcoxon(df: pd.DataFrame) -> pd.DataFrame:
    """Two-sided Wilcoxon signed-rank test of each optimiser pair, paired by seed, per benchmark and metric.

    ``p_holm``: Holm-adjusted within each benchmark and metric. ``df``: an incumbent-curves frame.
    """
    return wilcoxon_of_finals(final_values(df))


def wilcoxon_of_finals(fin: pd.DataFrame) -> pd.DataFrame:
    """:func:`pairwise_wilcoxon` of final values (one row per run: benchmark, optimizer, seed and the metrics)."""
    rows = []
    for bench, g in fin.groupby("benchmark", sort=True):
        for metric in METRICS:
            wide = wide_finals(g, metric)
            block = []
            for a, b in itertools.combinations(sorted(wide.columns), 2):
                res = _wilcoxon_pair(wide, a, b)
                if res is not None:
                    block.append({"benchmark": bench, "metric": metric, "a": a, "b": b, **res})
            if block:
                adj = holm(np.array([r["p_value"] for r in block]))
                for r, pa in zip(block, adj, strict=True):
                    r["p_holm"] = float(pa)
                rows.extend(block)
    return pd.DataFrame(rows, columns=_WILCOXON_COLUMNS)


def not_significant_groups(order: list[str], different: set[frozenset[str]]) -> list[tuple[str, ...]]:
    """Maximal runs of consecutive optimisers (in rank ``order``) with no significantly different pair.

    ``different``: the pairs that differ significantly. Runs of one optimiser and runs inside a longer run
    are left out: what remains are the bars of a critical-difference diagram.
    """
    spans: list[tuple[int, int]] = []
    for i in range(len(order)):
        j = i
        while j + 1 < len(order) and all(frozenset((order[k], order[j + 1])) not in different for k in range(i, j + 1)):
            j += 1
        if j > i and not any(s <= i and j <= e for s, e in spans):
            spans.append((i, j))
    return [tuple(order[s : e + 1]) for s, e in spans]


@dataclass(frozen=True)
class CriticalDifference:
    """The rank analysis of one benchmark (or across benchmarks) and metric: what a CD diagram shows."""

    benchmark: str
    metric: str
    n_seeds: int  # blocks every optimiser finished: seeds (or benchmarks, see ``blocks``)
    ranks: dict[str, float]  # optimiser -> average rank, best first
    friedman_statistic: float
    friedman_p: float
    groups: list[tuple[str, ...]]  # optimisers joined by a bar (not significantly different)
    alpha: float = ALPHA
    blocks: str = "seeds"  # what the Friedman test's blocks are (``n_seeds`` counts them): seeds or benchmarks
    critical_difference: float = math.nan  # Nemenyi CD in rank units; NaN: the post-hoc test is Wilcoxon + Holm

    @property
    def significant(self) -> bool:
        """True if the Friedman test rejects "all optimisers perform alike" at ``alpha``."""
        return math.isfinite(self.friedman_p) and self.friedman_p < self.alpha


def critical_differences(df: pd.DataFrame, wilcoxon: pd.DataFrame, alpha: float = ALPHA) -> list[CriticalDifference]:
    """Average ranks, Friedman test and not-significantly-different groups per benchmark and metric.

    ``wilcoxon``: :func:`pairwise_wilcoxon` of the same frame (the post-hoc test). With two optimisers the
    Friedman test is not defined and the Wilcoxon test alone decides. If the Friedman test does not reject,
    all optimisers form one group, whatever the pairwise tests say.
    """
    out = []
    fin = final_values(df)
    for bench, g in fin.groupby("benchmark", sort=True):
        for metric in METRICS:
            wide = wide_finals(g, metric)
            ranks = average_ranks(wide).sort_values(kind="stable")
            stat, p = friedman(wide)
            w = wilcoxon[(wilcoxon["benchmark"] == bench) & (wilcoxon["metric"] == metric)]
            different = {frozenset((r.a, r.b)) for r in w.itertuples() if r.p_holm < alpha}
            if math.isfinite(p) and p >= alpha:
                different = set()
            order = [str(o) for o in ranks.index]
            out.append(
                CriticalDifference(
                    benchmark=str(bench),
                    metric=metric,
                    n_seeds=int(len(wide.dropna())),
                    ranks={str(k): float(v) for k, v in ranks.items()},
                    friedman_statistic=stat,
                    friedman_p=p,
                    groups=not_significant_groups(order, different),
                    alpha=alpha,
                )
            )
    return out
