"""smm_plugins.compare.across: average ranks over benchmarks, Friedman test over benchmarks, Nemenyi CD."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import friedmanchisquare

from smm_plugins.compare.across import (
    across_benchmarks,
    across_summary,
    across_table,
    benchmark_medians,
    markdown_across,
    nemenyi_critical_difference,
)
from smm_plugins.compare.replicates import IdenticalRuns, find_identical_runs


def _finals(medians: dict[str, dict[str, float]], seeds: int = 3) -> pd.DataFrame:
    # benchmark -> optimizer -> median; seeds spread around it (median - 0.01, median, median + 0.01).
    return pd.DataFrame(
        [
            {"benchmark": b, "optimizer": o, "seed": s, "final": v + 0.01 * (s - 1)}
            for b, by_opt in medians.items()
            for o, v in by_opt.items()
            for s in range(seeds)
        ]
    )


# Four benchmarks, three optimisers, no ties: ranks (a, b, c) = (1,2,3), (1,3,2), (2,1,3), (1,2,3).
FOUR = {
    "B1": {"a": 0.9, "b": 0.8, "c": 0.7},
    "B2": {"a": 0.9, "b": 0.7, "c": 0.8},
    "B3": {"a": 0.8, "b": 0.9, "c": 0.7},
    "B4": {"a": 0.9, "b": 0.8, "c": 0.6},
}


def test_hand_worked_ranks_friedman_and_critical_difference() -> None:
    finals = _finals(FOUR)
    # An outlier seed: b's mean on B1 (0.53) would fall below c's 0.7, its median (0.8) does not.
    finals.loc[(finals.benchmark == "B1") & (finals.optimizer == "b") & (finals.seed == 2), "final"] = 0.0
    r = across_benchmarks(finals)
    assert r.medians.loc["B1", "b"] == pytest.approx(0.79)
    assert r.ranks.loc["B1"].tolist() == [1.0, 2.0, 3.0]
    # Rank sums R = (5, 8, 11) over N = 4 benchmarks, k = 3 optimisers.
    assert r.average_ranks == pytest.approx({"a": 1.25, "b": 2.0, "c": 2.75})
    assert list(r.average_ranks) == ["a", "b", "c"]
    # chi2_F = 12 / (N k (k+1)) * sum R^2 - 3 N (k+1) = 12/48 * 210 - 48 = 4.5; chi2 with 2 df: p = exp(-x/2).
    assert r.friedman_statistic == pytest.approx(4.5)
    assert r.friedman_p == pytest.approx(math.exp(-2.25))
    # Nemenyi: q_0.05 (k = 3) = 2.343 (Demšar 2006, Table 5a); CD = q sqrt(k (k+1) / (6 N)).
    assert r.critical_difference == pytest.approx(2.3437 * math.sqrt(12 / 24), abs=1e-3)
    assert not r.significant and r.groups == [("a", "b", "c")]
    assert r.first == {"a": 3, "b": 1, "c": 0}
    assert r.used == ["B1", "B2", "B3", "B4"] and not r.left_out and not r.dropped and not r.untested


def test_a_consistent_winner_is_set_apart_by_the_critical_difference() -> None:
    six = {f"B{i}": {"a": 0.9, "b": 0.8, "c": 0.7} for i in range(6)}
    r = across_benchmarks(_finals(six))
    # R = (6, 12, 18): chi2_F = 12/72 * 504 - 72 = 12, p = exp(-6); CD = 2.343 sqrt(12/36) = 1.353.
    assert r.friedman_statistic == pytest.approx(12.0)
    assert r.friedman_p == pytest.approx(math.exp(-6.0))
    assert r.significant
    # a and c are 2 ranks apart (> CD): different; each neighbour pair is 1 apart: not.
    assert r.groups == [("a", "b"), ("b", "c")]
    cd = r.diagram()
    assert cd is not None and cd.blocks == "benchmarks" and cd.n_seeds == 6
    assert cd.critical_difference == r.critical_difference and cd.ranks == r.average_ranks


@pytest.mark.parametrize(("k", "q"), [(2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (10, 3.164)])
def test_nemenyi_matches_demsar_table(k: int, q: float) -> None:
    n = 7
    assert nemenyi_critical_difference(k, n) == pytest.approx(q * math.sqrt(k * (k + 1) / (6 * n)), abs=2e-3)


def test_ties_get_average_ranks_and_the_tie_corrected_friedman() -> None:
    tied = {
        "B1": {"a": 0.9, "b": 0.9, "c": 0.5},  # a and b tie: 1.5 each
        "B2": {"a": 0.9, "b": 0.8, "c": 0.7},
        "B3": {"a": 0.9, "b": 0.7, "c": 0.8},
    }
    r = across_benchmarks(_finals(tied))
    assert r.ranks.loc["B1"].tolist() == [1.5, 1.5, 3.0]
    assert r.average_ranks == pytest.approx({"a": 3.5 / 3, "b": 6.5 / 3, "c": 8 / 3})
    # Uncorrected: 12/36 * (3.5^2 + 6.5^2 + 8^2) - 36 = 3.5; tie correction 1 - (2^3 - 2) / (N (k^3 - k)) = 11/12.
    assert r.friedman_statistic == pytest.approx(3.5 / (11 / 12))
    assert r.friedman_p == pytest.approx(math.exp(-(42 / 11) / 2))
    med = r.medians.loc[["B1", "B2", "B3"], ["a", "b", "c"]].to_numpy()
    assert (r.friedman_statistic, r.friedman_p) == pytest.approx(tuple(friedmanchisquare(*med.T)))
    assert r.first == {"a": 2, "b": 0, "c": 0}  # a shared first place is not a first place


def test_all_tied_is_no_evidence_of_a_difference() -> None:
    same = {f"B{i}": {"a": 0.5, "b": 0.5, "c": 0.5} for i in range(4)}
    r = across_benchmarks(_finals(same))
    assert (r.friedman_statistic, r.friedman_p) == (0.0, 1.0)
    assert r.average_ranks == pytest.approx({"a": 2.0, "b": 2.0, "c": 2.0}) and r.groups == [("a", "b", "c")]


def test_a_benchmark_missing_for_one_optimiser_is_left_out_and_named() -> None:
    finals = _finals(FOUR)
    finals = finals[~((finals.benchmark == "B2") & (finals.optimizer == "c"))]
    r = across_benchmarks(finals)
    assert r.used == ["B1", "B3", "B4"] and r.left_out == {"B2": "no finished run of `c`"}
    # Ranks over B1, B3, B4 only: a (1, 2, 1), b (2, 1, 2), c (3, 3, 3).
    assert r.average_ranks == pytest.approx({"a": 4 / 3, "b": 5 / 3, "c": 3.0})
    assert r.critical_difference == pytest.approx(nemenyi_critical_difference(3, 3))
    table = across_table([r]).set_index(["benchmark", "optimizer"])
    assert table.loc[("B2", "c"), "seeds"] == 0 and math.isnan(table.loc[("B2", "c"), "median"])
    assert table.loc[("B2", "a"), "median"] == pytest.approx(0.9) and math.isnan(table.loc[("B2", "a"), "rank"])
    assert table.loc[("B2", "a"), "left_out"] == "no finished run of `c`"
    assert table.loc[("B3", "b"), "rank"] == 1.0
    md = markdown_across([r])
    assert "3 of 4 benchmarks remain" in md and "- benchmark **B2**: no finished run of `c`." in md


def test_too_few_benchmarks_or_optimisers_give_no_test_and_say_why() -> None:
    two = across_benchmarks(_finals({b: FOUR[b] for b in ("B1", "B2")}))
    assert two.untested == "the grid has 2 benchmark(s); a test across benchmarks needs 3 or more"
    assert math.isnan(two.friedman_p) and math.isnan(two.critical_difference) and two.diagram() is None
    assert "no test: the grid has 2 benchmark(s)" in markdown_across([two])

    three = _finals({b: FOUR[b] for b in ("B1", "B2", "B3")})
    gone = across_benchmarks(three[~((three.benchmark == "B3") & (three.optimizer == "a"))])
    assert gone.used == ["B1", "B2"] and gone.untested.startswith("only 2 benchmark(s) have a finished run")
    assert gone.average_ranks == pytest.approx({"a": 1.0, "b": 2.5, "c": 2.5})  # still shown, not tested

    pair = across_benchmarks(_finals({b: {"a": v["a"], "b": v["b"]} for b, v in FOUR.items()}))
    assert pair.untested.startswith("2 optimiser(s) ranked; the Friedman test needs 3 or more")
    assert pair.average_ranks == pytest.approx({"a": 1.25, "b": 1.75})


def _runs(sequences: dict[tuple[str, str, int], list[float]]) -> pd.DataFrame:
    # An incumbent-curves frame of runs given by their value sequences.
    from smm_plugins.compare.report import incumbent_curves

    rows = [
        {"benchmark": b, "optimizer": o, "seed": s, "trial": t, "value": v, "test_acc": v, "sim_time": t + 1.0}
        for (b, o, s), seq in sequences.items()
        for t, v in enumerate(seq)
    ]
    return incumbent_curves(pd.DataFrame(rows).assign(wall_time=0.0))


def test_identical_runs_aliases_are_left_out_and_seed_ignorers_named() -> None:
    from smm_plugins.compare.stats import final_values

    rng = np.random.default_rng(0)
    seqs = {}
    for b in ("B1", "B2", "B3", "B4"):
        for s in range(3):
            seqs[(b, "random", s)] = list(rng.uniform(0, 1, 10))
            seqs[(b, "random-copy", s)] = seqs[(b, "random", s)]  # the same runs under another name
            seqs[(b, "de", s)] = list(rng.uniform(0.2, 1, 10))
            seqs[(b, "qmc", s)] = [0.1 * i for i in range(10)]  # ignores its seed
            seqs[(b, "es", s)] = list(rng.uniform(0, 1, 10))
    for s in range(3):  # on B3 only, es runs as de does
        seqs[("B3", "es", s)] = seqs[("B3", "de", s)]
    df = _runs(seqs)
    identical = find_identical_runs(df)
    finals = final_values(df).rename(columns={"best_train": "final"})
    r = across_benchmarks(finals, identical=identical)
    assert set(r.dropped) == {"random-copy"} and "`random`" in r.dropped["random-copy"]
    assert set(r.average_ranks) == {"random", "de", "qmc", "es"}
    assert {k: v for k, v in identical.same_as.items() if k[1] == "es"} == {("B3", "es"): "de"}
    assert r.left_out == {"B3": "the runs of `es` repeat those of `de`"}
    assert r.used == ["B1", "B2", "B4"]
    assert any(n.startswith("`qmc` gave identical runs on several seeds of B1, B2, B4") for n in r.notes)
    summary = across_summary([r]).set_index("optimizer")
    assert summary.loc["random-copy", "benchmarks"] == 0
    assert "one optimiser counted twice" in summary.loc["random-copy", "left_out"]
    assert summary.loc["qmc", "benchmarks"] == 3


def test_sixteen_benchmarks_read_as_one_row_per_optimiser() -> None:
    rng = np.random.default_rng(1)
    many = {f"bench-{i:02d}": {o: float(rng.uniform()) for o in ("a", "b", "c", "d")} for i in range(16)}
    many["bench-07"].pop("d")
    r = across_benchmarks(_finals(many))
    md = markdown_across([r], ["cd_across-benchmarks.png"])
    table_rows = [ln for ln in md.splitlines() if ln[:4] in ("| a ", "| b ", "| c ", "| d ")]
    assert [ln.split(" | ")[0] for ln in table_rows] == [f"| {o}" for o in r.average_ranks]
    # Per-benchmark detail stays in the CSV: the markdown names only the benchmark that was left out.
    assert "bench-07" in md and not any(f"bench-{i:02d}" in md for i in range(16) if i != 7)
    assert "![critical-difference diagram across benchmarks](cd_across-benchmarks.png)" in md
    assert len(across_table([r])) == 16 * 4


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match=r"finals lacks column\(s\) \['final'\]"):
        benchmark_medians(pd.DataFrame({"benchmark": ["b"], "optimizer": ["o"], "seed": [0], "value": [1.0]}))
    with pytest.raises(ValueError, match="metric='speed': must be one of"):
        across_benchmarks(_finals(FOUR), "speed")
    with pytest.raises(ValueError, match="n_optimizers=1"):
        nemenyi_critical_difference(1, 5)
    with pytest.raises(ValueError, match="alpha=1.5"):
        nemenyi_critical_difference(3, 5, alpha=1.5)


def test_no_identical_runs_is_the_default() -> None:
    assert across_benchmarks(_finals(FOUR), identical=IdenticalRuns()).average_ranks == pytest.approx(
        across_benchmarks(_finals(FOUR)).average_ranks
    )


@pytest.mark.slow
def test_report_of_a_grid_of_three_benchmarks_ranks_across_them(tmp_path: Path) -> None:
    from smm_plugins.cli import main
    from smm_plugins.compare import Experiment, register_optimizer, run_experiment
    from smm_plugins.compare.runner import read_runs

    def one_shot(benchmark, seed, budget, *, objective="train_acc"):  # type: ignore[no-untyped-def]
        x = benchmark.space.sample(1, np.random.default_rng(seed))[0]  # a deliberately poor optimiser
        for _ in range(budget):
            benchmark.evaluate(x, objective)

    register_optimizer("one-shot", one_shot, framework="numpy", description="one random configuration")
    benches = ["smm-mini-ps-true", "smm-mini-dfs-true", "smm-mini-ps"]
    exp = Experiment(benchmarks=benches, optimizers=["de", "es", "one-shot"], seeds=3, budget=20, workers=1)
    run_experiment(exp, tmp_path, progress=False)
    assert main(["report", str(tmp_path), "--no-truth-check"]) == 0

    out = tmp_path / "report"
    per_bench = pd.read_csv(out / "across_benchmarks.csv")
    ranks = pd.read_csv(out / "across_ranks.csv")
    runs = read_runs(tmp_path)
    finals = runs.groupby(["benchmark", "optimizer", "seed"])["value"].max()
    medians = finals.groupby(["benchmark", "optimizer"]).median()
    train = per_bench[per_bench.metric == "best_train"].set_index(["benchmark", "optimizer"])
    assert len(train) == 9 and (train["seeds"] == 3).all()
    for key, med in medians.items():
        assert train.loc[key, "median"] == pytest.approx(med, rel=1e-5)
    for bench in benches:  # each benchmark's ranks are those of its medians, highest first
        m = medians.loc[bench]
        expected = m.rank(ascending=False, method="average")
        assert train.loc[bench]["rank"].to_dict() == pytest.approx(expected.to_dict())
    avg = ranks[ranks.metric == "best_train"].set_index("optimizer")["average_rank"]
    assert avg.to_dict() == pytest.approx(train["rank"].groupby("optimizer").mean().to_dict())
    assert (ranks["benchmarks"] == 3).all() and ranks["friedman_p"].between(0, 1).all()

    md = (out / "report.md").read_text()
    section = md.split("## Across benchmarks", 1)[1].split("\n## ", 1)[0]
    assert "| optimizer | average rank: best train_acc so far | average rank: test_acc of the incumbent |" in section
    assert f"| one-shot | {avg['one-shot']:.2f} |" in section
    assert "cd_across-benchmarks.png" in section and (out / "cd_across-benchmarks.png").stat().st_size > 10_000
    assert "the Friedman p-value (a chi-square approximation) is rough" in section
    assert md.index("## Critical-difference diagrams") < md.index("## Across benchmarks")


@pytest.mark.slow
def test_report_names_a_benchmark_where_an_optimiser_failed(toy_modules: Path, tmp_path: Path) -> None:
    from smm_plugins.compare import Experiment, register_optimizer, run_experiment
    from smm_plugins.compare.report import make_report

    def corner(benchmark, seed, budget, *, objective="train_acc"):  # type: ignore[no-untyped-def]
        rng = np.random.default_rng(seed)  # fails on DFS: its hop scales start at 0.4
        for _ in range(budget):
            benchmark.evaluate(np.minimum(benchmark.space.sample(1, rng)[0], 0.2), objective)

    register_optimizer("corner-across", corner, framework="numpy", description="random search near 0")
    benches = ["cmp_toy:ps", "smm-mini-ps-true", "smm-mini-dfs-true"]
    exp = Experiment(benchmarks=benches, optimizers=["de", "es", "corner-across"], seeds=2, budget=10, workers=1)
    run_experiment(exp, tmp_path, progress=False)
    res = make_report(tmp_path, truth_check=False)

    md = res.markdown.read_text()
    section = md.split("## Across benchmarks", 1)[1].split("\n## ", 1)[0]
    assert "- benchmark **smm-mini-dfs-true**: no finished run of `corner-across`." in section
    assert "(2 of 3 benchmarks remain)" in section
    assert "no test: only 2 benchmark(s) have a finished run of every ranked optimiser" in section
    assert "cd_across-benchmarks.png" not in section and not (res.out / "cd_across-benchmarks.png").exists()
    rows = pd.read_csv(res.out / "across_benchmarks.csv").set_index(["metric", "benchmark", "optimizer"])
    dfs = rows.loc[("best_train", "smm-mini-dfs-true")]
    assert dfs.loc["corner-across", "seeds"] == 0 and dfs["rank"].isna().all()
    assert (dfs["left_out"] == "no finished run of `corner-across`").all()
    assert rows.loc[("best_train", "ps"), "rank"].notna().all()
