"""The conditional operator space (``smm-mini-op-true``) in hposuite: conditional, or flat for its Optuna wrapper."""

from __future__ import annotations

import pytest

pytest.importorskip("hposuite")

import pandas as pd

from hposuite_ext import ACCURACY, benchmark_description, value_column
from smm_plugins import load_benchmark
from smm_plugins.lab.operators import OPERATORS

NAME = "smm-mini-op-true"


def _study(out, optimizer: str, **kwargs) -> pd.DataFrame:
    import hposuite

    study = hposuite.create_study(
        output_dir=out,
        name="op",
        optimizers=[optimizer],
        benchmarks=[benchmark_description(NAME, **kwargs)],
        num_seeds=1,
        budget=10,
        on_error="raise",
    )
    study.optimize()
    return pd.concat([pd.read_parquet(f) for f in sorted((out / "op").glob("*/*.parquet"))], ignore_index=True)


def test_description_is_conditional_by_default_and_flat_on_request() -> None:
    conditional, flat = benchmark_description(NAME), benchmark_description(NAME, conditions=False)
    assert len(conditional.config_space.conditions) == 5 and not flat.config_space.conditions
    assert list(conditional.config_space["operator"].choices) == list(OPERATORS)
    assert dict(conditional.predefined_points["default"].values) == {
        "operator": "linear",
        "weight_A": 0.5,
        "weight_B": 0.5,
    }
    assert set(flat.predefined_points["default"].values) == set(load_benchmark(NAME).space.names)


def test_random_search_on_the_conditional_space(tmp_path) -> None:
    runs = _study(tmp_path, "RandomSearch")
    bench = load_benchmark(NAME)
    assert len(runs) == 10 and runs[value_column(ACCURACY)].between(0, 1).all()
    assert runs[value_column(ACCURACY)].max() > bench.evaluate(bench.space.default_vector())


def test_optuna_wrapper_needs_the_flat_description(tmp_path) -> None:
    # hposuite 0.1.3's Optuna wrapper refuses conditional spaces; the flat description runs it.
    with pytest.raises(NotImplementedError, match="Conditions are not yet supported"):
        _study(tmp_path / "conditional", "Optuna")
    runs = _study(tmp_path / "flat", "Optuna", conditions=False)
    assert len(runs) == 10 and runs[value_column(ACCURACY)].between(0, 1).all()
