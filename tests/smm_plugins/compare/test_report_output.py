"""smm_plugins.compare.report: incumbent curves, the final table, and the files of a report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.compare.experiment import Experiment
from smm_plugins.compare.runner import read_runs, run_experiment


def test_incumbent_curves_ties_keep_first() -> None:
    from smm_plugins.compare.report import incumbent_curves

    df = pd.DataFrame(
        {
            "benchmark": "b",
            "optimizer": "o",
            "seed": 0,
            "trial": range(5),
            "value": [0.1, 0.3, 0.3, 0.2, 0.4],
            "test_acc": [0.5, 0.6, 0.9, 0.1, 0.2],
            "sim_time": np.arange(1, 6.0),
            "wall_time": np.zeros(5),
        }
    )
    out = incumbent_curves(df)
    assert out["best_train"].tolist() == [0.1, 0.3, 0.3, 0.3, 0.4]
    assert out["inc_test"].tolist() == [0.5, 0.6, 0.6, 0.6, 0.2]


@pytest.mark.slow
def test_report_contents(toy_modules: Path, tmp_path: Path) -> None:
    from smm_plugins.compare.report import make_report

    exp = Experiment(
        benchmarks=["cmp_toy:ps", "cmp_toy:dfs"],
        optimizers=["de", "cmp_toy:slow_random"],
        seeds=4,
        budget=30,
        workers=1,
    )
    run_experiment(exp, tmp_path, progress=False)
    res = make_report(tmp_path)
    for p in res.pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 20_000
    table = pd.read_csv(tmp_path / "report" / "final_table.csv")
    assert len(table) == 4 and set(table["seeds"]) == {4}
    df = read_runs(tmp_path)
    g = df[(df.benchmark == "ps") & (df.optimizer == "de")]
    finals = g.groupby("seed")["value"].max()
    row = table[(table.benchmark == "ps") & (table.optimizer == "de")].iloc[0]
    assert row["train_mean"] == pytest.approx(finals.mean(), rel=1e-5)
    assert row["train_std"] == pytest.approx(finals.std(ddof=1), rel=1e-4)
    # Gains over random search only when random ran; here it did not.
    assert table["train_gain"].isna().all()
    # Average ranks of two optimisers over the same seeds sum to 3.
    assert table.groupby("benchmark")["avg_rank"].sum().tolist() == pytest.approx([3.0, 3.0])
    wil = pd.read_csv(tmp_path / "report" / "wilcoxon.csv")
    assert len(wil) == 2 * 2  # 2 benchmarks x 2 metrics x 1 pair
    assert wil["p_value"].between(0, 1).all() and (wil["p_holm"] >= wil["p_value"]).all()
    curves = pd.read_csv(tmp_path / "report" / "curves.csv")
    assert len(curves) == 4 * 30
    assert (curves.groupby(["benchmark", "optimizer"])["best_train_median"].diff().dropna() >= 0).all()
    md = res.markdown.read_text()
    for needle in (
        "## Final results",
        "| optimizer | best train_acc",
        "curves_evaluations.png",
        "curves_simulated_time.png",
        "Wilcoxon",
        "± ",
        "avg rank",
        "## Cost of the runs",
    ):
        assert needle in md
    # Two benchmarks: no ranks across benchmarks (the section needs 3 or more), and no files of it.
    assert "## Across benchmarks" not in md and not (tmp_path / "report" / "across_ranks.csv").exists()


def test_final_table_gain_rank_and_wilcoxon_on_known_numbers() -> None:
    from smm_plugins.compare.report import final_table, incumbent_curves, pairwise_wilcoxon

    rows = []
    for seed in range(6):
        for opt, final in (("random", 0.30 + 0.01 * seed), ("tpe", 0.35 + 0.01 * seed)):
            for trial, v in enumerate((0.1, final)):
                rows.append(
                    {
                        "benchmark": "b",
                        "optimizer": opt,
                        "seed": seed,
                        "trial": trial,
                        "value": v,
                        "test_acc": v - 0.05,
                        "sim_time": trial + 1.0,
                        "wall_time": 0.0,
                    }
                )
    df = incumbent_curves(pd.DataFrame(rows))
    table = final_table(df).set_index("optimizer")
    assert table.loc["tpe", "train_gain"] == pytest.approx(0.05)
    assert table.loc["tpe", "test_gain"] == pytest.approx(0.05)
    assert table.loc["random", "train_gain"] == 0.0
    assert table.loc["tpe", "avg_rank"] == 1.0 and table.loc["random", "avg_rank"] == 2.0
    w = pairwise_wilcoxon(df)
    row = w[(w.metric == "best_train")].iloc[0]
    assert (row["a"], row["b"], row["wins_a"], row["wins_b"]) == ("random", "tpe", 0, 6)
    assert row["p_value"] == pytest.approx(2 / 2**6)  # exact two-sided test, all 6 seeds agree
