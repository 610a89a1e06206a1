"""Identical runs: detected across seeds and across optimisers, named, and left out of the statistical tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.compare.replicates import find_identical_runs, same_run


def _runs(values: dict[str, list[np.ndarray]], benchmark: str = "b") -> pd.DataFrame:
    # A runs frame as read_runs gives it: one row per evaluation.
    return pd.DataFrame(
        [
            {"benchmark": benchmark, "optimizer": o, "seed": s, "trial": t, "value": float(v)}
            for o, seqs in values.items()
            for s, seq in enumerate(seqs)
            for t, v in enumerate(seq)
        ]
    )


def _independent(n_seeds: int, n: int = 20, offset: int = 0) -> list[np.ndarray]:
    return [np.random.default_rng(offset + s).random(n) for s in range(n_seeds)]


def test_an_optimiser_that_ignores_its_seed_and_an_alias_are_found() -> None:
    sobol = np.random.default_rng(99).random(20)
    # Like unscrambled QMC: trial 0 comes from a seeded random sampler, every later trial is the same sequence.
    qmc = [np.r_[np.random.default_rng(50 + s).random(), sobol[1:]] for s in range(4)]
    good = _independent(4)
    frame = _runs(
        {
            "random": good,
            "optuna.samplers:RandomSampler": [g.copy() for g in good],
            "qmc": qmc,
            "tpe": _independent(4, offset=10),
        }
    )
    found = find_identical_runs(frame)
    assert found.same_seeds == {("b", "qmc"): [(0, 1, 2, 3)]}
    # The registered name is kept, the class path is named as its duplicate.
    assert found.same_as == {("b", "optuna.samplers:RandomSampler"): "random"}
    kept = found.drop_from(frame)
    assert sorted(kept["optimizer"].unique()) == ["random", "tpe"]
    md = found.markdown()
    assert "## Identical runs" in md and "`qmc`: identical runs on seeds 0, 1, 2, 3" in md
    assert "`optuna.samplers:RandomSampler`: identical runs to `random` on every seed" in md


def test_independent_runs_and_partial_repeats() -> None:
    assert not find_identical_runs(_runs({"a": _independent(5), "b": _independent(5, offset=10)}))
    # Coarse values (an accuracy on 1,000 points) coincide at some evaluations, far fewer than 90 %.
    coarse = [np.round(np.random.default_rng(s).uniform(0.50, 0.52, 200), 3) for s in range(2)]
    assert 0 < np.mean(coarse[0] == coarse[1]) < 0.2 and not same_run(*coarse)
    # Seeds 1 and 3 repeat each other, the rest are independent: that group is named.
    seqs = _independent(4)
    seqs[3] = seqs[1].copy()
    assert find_identical_runs(_runs({"a": seqs})).same_seeds == {("b", "a"): [(1, 3)]}
    # An alias on the shared seeds only (the other one ran one more seed) is still an alias.
    more = _independent(3)
    frame = _runs({"a": more, "z": [m.copy() for m in more[:2]]})
    assert find_identical_runs(frame).same_as == {("b", "z"): "a"}


def test_identical_runs_leave_the_tests(tmp_path: Path) -> None:
    from smm_plugins.compare.report import incumbent_curves
    from smm_plugins.compare.stats import critical_differences, pairwise_wilcoxon

    rng = np.random.default_rng(0)
    good = [np.sort(rng.random(10)) for _ in range(6)]
    frame = _runs(
        {
            "good": good,
            "flat": [np.full(10, 0.3)] * 6,
            "good-alias": [g.copy() for g in good],
            "other": _independent(6, 10, 7),
        }
    )
    frame["test_acc"] = frame["value"]
    frame["sim_time"] = frame["trial"] + 1.0
    frame["wall_time"] = frame["sim_time"]
    df = incumbent_curves(frame)
    found = find_identical_runs(df)
    tested = found.drop_from(df)
    wil = pairwise_wilcoxon(tested)
    assert set(wil["a"]) | set(wil["b"]) == {"good", "other"}
    assert all(set(cd.ranks) == {"good", "other"} for cd in critical_differences(tested, wil))


@pytest.mark.slow
def test_report_names_unscrambled_qmc_and_leaves_it_out_of_the_tests(tmp_path: Path) -> None:
    from smm_plugins.compare import Experiment, make_report, run_experiment

    exp = Experiment(
        benchmarks=["smm-mini-ps"],
        optimizers=["random", "optuna.samplers:QMCSampler", "optuna.samplers:RandomSampler", "de"],
        seeds=3,
        budget=12,
        workers=1,
    )
    run_experiment(exp, tmp_path, progress=False)
    res = make_report(tmp_path, truth_check=False)
    md = res.markdown.read_text()
    assert "## Identical runs" in md
    assert "`optuna.samplers:QMCSampler`: identical runs on seeds 0, 1, 2" in md
    assert "`optuna.samplers:RandomSampler`: identical runs to `random` on every seed" in md
    wil = pd.read_csv(tmp_path / "report" / "wilcoxon.csv")
    assert set(wil["a"]) | set(wil["b"]) == {"de", "random"}
    fr = pd.read_csv(tmp_path / "report" / "friedman.csv")
    assert not fr["ranking"].str.contains("Sampler").any()
    table = pd.read_csv(tmp_path / "report" / "final_table.csv")  # still shown, with its zero spread
    qmc = table[table["optimizer"] == "optuna.samplers:QMCSampler"].iloc[0]
    assert qmc["train_std"] == 0.0


def _brute_force_groups(seqs: list[np.ndarray]) -> list[list[int]]:
    # The definition: each run joins the first group whose first run it repeats (same_run), else starts one.
    groups: list[list[int]] = []
    for i, seq in enumerate(seqs):
        group = next((g for g in groups if same_run(seqs[g[0]], seq)), None)
        if group is None:
            groups.append([i])
        else:
            group.append(i)
    return groups


@pytest.mark.parametrize("length", [1, 7, 10, 50, 203])
def test_grouping_of_many_seeds_is_the_definitions(length: int) -> None:
    # Copies of a few base runs with 0 .. 2x the allowed number of changed evaluations, the changes spread one per
    # stretch of the sequence (the worst case for a block filter) or bunched; values on a coarse grid, so that
    # independent runs share values by chance too.
    rng = np.random.default_rng(length)
    allowed = int(np.floor(length * 0.1 + 1e-9))
    bases = [np.round(rng.random(length), 2) for _ in range(5)]
    seqs = []
    for k in range(300):
        seq = bases[k % 5].copy()
        n_changed = int(rng.integers(0, 2 * allowed + 2))
        spread = np.linspace(0, length - 1, max(n_changed, 1)).astype(int)[:n_changed]
        where = spread if k % 2 else rng.choice(length, min(n_changed, length), replace=False)
        seq[where] = np.round(rng.random(len(where)), 2) + 2.0  # never equal to a base value
        seqs.append(seq if k % 7 else np.round(rng.random(length), 2))
    df = _runs({"opt": seqs})
    found = find_identical_runs(df).same_seeds.get(("b", "opt"), [])
    assert found == [tuple(g) for g in _brute_force_groups(seqs) if len(g) > 1]
    assert found  # copies within the allowed changes are there to be found
