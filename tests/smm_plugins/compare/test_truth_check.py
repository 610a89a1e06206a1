"""The report's truth check: incumbents re-scored on the exact twin, rankings, verdicts, the skip flag."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.compare.truth_check import kendall_tau_b, ranking_agreement, truth_twin, verdict


def _wide(rows: list[list[float]], names: tuple[str, ...] = ("a", "b", "c")) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(names)).rename_axis("seed")


def test_kendall_tau_of_average_ranks_by_hand() -> None:
    # Surrogate: a > b > c on every seed; truth: a > c > b. Pairs (a,b), (a,c) concordant, (b,c) discordant:
    # tau = (2 - 1) / 3. Every resample of seeds gives the same rankings, so the interval is that point.
    sur = _wide([[0.9, 0.8, 0.7]] * 4)
    tru = _wide([[0.6, 0.4, 0.5]] * 4)
    tau, low, high = ranking_agreement(sur, tru)
    assert tau == pytest.approx(1 / 3) and low == pytest.approx(1 / 3) and high == pytest.approx(1 / 3)
    tau, low, high = ranking_agreement(sur, _wide([[0.1, 0.2, 0.3]] * 4))  # reversed: tau = -1
    assert (tau, low, high) == pytest.approx((-1.0, -1.0, -1.0))


def test_vectorised_tau_b_equals_scipy_kendalltau_with_ties() -> None:
    from scipy.stats import kendalltau

    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, size=(200, 5)).astype(float)  # many ties, some all-tied rows
    y = rng.integers(0, 4, size=(200, 5)).astype(float)
    x[0] = 2.0
    ours = kendall_tau_b(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on an all-tied row (tau NaN)
        theirs = np.array([kendalltau(a, b).statistic for a, b in zip(x, y, strict=True)])
    np.testing.assert_allclose(ours, theirs, atol=1e-12, equal_nan=True)
    assert np.isnan(ours[0])


def test_the_bootstrap_interval_spreads_when_seeds_disagree() -> None:
    # Seed 0 ranks a > b on the truth, seed 1 b > a; the surrogate says a > b on both. Average ranks over
    # all seeds tie on the truth (tau undefined), resamples of [0, 0] give tau 1 and of [1, 1] give -1.
    sur = _wide([[0.9, 0.1], [0.9, 0.1]], ("a", "b"))
    tru = _wide([[0.9, 0.1], [0.1, 0.9]], ("a", "b"))
    tau, low, high = ranking_agreement(sur, tru, resamples=400)
    assert np.isnan(tau) and low == -1.0 and high == 1.0
    assert all(np.isnan(v) for v in ranking_agreement(sur[["a"]], tru[["a"]]))  # one optimiser: undefined


def _wilcoxon(rows: list[tuple[str, str, str, float, int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"benchmark": "b", "metric": m, "a": a, "b": b, "median_diff": d, "wins_a": wa, "wins_b": wb, "p_holm": p}
            for m, a, b, d, wa, wb, p in rows
        ]
    )


def test_verdict_names_what_holds_what_does_not_and_what_only_the_truth_finds() -> None:
    surrogate = _wilcoxon(
        [
            ("best_train", "de", "random", 0.05, 10, 0, 0.01),  # de > random: holds on the truth
            ("best_train", "cmaes", "random", -0.03, 1, 9, 0.02),  # random > cmaes: not significant on the truth
            ("inc_test", "de", "tpe", 0.02, 9, 1, 0.03),  # de > tpe: reversed on the truth
            ("best_train", "de", "tpe", 0.01, 6, 4, 0.40),  # not significant on the surrogate
        ]
    )
    truth = _wilcoxon(
        [
            ("best_train", "de", "random", 0.04, 10, 0, 0.002),
            ("best_train", "cmaes", "random", -0.01, 4, 6, 0.50),
            ("inc_test", "de", "tpe", -0.02, 0, 10, 0.004),
            ("best_train", "de", "tpe", -0.02, 0, 10, 0.01),  # tpe > de on the truth only
        ]
    )
    assert verdict("b", surrogate, truth) == (
        "1 of 3 significant difference(s) on the surrogate hold on the truth: de > random (train_acc). "
        "Do not hold: random > cmaes (train_acc) [truth: not significant, p (Holm) 0.5]; "
        "de > tpe (test_acc) [truth: reversed, p (Holm) 0.004]. "
        "Significant on the truth only: tpe > de (train_acc)."
    )
    assert verdict("b", surrogate.iloc[3:], truth.iloc[:0]) == "no significant difference on the surrogate to check."


def test_which_benchmarks_have_a_twin(tmp_path: Path) -> None:
    from smm_plugins.registry import load_benchmark

    assert truth_twin("smm-mini-ps", load_benchmark("smm-mini-ps")) == "smm-mini-ps-true"
    assert truth_twin("smm-mini-dfs", load_benchmark("smm-mini-dfs")) == "smm-mini-dfs-true"
    assert truth_twin("smm-mini-ps-true", load_benchmark("smm-mini-ps-true")) is None

    class Declared:
        meta = {"truth": "my_module:exact"}

    assert truth_twin("my_module:surrogate", Declared()) == "my_module:exact"

    class Built:  # a build-surrogate output declares its twin in build_info.json
        meta: dict[str, str] = {}
        directory = tmp_path

    assert truth_twin(str(tmp_path), Built()) is None
    (tmp_path / "build_info.json").write_text(json.dumps({"rows": {}, "truth": "smm-mini-ps-true"}))
    assert truth_twin(str(tmp_path), Built()) == "smm-mini-ps-true"


@pytest.fixture(scope="module")
def small_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from smm_plugins.compare import Experiment, register_optimizer, run_experiment

    def corner(benchmark, seed, budget, *, objective="train_acc"):  # a deliberately poor optimiser
        rng = np.random.default_rng(seed)
        for _ in range(budget):
            benchmark.evaluate(np.minimum(benchmark.space.sample(1, rng)[0], 0.15), objective)

    register_optimizer("corner-random-tc", corner, framework="numpy", description="random search near 0")
    out = tmp_path_factory.mktemp("truth")
    exp = Experiment(
        benchmarks=["smm-mini-ps"], optimizers=["de", "random", "corner-random-tc"], seeds=7, budget=20, workers=1
    )
    run_experiment(exp, out, progress=False)
    return out


@pytest.mark.slow
def test_truth_section_scores_the_returned_configurations_on_the_twin(small_grid: Path) -> None:
    from smm_plugins.compare import make_report, read_run_meta, read_runs
    from smm_plugins.compare.report import incumbent_curves
    from smm_plugins.compare.stats import final_values
    from smm_plugins.references import reference_configs
    from smm_plugins.registry import load_benchmark

    res = make_report(small_grid)
    md = res.markdown.read_text()
    assert "## Checked on the truth" in md and "**smm-mini-ps** on `smm-mini-ps-true`" in md

    # Every value equals a direct evaluation of the run's returned configuration on the twin.
    truth, surrogate = load_benchmark("smm-mini-ps-true"), load_benchmark("smm-mini-ps")
    fin = final_values(incumbent_curves(read_runs(small_grid))).set_index(["optimizer", "seed"])
    rows = []
    for f in sorted((small_grid / "runs").glob("*.parquet")):
        meta = read_run_meta(f)
        x = truth.space.to_vector(meta["best_config"])
        key = (meta["spec"]["optimizer"], meta["spec"]["seed"])
        assert surrogate.evaluate(x, "train_acc") == pytest.approx(fin.loc[key, "best_train"], abs=1e-9)
        rows.append(
            {
                "optimizer": key[0],
                "true_train": truth.evaluate(x, "train_acc"),
                "true_test": truth.evaluate(x, "test_acc"),
                "gap": fin.loc[key, "best_train"] - truth.evaluate(x, "train_acc"),
            }
        )
    direct = pd.DataFrame(rows).groupby("optimizer").agg(["mean", "std"])
    table = pd.read_csv(small_grid / "report" / "truth_check.csv").set_index("optimizer")
    assert (small_grid / "report" / "truth_check.csv") in res.csvs
    for opt in direct.index:
        assert table.loc[opt, "true_train_acc_mean"] == pytest.approx(direct.loc[opt, ("true_train", "mean")], abs=1e-6)
        assert table.loc[opt, "true_train_acc_std"] == pytest.approx(direct.loc[opt, ("true_train", "std")], abs=1e-6)
        assert table.loc[opt, "true_test_acc_mean"] == pytest.approx(direct.loc[opt, ("true_test", "mean")], abs=1e-6)
        gap = direct.loc[opt, ("gap", "mean")]
        assert table.loc[opt, "train_acc_surrogate_minus_truth"] == pytest.approx(gap, abs=1e-6)
        assert f"| {opt} | {direct.loc[opt, ('true_train', 'mean')]:.4f} ± " in md

    # The truth ranks the poor optimiser last, as the surrogate does; 7 seeds separate it (Holm, 3 pairs: the
    # smallest p is 3 x 2/2^7 = 0.047), on both metrics, and the truth confirms those 4 differences.
    assert table["train_acc_rank_truth"].idxmax() == "corner-random-tc"
    assert "on the truth: " in md and md.split("on the truth: ")[1].split(".\n")[0].endswith("corner-random-tc")
    assert "Kendall τ of the rankings (95 % bootstrap interval over seeds): train_acc " in md
    assert (
        "**Verdict (smm-mini-ps)**: 4 of 4 significant difference(s) on the surrogate hold on the truth: "
        "de > corner-random-tc (train_acc); random > corner-random-tc (train_acc); "
        "de > corner-random-tc (test_acc); random > corner-random-tc (test_acc)."
    ) in md

    # The references on both: the truth column is the twin's value at each reference configuration.
    for name, x in reference_configs(truth.space).items():
        line = next(s for s in md.splitlines() if s.startswith(f"| smm-mini-ps | {name} | ") and s.count("|") == 9)
        assert (
            f"| {truth.evaluate(x, 'train_acc'):.4f} |" in line
            and f"| {surrogate.evaluate(x, 'train_acc'):.4f} |" in line
        )


@pytest.mark.slow
def test_the_flag_skips_the_truth_check(small_grid: Path, tmp_path: Path) -> None:
    from smm_plugins.compare import make_report
    from smm_plugins.compare.cli import main

    res = make_report(small_grid, tmp_path / "api", truth_check=False)
    assert "Checked on the truth" not in res.markdown.read_text()
    assert not (tmp_path / "api" / "truth_check.csv").exists()
    assert main(["report", str(small_grid), "--out", str(tmp_path / "cli"), "--no-truth-check"]) == 0
    assert "Checked on the truth" not in (tmp_path / "cli" / "report.md").read_text()
    assert main(["report", str(small_grid), "--out", str(tmp_path / "with")]) == 0
    assert "## Checked on the truth" in (tmp_path / "with" / "report.md").read_text()


def test_exact_benchmarks_are_named_as_the_truth_not_as_missing_a_twin() -> None:
    import pandas as pd

    from smm_plugins.compare.truth_check import TruthCheck, _twins, markdown_truth_check

    notes: list[str] = []
    exact: list[str] = []
    specs = {"ps-true": "smm-mini-ps-true", "ps": "smm-mini-ps", "far16": "smm-mini-math-far-16-dfs-true"}
    assert list(_twins(specs, notes, exact)) == ["ps"] and exact == ["ps-true", "far16"] and not notes

    def check(exact_labels: list[str]) -> TruthCheck:
        empty = pd.DataFrame(columns=["benchmark"])
        refs = pd.DataFrame(columns=["benchmark", "reference"])
        return TruthCheck({}, empty, empty, empty, {}, refs, 0, 0.0, exact=exact_labels)

    every = markdown_truth_check(check(["a", "b"]), ["a", "b"])
    assert "Every benchmark of this grid is an exact objective" in every and "re-scored" not in every
    assert "No exact twin declared" not in every
    some = markdown_truth_check(check(["a", "b"]), ["a", "b", "c"])
    assert "Exact objectives: `a`, `b` (no surrogate)" in some and "No exact twin declared for `c` (" in some
