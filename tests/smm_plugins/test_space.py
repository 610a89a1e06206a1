"""The canonical search spaces: facts, validation, clipping, sampling, (de)serialisation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from smm_plugins.space import Condition, Parameter, SearchSpace, dfs_space, ps_space


def test_ps_space_facts() -> None:
    s = ps_space()
    assert s.dim == 64 and s.n_categorical == 0
    assert s.names[0] == "w_A_00" and s.names[31] == "w_A_31" and s.names[32] == "w_B_00"
    assert np.all(s.lower == 0.0) and np.all(s.upper == 1.0)
    assert s.metadata["kind"] == "ps"
    np.testing.assert_array_equal(s.validate(s.default_vector()), np.full((1, 64), 0.5))


def test_dfs_space_facts() -> None:
    s = dfs_space()
    assert s.dim == 95 and s.n_categorical == 32
    assert s.is_categorical[:32].all() and not s.is_categorical[32:].any()
    assert s.parameters[0].choices == (0, 1, 2)
    assert np.all(s.lower[32:] == 0.4) and np.all(s.upper[32:] == 1.5)
    assert s.names[32] == "scale_00" and s.names[-1] == "scale_62"
    s.validate(s.default_vector())


def test_names_override_and_count_check() -> None:
    names = [f"x{i}" for i in range(64)]
    assert ps_space(names=names).names == names
    with pytest.raises(ValueError, match="names has 63 entries; PS needs"):
        ps_space(names=names[:63])
    with pytest.raises(ValueError, match="DFS needs 32 \\+ 63 = 95"):
        dfs_space(names=names)


def test_validate_accepts_ints_lists_and_dataframes() -> None:
    import pandas as pd

    s = dfs_space()
    X = s.sample(4, 0)
    df = pd.DataFrame(X, columns=s.names)
    np.testing.assert_array_equal(s.validate(df), X)
    np.testing.assert_array_equal(s.validate(X.tolist()), X)
    ints = np.zeros((2, 95), dtype=np.int64)
    ints[:, 32:] = 1
    assert s.validate(ints).dtype == np.float64
    out = s.validate(X)
    assert out is not X and out.flags.c_contiguous  # a copy: callers' arrays are never modified


@pytest.mark.parametrize(
    "col, value, match",
    [
        (3, 2.5, r"X\[0\] variable 'layer_03' = 2\.5 is not a valid category; allowed: one of \{0, 1, 2\}"),
        (3, 3.0, r"'layer_03' = 3\.0 is not a valid category"),
        (3, -1.0, r"'layer_03' = -1\.0 is not a valid category"),
        (50, 1.6, r"'scale_18' = 1\.6 is out of range; allowed: a finite number in \[0\.4, 1\.5\]"),
        (50, -np.inf, r"'scale_18' = -inf is not finite"),
    ],
)
def test_validate_errors_name_variable_value_and_allowed(col: int, value: float, match: str) -> None:
    s = dfs_space()
    X = s.default_vector()
    X[col] = value
    with pytest.raises(ValueError, match=match):
        s.validate(X)


def test_validate_reports_first_bad_row() -> None:
    s = ps_space()
    X = np.full((5, 64), 0.5)
    X[3, 7] = 1.01
    with pytest.raises(ValueError, match=r"X\[3\] variable 'w_A_07' = 1\.01"):
        s.validate(X)
    with pytest.raises(ValueError, match=r"configs\[3\]"):
        s.validate(X, argname="configs")


def test_clip_reference_semantics() -> None:
    s = dfs_space()
    X = np.full((2, 95), 1.0)
    X[0, 0] = 7.0  # categorical: passed through unchecked
    X[0, 40] = 9.0
    X[1, 41] = -3.0
    X[1, 42] = np.nan  # NaN stays NaN (LightGBM's missing value)
    out = s.clip(X)
    assert out[0, 0] == 7.0 and out[0, 40] == 1.5 and out[1, 41] == 0.4 and np.isnan(out[1, 42])
    assert X[0, 40] == 9.0  # input untouched
    with pytest.raises(ValueError, match="has 94 columns"):
        s.clip(np.ones(94))
    with pytest.raises(ValueError, match="empty batch"):
        s.clip(np.ones((0, 95)))
    with pytest.raises(ValueError, match="'layer_00' = 'a' is not a number"):
        s.clip([["a"] + [1.0] * 94])


def test_sample_is_valid_seeded_and_uses_all_choices() -> None:
    s = dfs_space()
    a, b = s.sample(500, 3), s.sample(500, 3)
    np.testing.assert_array_equal(a, b)
    s.validate(a)
    assert set(np.unique(a[:, :32])) == {0.0, 1.0, 2.0}
    assert a[:, 32:].min() >= 0.4 and a[:, 32:].max() <= 1.5
    assert not np.array_equal(a, s.sample(500, 4))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        s.sample(0)


def test_config_roundtrip() -> None:
    s = dfs_space()
    row = s.sample(1, 8)[0]
    cfg = s.to_config(row)
    assert isinstance(cfg["layer_00"], int) and isinstance(cfg["scale_00"], float)
    np.testing.assert_array_equal(s.to_vector(cfg), row)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['bogus'\]"):
        s.to_vector({**cfg, "bogus": 1})
    cfg.pop("scale_05")
    with pytest.raises(ValueError, match=r"missing 1 parameter\(s\).*scale_05"):
        s.to_vector(cfg)
    with pytest.raises(ValueError, match="'layer_01' = 'x' is not a number"):
        s.to_vector({**s.default_config(), "layer_01": "x"})


def test_json_roundtrip(tmp_path: Path) -> None:
    s = dfs_space()
    path = tmp_path / "space.json"
    s.to_json(str(path))
    back = SearchSpace.from_json(str(path))
    assert back.to_dict() == s.to_dict() and back.names == s.names
    assert json.loads(path.read_text())["parameters"][0]["choices"] == [0, 1, 2]
    with pytest.raises(FileNotFoundError):
        SearchSpace.from_json(str(tmp_path / "missing.json"))


def test_parameter_checks() -> None:
    with pytest.raises(ValueError, match="lower < upper"):
        Parameter("a", "float", lower=1.0, upper=0.0)
    with pytest.raises(ValueError, match="default 2 is outside"):
        Parameter("a", "float", lower=0.0, upper=1.0, default=2)
    with pytest.raises(ValueError, match="distinct integers"):
        Parameter("c", "categorical", choices=(0, 0))
    with pytest.raises(ValueError, match="must be integers"):
        Parameter("c", "categorical", choices=(0.5, 1))
    with pytest.raises(ValueError, match="kind must be"):
        Parameter("c", "int")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duplicate parameter names"):
        SearchSpace("s", (Parameter("a", "float", 0, 1), Parameter("a", "float", 0, 1)))


def test_dataframe_columns_are_matched_by_name() -> None:
    import pandas as pd

    s = ps_space()
    X = s.sample(3, 1)
    shuffled = pd.DataFrame(X, columns=s.names)[s.names[::-1]]
    np.testing.assert_array_equal(s.validate(shuffled), X)
    np.testing.assert_array_equal(s.clip(shuffled), X)
    np.testing.assert_array_equal(s.validate(pd.DataFrame(X)), X)  # integer labels: positions
    with pytest.raises(ValueError, match=r"columns do not match.*unknown: \['w_C_00'\]; missing: \['w_A_00'\]"):
        s.validate(pd.DataFrame(X, columns=["w_C_00"] + s.names[1:]))


def test_parameter_bounds_and_codes() -> None:
    f = Parameter("w", "float", lower=0.25, upper=1.5, default=1.0)
    c = Parameter("layer", "categorical", choices=(2, 0, 1), default=0)
    assert f.bounds == (0.25, 1.5) and f.codes == ()
    assert c.bounds == (0.0, 2.0) and c.codes == (2, 0, 1)
    space = SearchSpace("s", (f, c))
    np.testing.assert_array_equal(space.lower, [0.25, 0.0])
    np.testing.assert_array_equal(space.upper, [1.5, 2.0])


def test_derived_arrays_do_not_enter_equality_or_repr() -> None:
    a, b = ps_space("x", n_layers=2), ps_space("x", n_layers=2)
    assert a == b
    assert "_lower" not in repr(a) and "_index" not in repr(a)


# -- conditional parameters and labelled categoricals ------------------------------------------


def _merge_space() -> SearchSpace:
    """A small conditional space: a labelled operator, a shared weight and one nested parameter."""
    op = Parameter("op", "categorical", choices=(0, 1, 2), labels=("lin", "sph", "trim"), default=0)
    return SearchSpace(
        "cond",
        (
            op,
            Parameter("w", "float", 0.0, 2.0, default=1.0, condition=Condition("op", ("lin", "trim"))),
            Parameter("t", "float", 0.0, 1.0, default=0.5, condition=Condition("op", (1,))),
            Parameter("mode", "categorical", choices=(0, 1), default=0, condition=Condition("op", ("trim",))),
            Parameter("k", "float", 0.1, 1.0, default=0.5, condition=Condition("mode", (1,))),  # nested
        ),
    )


def test_conditions_decide_which_parameters_are_active() -> None:
    s = _merge_space()
    assert s.conditional and not ps_space().conditional and not dfs_space().conditional
    # Labels in a condition are stored as the parent's codes.
    assert s["w"].condition == Condition("op", (0, 2)) and s["t"].condition == Condition("op", (1,))
    X = np.array([[0, 1.5, 0.5, 0, 0.5], [1, 1.0, 0.2, 1, 0.5], [2, 1.0, 0.5, 0, 0.9], [2, 1.0, 0.5, 1, 0.9]])
    np.testing.assert_array_equal(
        s.active_mask(X),
        [[1, 1, 0, 0, 0], [1, 0, 1, 0, 0], [1, 1, 0, 1, 0], [1, 1, 0, 1, 1]],
    )
    np.testing.assert_array_equal(s.active_mask(X[3]), s.active_mask(X)[3:])  # one row
    assert s.is_active("k", {"op": "trim", "w": 1.0, "mode": 1})
    assert not s.is_active("k", {"op": "sph", "mode": 1})  # its parent `mode` is itself inactive
    assert not s.is_active("t", {}) and s.is_active("op", {})


def test_to_vector_fills_inactive_parameters_and_accepts_labels() -> None:
    s = _merge_space()
    np.testing.assert_array_equal(s.to_vector({"op": "sph", "t": 0.25}), [1, 1.0, 0.25, 0, 0.5])
    np.testing.assert_array_equal(s.to_vector({"op": 1, "t": 0.25}), [1, 1.0, 0.25, 0, 0.5])  # a code
    # Values of inactive parameters (a flat framework samples them all) are kept; the objective ignores them.
    np.testing.assert_array_equal(
        s.to_vector({"op": "lin", "w": 0.5, "t": 0.9, "mode": 1, "k": 0.2}), [0, 0.5, 0.9, 1, 0.2]
    )
    with pytest.raises(ValueError, match=r"missing 1 active parameter\(s\) of search space 'cond': \['t'\]"):
        s.to_vector({"op": "sph"})
    with pytest.raises(ValueError, match=r"missing 1 active parameter\(s\).*\['k'\]"):
        s.to_vector({"op": "trim", "w": 1.0, "mode": 1})
    with pytest.raises(ValueError, match=r"missing 1 active parameter\(s\).*\['op'\]"):
        s.to_vector({"t": 0.3})
    with pytest.raises(
        ValueError, match=r"variable 'op' = 'ties' is not a valid category; allowed: one of \{'lin', 'sph', 'trim'\}"
    ):
        s.to_vector({"op": "ties", "w": 1.0})
    with pytest.raises(ValueError, match=r"variable 'mode' = 'a' is not a valid category; allowed: one of \{0, 1\}"):
        s.to_vector({"op": "trim", "w": 1.0, "mode": "a"})  # an unlabelled categorical takes codes only


def test_to_active_config_and_default_config_keep_only_active_parameters() -> None:
    s = _merge_space()
    assert s.default_config() == {"op": "lin", "w": 1.0}
    row = np.array([2, 0.75, 0.5, 1, 0.3])
    assert s.to_active_config(row) == {"op": "trim", "w": 0.75, "mode": 1, "k": 0.3}
    np.testing.assert_array_equal(s.to_vector(s.to_active_config(row)), row)
    # Spaces without conditions or labels keep their defaults as they were.
    assert dfs_space().default_config() == {p.name: p.default for p in dfs_space().parameters}
    assert ps_space().to_active_config(np.full(64, 0.5)) == ps_space().to_config(np.full(64, 0.5))


def test_validate_fills_nan_only_in_inactive_columns() -> None:
    s = _merge_space()
    X = np.array([[1, np.nan, 0.25, np.nan, np.nan], [0, 0.5, np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(s.validate(X), [[1, 1.0, 0.25, 0, 0.5], [0, 0.5, 0.5, 0, 0.5]])
    assert np.isnan(X[0, 1])  # the caller's array is untouched
    with pytest.raises(ValueError, match=r"X\[0\] variable 't' = nan is not finite"):
        s.validate([1, np.nan, np.nan, 0, 0.5])  # t is active for op = 1
    with pytest.raises(ValueError, match=r"X\[0\] variable 'w' = 3.0 is out of range"):
        s.validate([1, 3.0, 0.5, 0, 0.5])  # an inactive value must still be a valid one
    np.testing.assert_array_equal(s.clip([[1, np.nan, 2.0, 0, 0.5]]), [[1, 1.0, 1.0, 0, 0.5]])


def test_conditional_space_json_roundtrip(tmp_path: Path) -> None:
    s = _merge_space()
    path = tmp_path / "space.json"
    s.to_json(str(path))
    data = json.loads(path.read_text())
    assert data["parameters"][0]["labels"] == ["lin", "sph", "trim"]
    assert data["parameters"][1]["condition"] == {"parent": "op", "values": [0, 2]}
    back = SearchSpace.from_json(str(path))
    assert back == s and back.to_dict() == s.to_dict()
    np.testing.assert_array_equal(back.active_mask(s.sample(20, 0)), s.active_mask(s.sample(20, 0)))
    # Spaces without conditions write no new keys (SPACE.json files stay as they were).
    assert all(set(p) <= {"name", "kind", "default", "lower", "upper", "choices", "description"}
               for p in dfs_space().to_dict()["parameters"])  # fmt: skip


@pytest.mark.parametrize(
    "params, match",
    [
        (
            (
                Parameter("w", "float", 0, 1, condition=Condition("op", (0,))),
                Parameter("op", "categorical", choices=(0, 1)),
            ),
            r"parameter 'w' has condition parent 'op', which is not a parameter declared before it; allowed: .*\[\]",
        ),
        (
            (Parameter("x", "float", 0, 1), Parameter("w", "float", 0, 1, condition=Condition("x", (0,)))),
            r"condition parent 'x', which is not a categorical",
        ),
        (
            (
                Parameter("op", "categorical", choices=(0, 1)),
                Parameter("w", "float", 0, 1, condition=Condition("op", (5,))),
            ),
            r"condition of parameter 'w': variable 'op' = 5 is not a valid category; allowed: one of \{0, 1\}",
        ),
        (
            (
                Parameter("op", "categorical", choices=(0, 1), labels=("a", "b")),
                Parameter("w", "float", 0, 1, condition=Condition("op", ("c",))),
            ),
            r"variable 'op' = 'c' is not a valid category; allowed: one of \{'a', 'b'\} \(codes \{0, 1\}\)",
        ),
    ],
)
def test_bad_conditions_name_parameter_value_and_allowed(params: tuple[Parameter, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SearchSpace("bad", params)


def test_bad_labels_and_condition_values() -> None:
    with pytest.raises(ValueError, match="labels must be 2 distinct non-empty strings"):
        Parameter("op", "categorical", choices=(0, 1), labels=("a",))
    with pytest.raises(ValueError, match="labels must be 2 distinct"):
        Parameter("op", "categorical", choices=(0, 1), labels=("a", "a"))
    with pytest.raises(ValueError, match="one per choice of a categorical"):
        Parameter("w", "float", 0, 1, labels=("a", "b"))
    with pytest.raises(ValueError, match="values must be distinct and non-empty"):
        Condition("op", ())
    with pytest.raises(ValueError, match="integer codes or labels"):
        Condition("op", (0.5,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"condition must be \{'parent': NAME, 'values'"):
        Parameter.from_dict({"name": "w", "kind": "float", "lower": 0, "upper": 1, "condition": {"parent": "op"}})
