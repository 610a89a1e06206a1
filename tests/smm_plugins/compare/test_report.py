"""Report: average ranks, Friedman test, critical-difference groups and diagrams, reference lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2, friedmanchisquare

from smm_plugins.compare.stats import (
    average_ranks,
    critical_differences,
    friedman,
    not_significant_groups,
    pairwise_wilcoxon,
)


def _finals_frame(finals: dict[str, np.ndarray], benchmark: str = "b") -> pd.DataFrame:
    # An incumbent-curves frame holding only the final row of each run.
    return pd.DataFrame(
        [
            {
                "benchmark": benchmark,
                "optimizer": o,
                "seed": s,
                "trial": 9,
                "best_train": float(v[s]),
                "inc_test": float(v[s]) - 0.01,
                "sim_time": 1.0,
                "wall_time": 1.0,
            }
            for o, v in finals.items()
            for s in range(len(v))
        ]
    )


def test_average_ranks_by_hand_with_ties_and_an_incomplete_seed() -> None:
    wide = pd.DataFrame(
        {"x": [0.9, 0.5, 0.7, 0.1], "y": [0.8, 0.5, 0.9, np.nan], "z": [0.1, 0.2, 0.3, 0.4]}, index=[0, 1, 2, 3]
    )
    # seed 0: x 1, y 2, z 3; seed 1: x and y tie for 1-2 -> 1.5 each, z 3; seed 2: y 1, x 2, z 3;
    # seed 3 is left out (y did not finish it).
    ranks = average_ranks(wide)
    assert ranks.to_dict() == pytest.approx({"x": (1 + 1.5 + 2) / 3, "y": (2 + 1.5 + 1) / 3, "z": 3.0})


def test_friedman_matches_the_textbook_formula_and_scipy() -> None:
    rng = np.random.default_rng(3)
    wide = pd.DataFrame(rng.uniform(size=(7, 4)), columns=list("abcd"))  # no ties
    stat, p = friedman(wide)
    n, k = wide.shape
    rank_sums = average_ranks(wide).to_numpy() * n
    by_hand = 12.0 / (n * k * (k + 1)) * np.sum(rank_sums**2) - 3.0 * n * (k + 1)
    assert stat == pytest.approx(by_hand)
    assert p == pytest.approx(chi2.sf(by_hand, k - 1))
    assert (stat, p) == pytest.approx(tuple(friedmanchisquare(*wide.to_numpy().T)))


def test_friedman_is_undefined_for_two_optimisers_and_one_for_all_ties() -> None:
    two = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 1.0, 0.0]})
    assert all(np.isnan(friedman(two)))
    tied = pd.DataFrame({"a": [0.5, 0.6], "b": [0.5, 0.6], "c": [0.5, 0.6]})
    assert friedman(tied) == (0.0, 1.0)


def test_groups_are_maximal_runs_without_a_significant_pair() -> None:
    order = ["a", "b", "c", "d"]
    diff = {frozenset(p) for p in [("a", "c"), ("a", "d"), ("b", "d")]}
    assert not_significant_groups(order, diff) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert not_significant_groups(order, set()) == [("a", "b", "c", "d")]
    every = {frozenset((x, y)) for x in order for y in order if x != y}
    assert not_significant_groups(order, every) == []


def test_a_clear_winner_is_set_apart_and_the_rest_form_one_group() -> None:
    rng = np.random.default_rng(0)
    n = 12
    noise = rng.normal(0, 0.01, size=(3, n))
    df = _finals_frame({"best": 0.8 + noise[0], "mid1": 0.6 + noise[1], "mid2": 0.6 + noise[2]})
    cds = critical_differences(df, pairwise_wilcoxon(df))
    cd = next(c for c in cds if c.metric == "best_train")
    assert list(cd.ranks)[0] == "best" and cd.ranks["best"] == 1.0 and cd.n_seeds == n
    assert cd.significant and cd.friedman_p < 1e-3
    assert cd.groups == [tuple(sorted(["mid1", "mid2"], key=cd.ranks.get))]


def test_without_a_friedman_rejection_everyone_is_one_group() -> None:
    rng = np.random.default_rng(1)
    df = _finals_frame({o: rng.uniform(0.5, 0.6, 8) for o in ("p", "q", "r")})
    cd = critical_differences(df, pairwise_wilcoxon(df))[0]
    assert not cd.significant and len(cd.groups) == 1 and set(cd.groups[0]) == {"p", "q", "r"}


@pytest.mark.slow
def test_report_has_cd_diagrams_friedman_and_reference_lines(tmp_path: Path) -> None:
    from smm_plugins.compare import Experiment, register_optimizer, run_experiment
    from smm_plugins.compare.report import make_report
    from smm_plugins.registry import load_benchmark

    def corner(benchmark, seed, budget, *, objective="train_acc"):  # a deliberately poor optimiser
        rng = np.random.default_rng(seed)
        for _ in range(budget):
            x = benchmark.space.sample(1, rng)[0]
            benchmark.evaluate(np.minimum(x, 0.2), objective)

    register_optimizer("corner-random", corner, framework="numpy", description="random search near 0")
    exp = Experiment(
        benchmarks=["smm-mini-ps"], optimizers=["de", "random", "corner-random"], seeds=6, budget=25, workers=1
    )
    run_experiment(exp, tmp_path, progress=False)
    res = make_report(tmp_path)

    cd_png = tmp_path / "report" / "cd_smm-mini-ps.png"
    assert cd_png in res.pngs and cd_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and cd_png.stat().st_size > 10_000
    fr = pd.read_csv(tmp_path / "report" / "friedman.csv")
    assert set(fr["metric"]) == {"best_train", "inc_test"} and (fr["seeds"] == 6).all()
    train = fr[fr["metric"] == "best_train"].iloc[0]
    # The ranking puts the poor optimiser last; its Friedman p is scipy's on the final values.
    assert train["ranking"].split(" > ")[-1].startswith("corner-random")
    assert 0 <= train["friedman_p"] <= 1

    refs = pd.read_csv(tmp_path / "report" / "references.csv")
    bench = load_benchmark("smm-mini-ps")
    expected = bench.reference_configs()  # the space's references and the benchmark's own (the QP merge)
    assert list(refs["reference"]) == list(expected)
    for _, r in refs.iterrows():
        x = expected[r["reference"]]
        assert r["train_acc"] == pytest.approx(bench.evaluate(x, "train_acc"), abs=1e-6)
        assert r["test_acc"] == pytest.approx(bench.evaluate(x, "test_acc"), abs=1e-6)
    md = res.markdown.read_text()
    for needle in ("## Critical-difference diagrams", "cd_smm-mini-ps.png", "Friedman", "## Reference configurations"):
        assert needle in md
    assert "| smm-mini-ps | A alone |" in md


def test_a_benchmark_that_cannot_be_loaded_only_loses_its_reference_lines(caplog: pytest.LogCaptureFixture) -> None:
    from smm_plugins.compare.report import reference_values

    refs = reference_values({"gone": "/nonexistent/benchmark-dir", "smm-mini-dfs": "smm-mini-dfs"})
    assert set(refs["benchmark"]) == {"smm-mini-dfs"}
    assert list(refs["reference"]) == ["A alone = default", "B alone"]  # equal configurations are joined
    assert "no reference lines for benchmark 'gone'" in caplog.text
