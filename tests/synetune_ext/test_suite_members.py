"""Every member of the suite smm-mini by name in Syne Tune: load_blackbox, its ladder and a simulated Tuner run."""

from __future__ import annotations

import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")

from syne_tune.blackbox_repository import load_blackbox

import synetune_ext as S
from smm_plugins.fidelity import fidelity_ladder
from smm_plugins.registry import list_benchmarks, load_benchmark

MEMBERS = list_benchmarks(suite="smm-mini")


@pytest.mark.parametrize("name", MEMBERS)
def test_member_by_name(name: str, simulated_tuning) -> None:
    core = load_benchmark(name)
    bb = load_blackbox(name)
    full = int(core.n_problems_full["train_acc"])
    assert bb.benchmark is core and bb.fidelity_values.tolist() == fidelity_ladder(full)
    df = simulated_tuning(name, trials=2)
    assert df["trial_id"].nunique() >= 2 and set(df["n_problems"]) == set(bb.fidelity_values.tolist())
    for _, row in df.iterrows():
        config = {
            k: row[f"config_{k}"] for k in core.space.names if f"config_{k}" in row and row.notna()[f"config_{k}"]
        }
        x = core.space.to_vector(config)
        n = int(row["n_problems"])
        assert row["train_acc"] == (core.evaluate(x) if n == full else core.evaluate(x, n_problems=n, seed=0))
        assert row[S.ELAPSED_TIME] == pytest.approx(core.cost(x, n_problems=n))
