"""Report of a comparison directory: anytime curves, final table, pairwise Wilcoxon tests.

``make_report(DIR)`` reads ``DIR/runs/*.parquet`` and writes into ``DIR/report/``:

* ``curves_evaluations.png`` / ``curves_simulated_time.png``: best ``train_acc`` so far and the
  ``test_acc`` of the incumbent (the best configuration so far by ``train_acc``), median over seeds with
  the inter-quartile band, against evaluations and against simulated wall-clock;
* ``final_table.csv``: per benchmark and optimiser, mean / std / median of the final values over seeds,
  the mean gain over random search on the same seeds, and the average rank per benchmark (rank 1 =
  best final ``train_acc`` on a seed, ties averaged);
* ``wilcoxon.csv``: two-sided Wilcoxon signed-rank tests of every pair of optimisers on the final values,
  paired by seed, with Holm-adjusted p-values per benchmark and metric;
* ``curves.csv``: the median / quartiles plotted against evaluations;
* ``report.md``: all of the above in one Markdown page.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins._io import atomic_write_text

__all__ = ["make_report", "ReportResult", "incumbent_curves", "final_table", "pairwise_wilcoxon"]

logger = logging.getLogger(__name__)

METRICS = {"best_train": "best train_acc so far", "inc_test": "test_acc of the incumbent"}


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


def _finals(df: Any) -> Any:
    last = df.groupby(["benchmark", "optimizer", "seed"], sort=True).tail(1)
    return last[["benchmark", "optimizer", "seed", "trial", "best_train", "inc_test", "sim_time", "wall_time"]]


#: Optimiser the final table measures gains against ("by how much"), when it is in the comparison.
BASELINE = "random"


def final_table(df: Any, baseline: str = BASELINE) -> Any:
    """Per benchmark x optimiser: final best train_acc and incumbent test_acc over seeds, average rank.

    ``train_gain`` / ``test_gain``: mean over shared seeds of (optimiser - ``baseline``), if the baseline ran.
    """
    import pandas as pd
    from scipy.stats import rankdata

    fin = _finals(df)
    rows = []
    for bench, g in fin.groupby("benchmark", sort=True):
        wide = g.pivot(index="seed", columns="optimizer", values="best_train")
        complete = wide.dropna()  # ranks only on seeds every optimiser finished
        ranks = pd.DataFrame(
            np.vstack([rankdata(-r) for r in complete.to_numpy()]) if len(complete) else np.empty((0, wide.shape[1])),
            index=complete.index,
            columns=wide.columns,
        )
        wide_test = g.pivot(index="seed", columns="optimizer", values="inc_test")

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
                    "avg_rank": float(ranks[opt].mean()) if len(ranks) else float("nan"),
                    "sim_seconds": float(h["sim_time"].mean()),
                    "wall_seconds": float(h["wall_time"].mean()),
                }
            )
    table = pd.DataFrame(rows)
    if len(table):
        table = table.sort_values(["benchmark", "avg_rank", "optimizer"]).reset_index(drop=True)
    return table


def _holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        adj[i] = running
    return adj


def pairwise_wilcoxon(df: Any) -> Any:
    """Two-sided Wilcoxon signed-rank test of each optimiser pair, paired by seed, per benchmark and metric."""
    import pandas as pd
    from scipy.stats import wilcoxon

    fin = _finals(df)
    rows = []
    for bench, g in fin.groupby("benchmark", sort=True):
        for metric in METRICS:
            wide = g.pivot(index="seed", columns="optimizer", values=metric)
            block = []
            for a, b in itertools.combinations(sorted(wide.columns), 2):
                pair = wide[[a, b]].dropna()
                d = (pair[a] - pair[b]).to_numpy()
                if len(d) == 0:
                    continue
                if np.all(d == 0):
                    stat, p = float("nan"), 1.0  # identical results: no evidence of a difference
                else:
                    res = wilcoxon(pair[a], pair[b], alternative="two-sided", zero_method="wilcox")
                    stat, p = float(res.statistic), float(res.pvalue)
                block.append(
                    {
                        "benchmark": bench,
                        "metric": metric,
                        "a": a,
                        "b": b,
                        "n": int(len(d)),
                        "median_diff": float(np.median(d)),
                        "wins_a": int((d > 0).sum()),
                        "wins_b": int((d < 0).sum()),
                        "statistic": stat,
                        "p_value": p,
                    }
                )
            if block:
                adj = _holm(np.array([r["p_value"] for r in block]))
                for r, pa in zip(block, adj, strict=True):
                    r["p_holm"] = float(pa)
                rows.extend(block)
    return pd.DataFrame(
        rows,
        columns=[
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
        ],
    )


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
    import pandas as pd

    parts = []
    for (bench, opt), g in df.groupby(["benchmark", "optimizer"], sort=True):
        cols: dict[str, Any] = {}
        for metric in METRICS:
            med, q25, q75 = _quantiles(_by_evaluations(g, metric))
            cols.update({f"{metric}_median": med, f"{metric}_q25": q25, f"{metric}_q75": q75})
        n = len(cols["best_train_median"])
        parts.append(pd.DataFrame({"benchmark": bench, "optimizer": opt, "evaluation": np.arange(1, n + 1), **cols}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


# -- plots -------------------------------------------------------------------------------------------


def _time_unit(seconds: float) -> tuple[str, float]:
    # Cost models range from milliseconds (the lab) to days (a 7B merge): label the axis readably.
    for unit, scale in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0), ("seconds", 1.0)):
        if seconds >= 2 * scale:
            return unit, scale
    return "seconds", 1.0


def _colors(optimizers: list[str]) -> dict[str, Any]:
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab10")
    return {o: cmap(i % 10) for i, o in enumerate(optimizers)}


def _plot(df: Any, x: str, path: Path, order: dict[str, list[str]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = sorted(df["benchmark"].unique())
    all_opts = sorted(df["optimizer"].unique())
    colors = _colors(all_opts)
    fig, axes = plt.subplots(len(benches), 2, figsize=(12, 3.9 * len(benches)), squeeze=False)
    for r, bench in enumerate(benches):
        gb = df[df["benchmark"] == bench]
        grid = None
        unit, scale = "evaluations", 1.0
        if x == "time":
            tmax = gb.groupby(["optimizer", "seed"])["sim_time"].max().min()  # every run reaches this time
            grid = np.linspace(gb["sim_time"].min(), tmax, 400)
            unit, scale = _time_unit(float(tmax))
        for c, metric in enumerate(METRICS):
            ax = axes[r, c]
            lows, highs = [], []
            for opt in order.get(bench, all_opts):
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
                n_seeds = mat.shape[0]
                ax.plot(xs, med, color=colors[opt], lw=1.6, label=f"{opt} (n={n_seeds})")
                ax.fill_between(xs, q25, q75, color=colors[opt], alpha=0.18, lw=0)
                # Zoom past the first few percent of the budget: the start is every optimiser's random init.
                k0 = max(1, len(xs) // 20)
                lows.append(np.nanmin(q25[k0:]) if np.isfinite(q25[k0:]).any() else np.nan)
                highs.append(np.nanmax(q75[k0:]) if np.isfinite(q75[k0:]).any() else np.nan)
            lo, hi = np.nanmin(lows) if lows else np.nan, np.nanmax(highs) if highs else np.nan
            if np.isfinite(lo) and np.isfinite(hi) and hi > lo:
                pad = 0.08 * (hi - lo)
                ax.set_ylim(lo - pad, hi + pad)
            ax.set_title(f"{bench}: {METRICS[metric]}", fontsize=11)
            ax.set_xlabel(unit if x == "evals" else f"simulated wall-clock ({unit})")
            ax.set_ylabel("train_acc" if metric == "best_train" else "test_acc")
            ax.grid(alpha=0.3)
            if c == 0:
                ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("median over seeds, band = inter-quartile range", fontsize=10, y=0.995)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


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
        return "No pair of optimisers shares a seed.\n"
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


def _markdown_cost(run_dir: Path) -> str:
    # Where the compute went, per optimiser (from each run file's metadata): what a bigger grid will cost.
    import pandas as pd

    from smm_plugins.compare.runner import read_run_meta

    rows = []
    for f in sorted((run_dir / "runs").glob("*.parquet")):
        m = read_run_meta(f)
        spec = m.get("spec", {})
        if "optimize_seconds" in m and spec:
            rows.append(
                {
                    "optimizer": spec.get("optimizer"),
                    "budget": spec.get("budget", 0),
                    "run": m["optimize_seconds"],
                    "sur": m["optimize_seconds"] - m.get("optimizer_seconds", m["optimize_seconds"]),
                }
            )
    if not rows:
        return ""
    d = pd.DataFrame(rows)
    lines = [
        "## Cost of the runs",
        "",
        "Wall-clock seconds of each run's optimisation (optimiser and framework + surrogate inference) "
        "and the surrogate's share of it. A grid costs the sum over its runs, divided by the workers.",
        "",
        "| optimizer | seconds per run (mean) | ms per trial | surrogate share |",
        "|---|---|---|---|",
    ]
    for opt, g in d.groupby("optimizer", sort=True):
        per_trial = 1000.0 * g["run"].sum() / max(1, g["budget"].sum())
        share = g["sur"].sum() / max(g["run"].sum(), 1e-12)
        lines.append(f"| {opt} | {g['run'].mean():.2f} | {per_trial:.1f} | {100 * min(share, 1.0):.0f} % |")
    return "\n".join(lines) + "\n"


def make_report(run_dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> ReportResult:
    """Write the report of comparison directory ``run_dir`` into ``out`` (default ``run_dir/report``)."""
    import json

    from smm_plugins.compare.experiment import read_saved_experiment
    from smm_plugins.compare.runner import read_runs

    run_dir = Path(run_dir)
    if not (run_dir / "runs").is_dir():
        raise FileNotFoundError(f"{run_dir} holds no runs/ folder: run `smm-bench compare --out {run_dir}` first")
    raw = read_runs(run_dir)
    if not len(raw):
        raise ValueError(f"{run_dir}/runs holds no finished run yet")
    out = Path(out) if out is not None else run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    df = incumbent_curves(raw)
    table = final_table(df)
    wil = pairwise_wilcoxon(df)
    curves = curves_table(df)
    order = {b: list(g["optimizer"]) for b, g in table.groupby("benchmark")}

    pngs = [out / "curves_evaluations.png", out / "curves_simulated_time.png"]
    _plot(df, "evals", pngs[0], order)
    _plot(df, "time", pngs[1], order)
    csvs = [out / "final_table.csv", out / "wilcoxon.csv", out / "curves.csv"]
    for frame, path in zip((table, wil, curves), csvs, strict=True):
        atomic_write_text(path, frame.to_csv(index=False, float_format="%.6g"))

    failures = sorted((run_dir / "failures").glob("*.json")) if (run_dir / "failures").is_dir() else []
    saved = read_saved_experiment(run_dir)
    head = []
    if saved is not None:
        exp, meta = saved
        head.append(
            f"Experiment `{exp.name}`: {len(exp.benchmarks)} benchmark(s) × {len(exp.optimizers)} "
            f"optimiser(s) × {len(exp.seeds)} seed(s) × {exp.budget} evaluations, objective "
            f"`{exp.objective}`; smm-plugins {meta.get('smm_plugins_version', '?')}."
        )
    n_runs = raw.groupby(["benchmark", "optimizer", "seed"]).ngroups
    head.append(f"{n_runs} finished run(s), {len(failures)} failed run(s).")
    fail_md = ""
    if failures:
        fail_md = (
            "\n## Failed runs\n\n"
            + "\n".join(f"- `{f.stem}`: {json.loads(f.read_text()).get('error', '?')}" for f in failures)
            + "\n"
        )
    cost_md = _markdown_cost(run_dir)
    md = "\n".join(
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
            markdown_table(table),
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
            "(0.0625 for 5 seeds): use ≥ 6 seeds to be able to detect a difference at 5%.",
            "",
            _markdown_wilcoxon(wil),
            cost_md,
            fail_md,
        ]
    )
    md_path = out / "report.md"
    atomic_write_text(md_path, md)
    return ReportResult(out=out, markdown=md_path, pngs=pngs, csvs=csvs, table=table)
