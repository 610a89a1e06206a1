"""Ranks across benchmarks: does an optimiser's advantage generalise beyond one task?

The protocol of CARP-S and hposuite (Demšar 2006), with each benchmark one block: an optimiser's value on a
benchmark is the median over seeds of its final value; the optimisers are ranked on every benchmark (rank 1 =
highest median, since the report's objectives are accuracies; ties get the average rank), the ranks are averaged
over benchmarks, the Friedman test asks whether any optimiser differs, and if it does, the Nemenyi critical
difference separates the optimisers: two whose average ranks differ by at least CD differ at ``alpha``.

Every function here works on a tidy table of final values (columns ``benchmark``, ``optimizer``, ``seed``,
``final``; one row per finished run). What cannot enter the test is said, not dropped silently:

* a benchmark on which a ranked optimiser has no finished run is left out of the ranks and the test;
* an optimiser whose runs repeat another's (an alias, :mod:`~smm_plugins.compare.replicates`) counts one
  optimiser twice: on a benchmark where it does, the benchmark is left out; an optimiser that does so on every
  benchmark it ran is left out instead;
* an optimiser whose seeds gave identical runs (it ignores its seed) stays in: here each benchmark is one
  block, and its median is the value of its one repeated run (a note names it);
* with fewer than :data:`MIN_BENCHMARKS` benchmarks or :data:`MIN_OPTIMIZERS` optimisers, no test.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from smm_plugins.compare.replicates import IdenticalRuns
from smm_plugins.compare.stats import (
    ALPHA,
    METRICS,
    CriticalDifference,
    average_ranks,
    block_ranks,
    friedman,
    not_significant_groups,
)

__all__ = [
    "COLUMNS",
    "MIN_BENCHMARKS",
    "MIN_OPTIMIZERS",
    "AcrossBenchmarks",
    "across_benchmarks",
    "across_summary",
    "across_table",
    "benchmark_medians",
    "markdown_across",
    "nemenyi_critical_difference",
]

#: Columns of the tidy table of final values every function here takes.
COLUMNS = ("benchmark", "optimizer", "seed", "final")

#: Fewest benchmarks (blocks) and optimisers of a Friedman test across benchmarks.
MIN_BENCHMARKS = 3
MIN_OPTIMIZERS = 3

#: Benchmarks up to which the Friedman p-value (a chi-square approximation) is rough (scipy: reliable for n > 10).
APPROXIMATE_UP_TO = 10

#: Label of the across-benchmark analysis in a :class:`CriticalDifference` (and its diagram's file name).
LABEL = "across benchmarks"


def _check_columns(finals: pd.DataFrame) -> None:
    missing = [c for c in COLUMNS if c not in finals.columns]
    if missing:
        raise ValueError(f"finals lacks column(s) {missing}: it has {list(finals.columns)}, needs {list(COLUMNS)}")


def benchmark_medians(finals: pd.DataFrame) -> pd.DataFrame:
    """Benchmarks (rows) x optimisers (columns): median over seeds of the final value; NaN where none finished."""
    _check_columns(finals)
    done = finals.dropna(subset=["final"])
    wide = done.pivot_table(index="benchmark", columns="optimizer", values="final", aggfunc="median")
    everyone = sorted(finals["optimizer"].unique())
    return wide.reindex(index=sorted(finals["benchmark"].unique()), columns=everyone).astype(float)


def nemenyi_critical_difference(n_optimizers: int, n_benchmarks: int, alpha: float = ALPHA) -> float:
    """Nemenyi critical difference in rank units: ``q_alpha * sqrt(k (k + 1) / (6 N))`` (Demšar 2006, eq. 5).

    ``q_alpha``: the studentized range quantile (k groups, infinite degrees of freedom) over sqrt(2);
    ``n_optimizers`` k >= 2, ``n_benchmarks`` N >= 1, ``alpha`` in (0, 1).
    """
    from scipy.stats import studentized_range

    if n_optimizers < 2 or n_benchmarks < 1:
        raise ValueError(
            f"n_optimizers={n_optimizers}, n_benchmarks={n_benchmarks}: the critical difference needs >= 2 "
            "optimisers and >= 1 benchmark"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha}: must be in (0, 1)")
    k = n_optimizers
    q = float(studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    return q * math.sqrt(k * (k + 1) / (6.0 * n_benchmarks))


@dataclass(frozen=True)
class AcrossBenchmarks:
    """The rank analysis of one metric across benchmarks (:func:`across_benchmarks`)."""

    metric: str
    medians: pd.DataFrame  # benchmark x optimiser: median over seeds of the final value (every one of the grid)
    seeds: pd.DataFrame  # benchmark x optimiser: finished runs
    ranks: pd.DataFrame  # benchmark in the test x ranked optimiser: rank (1 = best median, ties averaged)
    average_ranks: dict[str, float]  # ranked optimiser -> average rank over the benchmarks in the test, best first
    left_out: dict[str, str]  # benchmark -> why it is not in the ranks and the test
    dropped: dict[str, str]  # optimiser -> why it is not ranked
    notes: list[str]
    friedman_statistic: float
    friedman_p: float
    critical_difference: float  # Nemenyi, rank units (NaN without a test)
    groups: list[tuple[str, ...]]  # optimisers not significantly different (consecutive in rank order)
    untested: str = ""  # why the Friedman test did not run ("" when it ran)
    alpha: float = ALPHA
    first: dict[str, int] = field(default_factory=dict)  # optimiser -> benchmarks where its rank is 1

    @property
    def used(self) -> list[str]:
        """The benchmarks in the ranks and the test."""
        return [str(b) for b in self.ranks.index]

    @property
    def significant(self) -> bool:
        """True if the Friedman test rejects "all optimisers perform alike across benchmarks" at ``alpha``."""
        return math.isfinite(self.friedman_p) and self.friedman_p < self.alpha

    def diagram(self) -> CriticalDifference | None:
        """What the critical-difference diagram shows (None when the test did not run)."""
        if self.untested:
            return None
        return CriticalDifference(
            benchmark=LABEL,
            metric=self.metric,
            n_seeds=len(self.used),
            ranks=self.average_ranks,
            friedman_statistic=self.friedman_statistic,
            friedman_p=self.friedman_p,
            groups=self.groups,
            alpha=self.alpha,
            blocks="benchmarks",
            critical_difference=self.critical_difference,
        )


def _left_out(medians: pd.DataFrame, identical: IdenticalRuns) -> tuple[list[str], dict[str, str], dict[str, str]]:
    # Ranked optimisers, benchmark -> why left out, optimiser -> why not ranked.
    dropped = {}
    for opt in medians.columns:
        ran = [b for b in medians.index if math.isfinite(medians.at[b, opt])]
        twins = sorted({identical.same_as[(b, opt)] for b in ran if (b, opt) in identical.same_as})
        if ran and all((b, opt) in identical.same_as for b in ran):
            others = ", ".join(f"`{o}`" for o in twins)
            dropped[str(opt)] = f"its runs repeat those of {others} on every benchmark (one optimiser counted twice)"
    kept = [str(o) for o in medians.columns if o not in dropped]
    left_out = {}
    for bench in medians.index:
        missing = [o for o in kept if not math.isfinite(medians.at[bench, o])]
        aliases = [o for o in kept if (bench, o) in identical.same_as]
        why = [f"no finished run of `{o}`" for o in missing]
        why += [f"the runs of `{o}` repeat those of `{identical.same_as[(bench, o)]}`" for o in aliases]
        if why:
            left_out[str(bench)] = "; ".join(why)
    return kept, left_out, dropped


def _seed_notes(identical: IdenticalRuns, kept: list[str], used: list[str]) -> list[str]:
    by_opt: dict[str, list[str]] = {}
    for bench, opt in sorted(identical.same_seeds):
        if opt in kept and bench in used:
            by_opt.setdefault(opt, []).append(bench)
    return [
        f"`{opt}` gave identical runs on several seeds of {', '.join(benches)}: there its median is the value of "
        "a repeated run, not of independent ones. It stays in the ranks: here each benchmark, not each seed, is "
        "one block."
        for opt, benches in by_opt.items()
    ]


def _untested(n_grid: int, n_used: int, n_kept: int) -> str:
    if n_grid < MIN_BENCHMARKS:
        return f"the grid has {n_grid} benchmark(s); a test across benchmarks needs {MIN_BENCHMARKS} or more"
    if n_used < MIN_BENCHMARKS:
        return (
            f"only {n_used} benchmark(s) have a finished run of every ranked optimiser; the test needs "
            f"{MIN_BENCHMARKS} or more"
        )
    if n_kept < MIN_OPTIMIZERS:
        return (
            f"{n_kept} optimiser(s) ranked; the Friedman test needs {MIN_OPTIMIZERS} or more (two optimisers: "
            "see their Wilcoxon tests per benchmark)"
        )
    return ""


def across_benchmarks(
    finals: pd.DataFrame,
    metric: str = "best_train",
    *,
    identical: IdenticalRuns | None = None,
    alpha: float = ALPHA,
) -> AcrossBenchmarks:
    """Average ranks over benchmarks, Friedman test and Nemenyi groups of the final values in ``finals``.

    ``finals``: one row per finished run (:data:`COLUMNS`; ``final`` higher = better); ``metric`` names the
    value (a key of :data:`~smm_plugins.compare.stats.METRICS`); ``identical``: the grid's identical runs
    (:func:`~smm_plugins.compare.replicates.find_identical_runs`), whose aliases are left out (module docstring).
    """
    if metric not in METRICS:
        raise ValueError(f"metric={metric!r}: must be one of {sorted(METRICS)}")
    identical = identical if identical is not None else IdenticalRuns()
    medians = benchmark_medians(finals)
    seeds = finals.dropna(subset=["final"]).pivot_table(
        index="benchmark", columns="optimizer", values="seed", aggfunc="nunique"
    )
    seeds = seeds.reindex(index=medians.index, columns=medians.columns).fillna(0).astype(int)
    kept, left_out, dropped = _left_out(medians, identical)
    used = [str(b) for b in medians.index if b not in left_out]
    ranks = block_ranks(medians.loc[used, kept])
    average = average_ranks(medians.loc[used, kept]).sort_values(kind="stable")
    untested = _untested(len(medians.index), len(used), len(kept))
    notes = _seed_notes(identical, kept, used)
    stat = p = cd = math.nan
    groups: list[tuple[str, ...]] = []
    if not untested:
        stat, p = friedman(medians.loc[used, kept])
        cd = nemenyi_critical_difference(len(kept), len(used), alpha)
        order = [str(o) for o in average.index]
        different = set()
        if p < alpha:
            different = {
                frozenset((a, b)) for a, b in itertools.combinations(order, 2) if abs(average[a] - average[b]) >= cd
            }
        groups = not_significant_groups(order, different)
        if len(used) <= APPROXIMATE_UP_TO:
            notes.append(
                f"With {len(used)} benchmarks the Friedman p-value (a chi-square approximation) is rough; "
                f"it is reliable from {APPROXIMATE_UP_TO + 1} benchmarks on."
            )
    return AcrossBenchmarks(
        metric=metric,
        medians=medians,
        seeds=seeds,
        ranks=ranks,
        average_ranks={str(o): float(r) for o, r in average.items()},
        left_out=left_out,
        dropped=dropped,
        notes=notes,
        friedman_statistic=stat,
        friedman_p=p,
        critical_difference=cd,
        groups=groups,
        untested=untested,
        alpha=alpha,
        first={str(o): int((ranks[o] == 1.0).sum()) for o in ranks.columns},
    )


def across_table(results: Sequence[AcrossBenchmarks]) -> pd.DataFrame:
    """Per metric, benchmark and optimiser: finished runs, median final value, rank and why it is not ranked."""
    rows = []
    for r in results:
        for bench in r.medians.index:
            for opt in r.medians.columns:
                ranked = bench in r.ranks.index and opt in r.ranks.columns
                why = r.dropped.get(opt) or r.left_out.get(bench, "")
                rows.append(
                    {
                        "metric": r.metric,
                        "benchmark": bench,
                        "optimizer": opt,
                        "seeds": int(r.seeds.at[bench, opt]),
                        "median": float(r.medians.at[bench, opt]),
                        "rank": float(r.ranks.at[bench, opt]) if ranked else math.nan,
                        "left_out": why,
                    }
                )
    return pd.DataFrame(rows, columns=["metric", "benchmark", "optimizer", "seeds", "median", "rank", "left_out"])


def across_summary(results: Sequence[AcrossBenchmarks]) -> pd.DataFrame:
    """Per metric and optimiser (best first): average rank, benchmarks ranked first, the test and its groups."""
    rows = []
    for r in results:
        for opt in [*r.average_ranks, *r.dropped]:
            rows.append(
                {
                    "metric": r.metric,
                    "optimizer": opt,
                    "average_rank": r.average_ranks.get(opt, math.nan),
                    "benchmarks": len(r.used) if opt in r.average_ranks else 0,
                    "ranked_first": r.first.get(opt, 0),
                    "friedman_statistic": r.friedman_statistic,
                    "friedman_p": r.friedman_p,
                    "critical_difference": r.critical_difference,
                    "not_significantly_different_from": " | ".join(
                        ", ".join(o for o in g if o != opt) for g in r.groups if opt in g
                    ),
                    "left_out": r.dropped.get(opt, ""),
                }
            )
    columns = [
        "metric",
        "optimizer",
        "average_rank",
        "benchmarks",
        "ranked_first",
        "friedman_statistic",
        "friedman_p",
        "critical_difference",
        "not_significantly_different_from",
        "left_out",
    ]
    return pd.DataFrame(rows, columns=columns)


def _markdown_ranks(results: Sequence[AcrossBenchmarks]) -> list[str]:
    head = " | ".join(f"average rank: {METRICS[r.metric]}" for r in results)
    lines = [
        f"| optimizer | {head} | ranked first: {METRICS[results[0].metric]} |",
        "|---|" + "---|" * len(results) + "---|",
    ]
    main = results[0]
    for opt in [*main.average_ranks, *main.dropped]:
        cells = " | ".join(f"{r.average_ranks[opt]:.2f}" if opt in r.average_ranks else "—" for r in results)
        first = f"{main.first[opt]} of {len(main.used)}" if opt in main.first else "—"
        lines.append(f"| {opt} | {cells} | {first} |")
    return lines


def _markdown_tests(results: Sequence[AcrossBenchmarks]) -> list[str]:
    lines = [
        "| metric | benchmarks | Friedman χ² | Friedman p | Nemenyi CD | not significantly different |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.untested:
            lines.append(f"| {METRICS[r.metric]} | {len(r.used)} | — | — | — | no test: {r.untested} |")
            continue
        groups = "; ".join(", ".join(g) for g in r.groups) or "none: every pair differs"
        if not r.significant:
            groups = f"all (the Friedman test does not reject at {r.alpha:g})"
        lines.append(
            f"| {METRICS[r.metric]} | {len(r.used)} | {r.friedman_statistic:.2f} | {r.friedman_p:.3g} | "
            f"{r.critical_difference:.2f} | {groups} |"
        )
    return lines


def markdown_across(results: Sequence[AcrossBenchmarks], diagrams: Sequence[str] = ()) -> str:
    """The report's section "Across benchmarks" of ``results`` (one per metric; ``diagrams``: PNG file names)."""
    if not results:
        return ""
    main = results[0]
    n_grid = len(main.medians.index)
    lines = [
        "## Across benchmarks",
        "",
        f"Does an advantage generalise over the grid's {n_grid} benchmarks? Each benchmark counts once: an "
        "optimiser's value on it is the median over seeds of its final value, ranked among the optimisers (1 = "
        "best, ties averaged) and averaged over the benchmarks. Friedman test over benchmarks (each one a block), "
        "then the Nemenyi critical difference (Demšar 2006): average ranks at least CD apart differ at "
        f"{main.alpha:g}. Each benchmark's medians and ranks: `across_benchmarks.csv`; this table: "
        "`across_ranks.csv`.",
        "",
        *(f"![critical-difference diagram across benchmarks]({d})\n" for d in diagrams),
        *_markdown_ranks(results),
        "",
        *_markdown_tests(results),
        "",
    ]
    if main.left_out or main.dropped:
        lines += [f"**Left out of the ranks and the test** ({len(main.used)} of {n_grid} benchmarks remain):", ""]
        lines += [f"- benchmark **{b}**: {why}." for b, why in main.left_out.items()]
        lines += [f"- optimiser `{o}`: {why}." for o, why in main.dropped.items()]
        lines.append("")
    notes = list(dict.fromkeys(n for r in results for n in r.notes))
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines).rstrip("\n") + "\n"
