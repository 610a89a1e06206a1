"""Training rows at and around the reference configurations: where they lie and how they are labelled."""

from __future__ import annotations

import numpy as np
import pytest

from smm_plugins import load_benchmark
from smm_plugins.references import reference_configs
from smm_plugins.space import dfs_space, ps_space
from smm_plugins.surrogate_tools.reference_rows import reference_neighbourhood, reference_rows


def test_each_reference_gets_its_rows_starting_with_itself() -> None:
    space = ps_space(n_layers=4)
    X, labels = reference_neighbourhood(space, 40, seed=3)
    refs = reference_configs(space)
    assert X.shape == (4 * 40, space.dim) and len(labels) == len(X)
    for k, (label, ref) in enumerate(refs.items()):
        assert labels[40 * k : 40 * (k + 1)] == [label] * 40
        np.testing.assert_array_equal(X[40 * k], ref)
    assert np.all((X >= space.lower) & (X <= space.upper))


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    space = ps_space(n_layers=4)
    a, _ = reference_neighbourhood(space, 30, seed=1)
    b, _ = reference_neighbourhood(space, 30, seed=1)
    c, _ = reference_neighbourhood(space, 30, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_rows_stay_near_their_reference_and_reach_out_to_max_step() -> None:
    space = ps_space(n_layers=8)
    X, labels = reference_neighbourhood(space, 401, seed=0, max_scale=0.05, max_step=0.2)
    for label, ref in reference_configs(space).items():
        rows = X[np.array(labels) == label]
        dev = np.abs(rows - ref).max(axis=1)
        # Steps move each value at most max_step of its range; 0.05-scale Gaussians rarely beyond 0.25.
        assert np.quantile(dev, 0.95) <= 0.25, label
        # ... but the neighbourhood is not a point: most rows differ from the reference.
        assert np.mean(dev > 0.01) > 0.7, label
    # At a corner (A alone) the clipped Gaussians keep about half the values exactly on the corner.
    corner_rows = X[np.array(labels) == "A alone"][1:201]
    assert 0.3 < np.mean(corner_rows == reference_configs(space)["A alone"]) < 0.7


def test_dfs_codes_stay_valid_and_the_duplicate_default_gets_no_rows() -> None:
    space = dfs_space(n_layers=6)
    X, labels = reference_neighbourhood(space, 100, seed=0, max_flip=0.5)
    # DFS default is the same vector as "A alone": its rows would only double A's.
    assert sorted(set(labels)) == ["A alone", "B alone"]
    codes = X[:, space.is_categorical]
    assert set(np.unique(codes).tolist()) == {0.0, 1.0, 2.0}
    a_rows = X[np.array(labels) == "A alone"]
    # Most codes stay A's (0): flips happen with probability <= max_flip (Gaussian half) or t <= max_step.
    assert 0.5 < np.mean(a_rows[:, space.is_categorical] == 0) < 1.0
    space.validate(X)


def test_no_flip_no_step_keeps_every_code() -> None:
    space = dfs_space(n_layers=4)
    X, labels = reference_neighbourhood(space, 20, seed=0, max_flip=0.0, max_step=0.0)
    for label, ref in reference_configs(space).items():
        if label in labels:
            rows = X[np.array(labels) == label]
            np.testing.assert_array_equal(rows[:, space.is_categorical], np.tile(ref[space.is_categorical], (20, 1)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_per_reference": 0}, r"n_per_reference = 0 is not allowed; allowed: an integer >= 1"),
        ({"n_per_reference": 2.5}, r"n_per_reference = 2\.5 is not allowed"),
        ({"min_scale": 0.0}, r"min_scale = 0\.0, max_scale = 0\.3 are not allowed; allowed: 0 < min_scale"),
        ({"min_scale": 0.5, "max_scale": 0.1}, r"min_scale = 0\.5, max_scale = 0\.1 are not allowed"),
        ({"max_step": 1.5}, r"max_step = 1\.5 is not allowed; allowed: a number in \[0, 1\]"),
        ({"max_flip": -0.1}, r"max_flip = -0\.1 is not allowed; allowed: a number in \[0, 1\]"),
    ],
)
def test_bad_options_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        reference_neighbourhood(ps_space(n_layers=2), **kwargs)


def test_reference_rows_are_labelled_by_the_truth() -> None:
    truth = load_benchmark("smm-mini-ps-true")
    rows = reference_rows(truth, 5, seed=0)
    assert len(rows) == 20 and set(rows["strategy"]) == {"reference"}
    assert list(rows["run_id"].unique()) == ["A alone", "B alone", "base", "default"]
    X = rows[truth.space.names].to_numpy()
    for obj in truth.objectives:
        np.testing.assert_array_equal(rows[obj].to_numpy(), truth.evaluate(X, obj))
    # The first row of "A alone" is model A itself (docs/merge-lab.md: 56.0 % / 52.8 %).
    assert rows.loc[0, "train_acc"] == pytest.approx(0.560) and rows.loc[0, "test_acc"] == pytest.approx(0.528)
