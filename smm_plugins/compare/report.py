"""Report of a comparison directory: anytime curves, final table, rank analysis, pairwise tests.

``make_report(DIR)`` reads ``DIR/runs/*.parquet`` and writes into ``DIR/report/``:

* ``curves_evaluations.png`` / ``curves_simulated_time.png``: best ``train_acc`` so far and the
  ``test_acc`` of the incumbent (the best configuration so far by ``train_acc``), median over seeds with
  the inter-quartile band, against evaluations and against simulated wall-clock, with grey reference lines
  at the source models, the base model and the default configuration (:mod:`smm_plugins.references`);
* ``cd_<benchmark>.png``: critical-difference diagrams of the final values (average ranks, Friedman test,
  Holm-corrected pairwise Wilcoxon tests; :mod:`smm_plugins.compare.stats`);
* with 3 or more benchmarks, ``cd_across-benchmarks.png``, ``across_benchmarks.csv`` and ``across_ranks.csv``:
  the ranks of each benchmark's median final values averaged over benchmarks, the Friedman test over benchmarks
  and the Nemenyi critical difference (:mod:`smm_plugins.compare.across`);
* ``final_table.csv``: per benchmark and optimiser, mean / std / median of the final values over seeds,
  the mean gain over random search on the same seeds, and the average rank per benchmark (rank 1 =
  best final ``train_acc`` on a seed, ties averaged);
* ``friedman.csv``: per benchmark and metric, the Friedman test, the ranking and the groups of optimisers
  that are not significantly different;
* ``wilcoxon.csv``: two-sided Wilcoxon signed-rank tests of every pair of optimisers on the final values,
  paired by seed, with Holm-adjusted p-values per benchmark and metric;
* ``references.csv``: train_acc and test_acc of each benchmark's reference configurations;
* ``curves.csv``: the median / quartiles plotted against evaluations;
* ``report.md``: all of the above in one Markdown page.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smm_plugins._deps import require
from smm_plugins._io import atomic_save_png, atomic_write_text
from smm_plugins.compare.across import MIN_BENCHMARKS, across_benchmarks, across_summary, across_table, markdown_across
from smm_plugins.compare.provenance import markdown_sources
from smm_plugins.compare.reference_lines import draw_references, mark_off_range
from smm_plugins.compare.replicates import IdenticalRuns, find_identical_runs
from smm_plugins.compare.stats import (
    METRICS,
    CriticalDifference,
    average_ranks,
    critical_differences,
    final_values,
    holm,
    pairwise_wilcoxon,
    wide_finals,
)
from smm_plugins.compare.truth_check import truth_section

__all__ = [
    "make_report",
    "ReportResult",
    "incumbent_curves",
    "final_table",
    "pairwise_wilcoxon",
    "reference_values",
]

logger = logging.getLogger(__name__)

# Kept under its former private name for callers of the report module.
_holm = holm


@dataclass
class ReportResult:
    """Paths written by :func:`make_report` and the final table."""

    out: Path
    markdown: Path
    pngs: list[Path]
    csvs: list[Path]
    table: Any  # pandas.DataFrame


# -- computations -----------------------------------------------------------------------------------


def incumbent_curves(df: Any) -> Any:
    """Add ``best_train`` (running max of ``value``) and ``inc_test`` (``test_acc`` of the incumbent).

    The incumbent changes only on a strict improvement, so ties keep the earlier configuration.
    """
    df = df.sort_values(["benchmark", "optimizer", "seed", "trial"], kind="stable").reset_index(drop=True)
    best = np.empty(len(df))
    inc = np.empty(len(df))
    for _, idx in df.groupby(["benchmark", "optimizer", "seed"], sort=False).indices.items():
        v = df["value"].to_numpy()[idx]
        t = df["test_acc"].to_numpy()[idx]
        running = np.maximum.accumulate(v)
        improved = np.r_[True, v[1:] > running[:-1]]
        pos = np.maximum.accumulate(np.where(improved, np.arange(len(v)), 0))
        best[idx] = running
        inc[idx] = t[pos]
    df["best_train"] = best
    df["inc_test"] = inc
    return df


#: Optimiser the final table measures gains against ("by how much"), when it is in the comparison.
BASELINE = "random"


def final_table(df: Any, baseline: str = BASELINE) -> Any:
    """Per benchmark x optimiser: final best train_acc and incumbent test_acc over seeds, average rank.

    ``train_gain`` / ``test_gain``: mean over shared seeds of (optimiser - ``baseline``), if the baseline ran.
    """
    fin = final_values(df)
    rows = []
    for bench, g in fin.groupby("benchmark", sort=True):
        wide = wide_finals(g, "best_train")
        ranks = average_ranks(wide)  # only on seeds every optimiser finished
        wide_test = wide_finals(g, "inc_test")

        def gain(w: Any, opt: str) -> float:
            if baseline not in w.columns:
                return float("nan")
            if opt == baseline:
                return 0.0
            pair = w[[opt, baseline]].dropna()
            return float((pair[opt] - pair[baseline]).mean()) if len(pair) else float("nan")

        for opt, h in g.groupby("optimizer", sort=True):
            rows.append(
                {
                    "benchmark": bench,
                    "optimizer": opt,
                    "seeds": int(len(h)),
                    "evaluations": int(h["trial"].max()) + 1,
                    "train_mean": float(h["best_train"].mean()),
                    "train_std": float(h["best_train"].std(ddof=1)) if len(h) > 1 else float("nan"),
                    "train_median": float(h["best_train"].median()),
                    "test_mean": float(h["inc_test"].mean()),
                    "test_std": float(h["inc_test"].std(ddof=1)) if len(h) > 1 else float("nan"),
                    "test_median": float(h["inc_test"].median()),
                    "train_gain": gain(wide, opt),
                    "test_gain": gain(wide_test, opt),
                    "avg_rank": float(ranks[opt]),
                    "sim_seconds": float(h["sim_time"].mean()),
                    "wall_seconds": float(h["wall_time"].mean()),
                }
            )
    table = pd.DataFrame(rows)
    if len(table):
        table = table.sort_values(["benchmark", "avg_rank", "optimizer"]).reset_index(drop=True)
    return table


def _quantiles(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"), _nan_warnings_off():
        q25, med, q75 = np.nanpercentile(mat, [25, 50, 75], axis=0)
    return med, q25, q75


class _nan_warnings_off:
    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


def _by_evaluations(g: Any, metric: str) -> np.ndarray:
    # seeds x evaluations; a shorter run (should not happen within one experiment) is padded with its last value
    runs = [h[metric].to_numpy() for _, h in g.groupby("seed", sort=True)]
    n = max(len(r) for r in runs)
    return np.vstack([np.r_[r, np.full(n - len(r), r[-1])] for r in runs])


def _by_time(g: Any, metric: str, grid: np.ndarray) -> np.ndarray:
    # Step function of each seed's curve on a common simulated-time grid (NaN before its first result).
    out = np.full((g["seed"].nunique(), len(grid)), np.nan)
    for i, (_, h) in enumerate(g.groupby("seed", sort=True)):
        t = h["sim_time"].to_numpy()
        v = h[metric].to_numpy()
        k = np.searchsorted(t, grid, side="right") - 1
        ok = k >= 0
        out[i, ok] = v[k[ok]]
    return out


def curves_table(df: Any) -> Any:
    """Median and quartiles over seeds of both metrics at every evaluation (long format)."""
    parts = []
    for (bench, opt), g in df.groupby(["benchmark", "optimizer"], sort=True):
        cols: dict[str, Any] = {}
        for metric in METRICS:
            med, q25, q75 = _quantiles(_by_evaluations(g, metric))
            cols.update({f"{metric}_median": med, f"{metric}_q25": q25, f"{metric}_q75": q75})
        n = len(cols["best_train_median"])
        parts.append(pd.DataFrame({"benchmark": bench, "optimizer": opt, "evaluation": np.arange(1, n + 1), **cols}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


# -- reference configurations ----------------------------------------------------------------------------


def reference_values(benchmarks: dict[str, str]) -> pd.DataFrame:
    """train_acc and test_acc of each benchmark's reference configurations (what a user gets without optimising).

    ``benchmarks``: ``{label: spec}`` (a registered name, a directory or ``"module:factory"``). References are
    :meth:`smm_plugins.Benchmark.reference_configs` (the space's and the benchmark's own, e.g. the lab's "QP
    merge"); labels of equal configurations are joined
    (``"A alone = default"``). A benchmark that cannot be loaded here is left out with a warning.
    """
    from smm_plugins.registry import load_benchmark

    rows = []
    for label, spec in benchmarks.items():
        try:
            bench = load_benchmark(spec)  # a name, a directory or "module:factory"
            refs = bench.reference_configs()
        except Exception as exc:  # noqa: BLE001 - the report goes on without this benchmark's reference lines
            logger.warning("no reference lines for benchmark %r (%s): %s", label, spec, exc)
            continue
        names: list[str] = []
        vectors: list[np.ndarray] = []
        for name, x in refs.items():
            same = [i for i, v in enumerate(vectors) if np.array_equal(v, x)]
            if same:
                names[same[0]] += f" = {name}"
            else:
                names.append(name)
                vectors.append(x)
        X = np.stack(vectors)
        train = np.asarray(bench.evaluate(X, "train_acc"))
        test = np.asarray(bench.evaluate(X, "test_acc"))
        for name, tr, te in zip(names, train, test, strict=True):
            rows.append({"benchmark": label, "reference": name, "train_acc": float(tr), "test_acc": float(te)})
    return pd.DataFrame(rows, columns=["benchmark", "reference", "train_acc", "test_acc"])


def _benchmark_specs(run_dir: Path, labels: list[str]) -> dict[str, str]:
    # The saved experiment says how each benchmark column was loaded (a name, a directory, a factory).
    from smm_plugins.compare.experiment import read_saved_experiment
    from smm_plugins.compare.runner import benchmark_label

    saved = read_saved_experiment(run_dir)
    by_label = {benchmark_label(s): s for s in saved[0].benchmarks} if saved is not None else {}
    return {label: by_label.get(label, label) for label in labels}


# -- plots -------------------------------------------------------------------------------------------


def _time_unit(seconds: float) -> tuple[str, float]:
    # Cost models range from milliseconds (the lab) to days (a 7B merge): label the axis readably.
    for unit, scale in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0), ("seconds", 1.0)):
        if seconds >= 2 * scale:
            return unit, scale
    return "seconds", 1.0


def _colors(optimizers: list[str]) -> dict[str, Any]:
    cmap = _pyplot().get_cmap("tab10")
    return {o: cmap(i % 10) for i, o in enumerate(optimizers)}


def _pyplot() -> Any:
    matplotlib = require("matplotlib", "report", who="smm-bench report")
    matplotlib.use("Agg")
    return require("matplotlib.pyplot", "report", who="smm-bench report")


def _curve_panel(
    ax: Any, gb: pd.DataFrame, metric: str, xgrid: tuple[str, Any, float], opts: list[str], colors: dict[str, Any]
) -> tuple[float, float]:
    # Median and inter-quartile band of each optimiser; returns the y range worth showing.
    x, grid, scale = xgrid
    lows, highs = [], []
    for opt in opts:
        g = gb[gb["optimizer"] == opt]
        if not len(g):
            continue
        if x == "time":
            mat = _by_time(g, metric, grid)
            xs = grid / scale
        else:
            mat = _by_evaluations(g, metric)
            xs = np.arange(1, mat.shape[1] + 1)
        med, q25, q75 = _quantiles(mat)
        ax.plot(xs, med, color=colors[opt], lw=1.6, label=f"{opt} (n={mat.shape[0]})")
        ax.fill_between(xs, q25, q75, color=colors[opt], alpha=0.18, lw=0)
        # Zoom past the first few percent of the budget: the start is every optimiser's random init.
        k0 = max(1, len(xs) // 20)
        lows.append(np.nanmin(q25[k0:]) if np.isfinite(q25[k0:]).any() else np.nan)
        highs.append(np.nanmax(q75[k0:]) if np.isfinite(q75[k0:]).any() else np.nan)
    lo = float(np.nanmin(lows)) if lows and np.isfinite(lows).any() else float("nan")
    hi = float(np.nanmax(highs)) if highs and np.isfinite(highs).any() else float("nan")
    return lo, hi


def _plot(df: pd.DataFrame, x: str, path: Path, order: dict[str, list[str]], refs: pd.DataFrame) -> None:
    plt = _pyplot()
    benches = sorted(df["benchmark"].unique())
    all_opts = sorted(df["optimizer"].unique())
    colors = _colors(all_opts)
    fig, axes = plt.subplots(len(benches), 2, figsize=(12, 3.9 * len(benches)), squeeze=False)
    for r, bench in enumerate(benches):
        gb = df[df["benchmark"] == bench]
        grid, unit, scale = None, "evaluations", 1.0
        if x == "time":
            tmax = gb.groupby(["optimizer", "seed"])["sim_time"].max().min()  # every run reaches this time
            grid = np.linspace(gb["sim_time"].min(), tmax, 400)
            unit, scale = _time_unit(float(tmax))
        for c, metric in enumerate(METRICS):
            ax = axes[r, c]
            lo, hi = _curve_panel(ax, gb, metric, (x, grid, scale), order.get(bench, all_opts), colors)
            column = "train_acc" if metric == "best_train" else "test_acc"
            drawn = draw_references(ax, refs[refs["benchmark"] == bench], column)
            if drawn and np.isfinite(hi):
                # Show the best reference (does optimising beat it?); lower ones get a note at the edge.
                hi = max(hi, max(v for _, _, v in drawn))
            if np.isfinite(lo) and np.isfinite(hi) and hi > lo:
                pad = 0.08 * (hi - lo)
                ax.set_ylim(lo - pad, hi + pad)
            mark_off_range(ax, drawn)
            ax.set_title(f"{bench}: {METRICS[metric]}", fontsize=11)
            ax.set_xlabel(unit if x == "evals" else f"simulated wall-clock ({unit})")
            ax.set_ylabel(column)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(
        "median over seeds, band = inter-quartile range; grey lines = reference configurations", fontsize=10, y=0.995
    )
    fig.tight_layout()
    atomic_save_png(fig, path)


def _plot_cd(cds: list[CriticalDifference], out: Path) -> list[Path]:
    # One PNG per benchmark: the diagram of the final train_acc above the one of the incumbent's test_acc.
    from smm_plugins.compare.cd_diagram import draw_cd_diagram

    plt = _pyplot()
    paths = []
    for bench in sorted({cd.benchmark for cd in cds}):
        mine = [cd for cd in cds if cd.benchmark == bench]
        k = max(len(cd.ranks) for cd in mine)
        fig, axes = plt.subplots(len(mine), 1, figsize=(9, (1.4 + 0.45 * k) * len(mine)), squeeze=False)
        for ax, cd in zip(axes[:, 0], mine, strict=True):
            draw_cd_diagram(ax, cd)
        fig.tight_layout()
        path = out / f"cd_{_file_part(bench)}.png"
        atomic_save_png(fig, path)
        paths.append(path)
    return paths


def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "benchmark"


# -- Markdown -----------------------------------------------------------------------------------------


def _fmt(mean: float, std: float) -> str:
    return f"{mean:.4f} ± {std:.4f}" if math.isfinite(std) else f"{mean:.4f}"


def markdown_table(table: Any) -> str:
    """The final table as Markdown, one block per benchmark (best average rank first)."""
    lines = []
    for bench, g in table.groupby("benchmark", sort=True):
        n_eval = int(g["evaluations"].max())
        has_gain = bool(np.isfinite(g["train_gain"]).any())
        gain_head = f" vs {BASELINE} (train / test) |" if has_gain else ""
        lines += [
            f"**{bench}** ({n_eval} evaluations)",
            "",
            "| optimizer | best train_acc (mean ± std) | test_acc of incumbent (mean ± std) |"
            f"{gain_head} avg rank | seeds |",
            "|---|---|---|" + ("---|" if has_gain else "") + "---|---|",
        ]
        for _, r in g.iterrows():
            gain = (
                (f" {r['train_gain']:+.4f} / {r['test_gain']:+.4f} |" if r["optimizer"] != BASELINE else " — |")
                if has_gain
                else ""
            )
            lines.append(
                f"| {r['optimizer']} | {_fmt(r['train_mean'], r['train_std'])} | "
                f"{_fmt(r['test_mean'], r['test_std'])} |{gain} {r['avg_rank']:.2f} | {r['seeds']} |"
            )
        lines.append("")
    return "\n".join(lines)


def _markdown_wilcoxon(w: Any) -> str:
    if not len(w):
        return "No pair of optimisers in the tests shares a seed.\n"
    lines = [
        "| benchmark | metric | A | B | median A−B | wins A/B | p | p (Holm) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, r in w.iterrows():
        star = " *" if r["p_holm"] < 0.05 else ""
        lines.append(
            f"| {r['benchmark']} | {r['metric']} | {r['a']} | {r['b']} | {r['median_diff']:+.4f} | "
            f"{r['wins_a']}/{r['wins_b']} | {r['p_value']:.3g} | {r['p_holm']:.3g}{star} |"
        )
    return "\n".join(lines) + "\n"


def _markdown_cost(checks: list[Any]) -> str:
    # Where the compute went, per optimiser, from the metadata of each usable run file (``checks``: the
    # RunFileCheck of every file, smm_plugins.compare.results.check_run_files): what a bigger grid will cost.
    from smm_plugins.compare.results import read_run_meta

    rows = []
    for c in checks:
        m = read_run_meta(c.path) if c.usable else {}
        spec = m.get("spec", {})
        if "optimize_seconds" in m and spec:
            rows.append(
                {
                    "optimizer": spec.get("optimizer"),
                    "budget": spec.get("budget", 0),
                    "run": m["optimize_seconds"],
                    "sur": m["optimize_seconds"] - m.get("optimizer_seconds", m["optimize_seconds"]),
                    "load": m.get("load_seconds", math.nan),  # not recorded before smm-plugins 0.2
                }
            )
    if not rows:
        return ""
    d = pd.DataFrame(rows)
    lines = [
        "## Cost of the runs",
        "",
        "Wall-clock seconds of each run's optimisation (optimiser and framework + surrogate inference) "
        "and the surrogate's share of it: per-trial time. A grid costs the sum over its runs, divided by the "
        "workers. Loading and compiling a benchmark's models happens once per worker process, before its first "
        "run's clock starts; it is counted apart, in the last column (summed over the runs).",
        "",
        "| optimizer | seconds per run (mean) | ms per trial | surrogate share | model load + compile, s |",
        "|---|---|---|---|---|",
    ]
    for opt, g in d.groupby("optimizer", sort=True):
        per_trial = 1000.0 * g["run"].sum() / max(1, g["budget"].sum())
        share = g["sur"].sum() / max(g["run"].sum(), 1e-12)
        load = f"{g['load'].sum():.2f}" if g["load"].notna().all() else "not recorded (inside the runs)"
        lines.append(f"| {opt} | {g['run'].mean():.2f} | {per_trial:.1f} | {100 * min(share, 1.0):.0f} % | {load} |")
    return "\n".join(lines) + "\n"


def _markdown_references(refs: pd.DataFrame, table: pd.DataFrame) -> str:
    if not len(refs):
        return "No reference configuration could be evaluated (see the log).\n"
    lines = [
        "| benchmark | configuration | train_acc | test_acc | best optimiser's mean test_acc − this |",
        "|---|---|---|---|---|",
    ]
    for _, r in refs.iterrows():
        t = table[table["benchmark"] == r["benchmark"]]
        best = float(t["test_mean"].max()) if len(t) else float("nan")
        lines.append(
            f"| {r['benchmark']} | {r['reference']} | {r['train_acc']:.4f} | {r['test_acc']:.4f} | "
            f"{best - r['test_acc']:+.4f} |"
        )
    return "\n".join(lines) + "\n"


def _friedman_frame(cds: list[CriticalDifference]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "benchmark": cd.benchmark,
                "metric": cd.metric,
                "seeds": cd.n_seeds,
                "optimizers": len(cd.ranks),
                "friedman_statistic": cd.friedman_statistic,
                "friedman_p": cd.friedman_p,
                "ranking": " > ".join(f"{o} ({r:.2f})" for o, r in cd.ranks.items()),
                "groups": " | ".join(", ".join(g) for g in cd.groups),
            }
            for cd in cds
        ],
        columns=["benchmark", "metric", "seeds", "optimizers", "friedman_statistic", "friedman_p", "ranking", "groups"],
    )


def _markdown_cd(friedman: pd.DataFrame, pngs: list[Path]) -> str:
    lines = [
        "Average rank over seeds (1 = best final value), Friedman test, then the pairwise Wilcoxon tests below "
        "(Holm-corrected) as post-hoc test. A bar joins optimisers that are not significantly different at 5%; "
        "if the Friedman test does not reject, all optimisers are one group.",
        "",
        *(f"![critical-difference diagram]({p.name})\n" for p in pngs),
        "| benchmark | metric | seeds | Friedman p | ranking (average rank) | not significantly different |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in friedman.iterrows():
        p = f"{r['friedman_p']:.3g}" if math.isfinite(r["friedman_p"]) else f"— ({r['optimizers']} optimiser(s))"
        lines.append(
            f"| {r['benchmark']} | {r['metric']} | {r['seeds']} | {p} | {r['ranking']} | {r['groups'] or '—'} |"
        )
    return "\n".join(lines) + "\n"


def _markdown_head(run_dir: Path, raw: pd.DataFrame, failures: list[Path], unusable: list[Any]) -> list[str]:
    from smm_plugins.compare.experiment import read_saved_experiment
    from smm_plugins.compare.results import repair_command

    head = []
    saved = read_saved_experiment(run_dir)
    if saved is not None:
        exp, meta = saved
        head.append(
            f"Experiment `{exp.name}`: {len(exp.benchmarks)} benchmark(s) × {len(exp.optimizers)} "
            f"optimiser(s) × {len(exp.seeds)} seed(s) × {exp.budget} evaluations, objective "
            f"`{exp.objective}`; smm-plugins {meta.get('smm_plugins_version', '?')}."
        )
    n_runs = raw.groupby(["benchmark", "optimizer", "seed"]).ngroups
    head.append(f"{n_runs} finished run(s), {len(failures)} failed run(s).")
    if unusable:
        # Damaged or incomplete run files: named, left out of every table, plot and test, and how to repair them.
        head += [
            "",
            f"**{len(unusable)} run file(s) cannot be used and are left out of every table, plot and test** "
            f"(repair: `{repair_command(run_dir)}` moves them to `runs/damaged/` and runs them again):",
            "",
            *(f"- `runs/{c.path.name}`: it {c.problem}" for c in unusable),
            "",
        ]
    return head


def _markdown_failures(failures: list[Path]) -> str:
    if not failures:
        return ""
    items = [f"- `{f.stem}`: {json.loads(f.read_text()).get('error', '?')}" for f in failures]
    return "\n## Failed runs\n\n" + "\n".join(items) + "\n"


def make_report(
    run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *, truth_check: bool = True
) -> ReportResult:
    """Write the report of comparison directory ``run_dir`` into ``out`` (default ``run_dir/report``).

    ``truth_check=False`` leaves out the section "Checked on the truth" (:mod:`~smm_plugins.compare.truth_check`).
    """
    run_dir = Path(run_dir)
    _pyplot()  # fail before any work if matplotlib is missing
    raw, checks = _usable_runs(run_dir)
    unusable = [c for c in checks if not c.usable]
    out = Path(out) if out is not None else run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    df = incumbent_curves(raw)
    table = final_table(df)
    identical = find_identical_runs(df)
    tested = identical.drop_from(df)  # runs that repeat each other are not independent replicates
    wil = pairwise_wilcoxon(tested)
    cds = critical_differences(tested, wil)
    friedman = _friedman_frame(cds)
    specs = _benchmark_specs(run_dir, sorted(df["benchmark"].unique()))
    refs = reference_values(specs)
    curves = curves_table(df)
    order = {b: list(g["optimizer"]) for b, g in table.groupby("benchmark")}

    pngs = [out / "curves_evaluations.png", out / "curves_simulated_time.png"]
    _plot(df, "evals", pngs[0], order, refs)
    _plot(df, "time", pngs[1], order, refs)
    cd_pngs = _plot_cd(cds, out)
    csvs = [out / n for n in ("final_table.csv", "wilcoxon.csv", "friedman.csv", "references.csv", "curves.csv")]
    for frame, path in zip((table, wil, friedman, refs, curves), csvs, strict=True):
        atomic_write_text(path, frame.to_csv(index=False, float_format="%.6g"))
    truth_md, truth_csvs = truth_section(run_dir, df, wil, refs, specs, tested, out) if truth_check else ("", [])
    csvs += truth_csvs
    across_md, across_csvs, across_pngs = _across_section(df, identical, out)
    csvs += across_csvs

    failures = sorted((run_dir / "failures").glob("*.json")) if (run_dir / "failures").is_dir() else []
    head = [*_markdown_head(run_dir, raw, failures, unusable), *markdown_sources(specs)]
    sections = _ReportSections(table, identical, friedman, cd_pngs, refs, truth_md, wil, checks, failures, across_md)
    md = _report_markdown(head, sections)
    md_path = out / "report.md"
    atomic_write_text(md_path, md)
    return ReportResult(out=out, markdown=md_path, pngs=pngs + cd_pngs + across_pngs, csvs=csvs, table=table)


def _across_section(df: pd.DataFrame, identical: IdenticalRuns, out: Path) -> tuple[str, list[Path], list[Path]]:
    """Section "Across benchmarks" (grids of 3 or more benchmarks), its CSVs and its CD diagram."""
    if df["benchmark"].nunique() < MIN_BENCHMARKS:
        return "", [], []
    fin = final_values(df)
    results = [across_benchmarks(fin.rename(columns={m: "final"}), m, identical=identical) for m in METRICS]
    pngs = _plot_cd([cd for r in results if (cd := r.diagram()) is not None], out)
    csvs = [out / "across_benchmarks.csv", out / "across_ranks.csv"]
    for frame, path in zip((across_table(results), across_summary(results)), csvs, strict=True):
        atomic_write_text(path, frame.to_csv(index=False, float_format="%.6g"))
    return markdown_across(results, [p.name for p in pngs]), csvs, pngs


def _usable_runs(run_dir: Path) -> tuple[pd.DataFrame, list[Any]]:
    """The evaluations of the whole runs of ``run_dir`` that match their plan, and every run file's check."""
    from smm_plugins.compare.results import read_checked_runs, repair_command

    if not (run_dir / "runs").is_dir():
        raise FileNotFoundError(f"{run_dir} holds no runs/ folder: run `smm-bench compare --out {run_dir}` first")
    raw, checks = read_checked_runs(run_dir)  # only whole runs that match their plan enter the statistics
    unusable = [c for c in checks if not c.usable]
    if not len(raw):
        what = f"{len(unusable)} unusable run file(s)" if unusable else "no finished run yet"
        raise ValueError(f"{run_dir}/runs holds {what}" + (f"; repair: {repair_command(run_dir)}" if unusable else ""))
    return raw, checks


@dataclass(frozen=True)
class _ReportSections:
    """What the sections of report.md after its head are written from."""

    table: pd.DataFrame
    identical: IdenticalRuns
    friedman: pd.DataFrame
    cd_pngs: list[Path]
    refs: pd.DataFrame
    truth_md: str
    wilcoxon: pd.DataFrame
    checks: list[Any]  # results.RunFileCheck of every run file
    failures: list[Path]
    across_md: str = ""  # section "Across benchmarks" ("" with fewer than 3 benchmarks)


def _report_markdown(head: list[str], r: _ReportSections) -> str:
    """report.md: ``head`` (title lines of the grid and its sources) and the sections of ``r``."""
    return "\n".join(
        [
            "# Optimiser comparison on SMM-Bench",
            "",
            *head,
            "",
            "Incumbent = best configuration so far by train_acc; its test_acc is what a user would get.",
            "",
            "## Final results",
            "",
            "Mean ± std over seeds at the end of the budget; rank 1 = best final train_acc on a seed "
            "(average over seeds every optimiser finished).",
            "",
            markdown_table(r.table),
            r.identical.markdown(),
            "## Critical-difference diagrams",
            "",
            _markdown_cd(r.friedman, r.cd_pngs),
            *([r.across_md] if r.across_md else []),
            "## Reference configurations",
            "",
            "What a user gets without optimising (grey lines on the curves): the source models alone, the base "
            "model (PS) and the space's default configuration; `smm_plugins.references` defines them.",
            "",
            _markdown_references(r.refs, r.table),
            r.truth_md,
            "## Anytime performance",
            "",
            "![against evaluations](curves_evaluations.png)",
            "",
            "![against simulated wall-clock](curves_simulated_time.png)",
            "",
            "## Pairwise Wilcoxon signed-rank tests",
            "",
            "Two-sided, paired by seed, on the final values; Holm-adjusted within each benchmark and metric "
            "(* = p (Holm) < 0.05). With n seeds the smallest attainable two-sided p is 2/2^n "
            "(0.0625 for 5 seeds), and after Holm's correction over m pairs m × 2/2^n (10 pairs, 10 seeds: "
            "0.02): use enough seeds to be able to detect a difference at 5%.",
            "",
            _markdown_wilcoxon(r.wilcoxon),
            _markdown_cost(r.checks),
            _markdown_failures(r.failures),
        ]
    )
