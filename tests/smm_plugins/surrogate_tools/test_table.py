"""Reading and checking merge tables: errors naming column and row, folders of parts, named spaces, the split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smm_plugins.space import dfs_space, ps_space
from smm_plugins.surrogate_tools.table import read_table, resolve_space, split_indices, validate_table


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda df: df.drop(columns=["w_B_01"]), r"missing 1 parameter column.*'w_B_01'"),
        (lambda df: df.drop(columns=["test_acc"]), r"objective column\(s\) \['test_acc'\]"),
        (lambda df: df.assign(w_C_00=0.5), r"\['w_C_00'\].*SPACE.json"),
        (lambda df: df.assign(train_acc=df["train_acc"].where(df.index != 7)), r"'train_acc'.*NaN.*row 7"),
        (lambda df: df.assign(test_acc=df["test_acc"] * 100), r"'test_acc' row 0 = .* out of range"),
        (lambda df: df.assign(w_A_02=df["w_A_02"].where(df.index != 3, 1.7)), r"'w_A_02' = 1.7 is out of range"),
        (lambda df: df.assign(w_A_03=df["w_A_03"].where(df.index != 4)), r"'w_A_03' row 4 = nan is not finite"),
        (lambda df: df.assign(w_A_00="x"), r"'w_A_00' is not numeric"),
    ],
)
def test_table_errors_name_the_column(make_table, mutate, match) -> None:
    space = ps_space("tiny-ps", n_layers=4)
    df = mutate(make_table(space, n=30))
    with pytest.raises(ValueError, match=match):
        validate_table(df, space)


def test_dfs_invalid_category_and_extra_columns_allowed_on_request(make_table) -> None:
    space = dfs_space("tiny-dfs", n_layers=3)
    df = make_table(space, n=30)
    bad = df.assign(layer_01=df["layer_01"].where(df.index != 2, 7))
    with pytest.raises(ValueError, match=r"'layer_01' = 7.0 is not a valid category"):
        validate_table(bad, space)
    X, ys = validate_table(df.assign(comment=1.0), space, allow_extra_columns=True)
    assert X.shape == (30, space.dim) and set(ys) == {"train_acc", "test_acc"}


def test_read_table_folder_skips_hidden_parts(make_table, tmp_path: Path) -> None:
    space = ps_space("tiny-ps", n_layers=2)
    df = make_table(space, n=40)
    df.iloc[:25].to_parquet(tmp_path / "b.parquet")
    df.iloc[25:].to_csv(tmp_path / "a.csv", index=False)
    (tmp_path / ".part-tmp.parquet").write_bytes(b"half-written")
    t = read_table(tmp_path)
    assert len(t) == 40
    np.testing.assert_allclose(
        t["train_acc"].to_numpy(), np.r_[df["train_acc"].to_numpy()[25:], df["train_acc"].to_numpy()[:25]]
    )
    with pytest.raises(ValueError, match="no .parquet or .csv"):
        read_table(tmp_path / "nothing") if (tmp_path / "nothing").mkdir() is None else None


def test_named_spaces_are_the_core_ones() -> None:
    from smm_plugins.space import dfs_space as core_dfs
    from smm_plugins.space import ps_space as core_ps

    # A user's table built with --space ps must not be labelled as one of the lab's benchmarks.
    assert resolve_space("ps") == core_ps() and resolve_space("PS").name == "smm-bench-ps"
    assert resolve_space("dfs") == core_dfs()


def test_split_indices_are_seeded_sorted_disjoint_and_cover_every_row() -> None:
    split = split_indices(1000, seed=3, test_fraction=0.1, val_fraction=0.15)
    assert {k: len(v) for k, v in split.items()} == {"test": 100, "val": 150, "train": 750}
    every = np.concatenate(list(split.values()))
    assert sorted(every.tolist()) == list(range(1000))  # disjoint and complete
    assert all((np.diff(v) > 0).all() for v in split.values())
    again, other = split_indices(1000, seed=3, test_fraction=0.1, val_fraction=0.15), split_indices(1000, seed=4)
    assert all(np.array_equal(split[k], again[k]) for k in split)
    assert not np.array_equal(split["test"], other["test"])
    with pytest.raises(ValueError, match="DATA has 9 rows"):
        split_indices(9, seed=0)
