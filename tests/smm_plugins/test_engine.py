"""The compiled inference engine must reproduce LightGBM's CV-booster prediction exactly."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from smm_plugins.engine import TreeEnsemble
from smm_plugins.space import dfs_space, ps_space
from smm_plugins.testing import OFFICIAL_FILES, write_cv_booster_dir

TOL = 1e-12


def _load(path: Path) -> tuple[lgb.CVBooster, TreeEnsemble]:
    with open(path) as fh:
        strings = json.load(fh)["boosters"]
    return lgb.CVBooster(model_file=str(path)), TreeEnsemble.from_model_strings(strings)


def _reference(cv: lgb.CVBooster, X: np.ndarray) -> np.ndarray:
    return np.mean(cv.predict(X), axis=0)


def _thresholds(strings: list[str]) -> np.ndarray:
    vals = []
    for s in strings:
        for line in s.splitlines():
            if line.startswith("threshold="):
                vals.extend(float(v) for v in line[len("threshold=") :].split())
    return np.array(vals)


def _hard_inputs(space, rng: np.random.Generator, thresholds: np.ndarray, n: int = 600) -> np.ndarray:
    """Random rows plus the nasty cases: NaN, 0, -0.0, tiny values, +-inf, exact thresholds."""
    d = space.dim if hasattr(space, "dim") else len(space.names)
    lo, hi = space.lower, space.upper
    X = lo + (hi - lo) * rng.uniform(-0.5, 1.5, size=(n, d))
    special = np.array([np.nan, 0.0, -0.0, 1e-36, -1e-36, 1e-30, np.inf, -np.inf, -1.0, -0.5, 1e12])
    mask = rng.random(X.shape) < 0.15
    X[mask] = rng.choice(special, size=int(mask.sum()))
    at_thr = rng.random(X.shape) < 0.15  # values exactly on split thresholds (the <= edge)
    X[at_thr] = rng.choice(thresholds, size=int(at_thr.sum()))
    X[: n // 10] = space.sample(n // 10, rng)  # some ordinary in-range rows
    return X


def _check(cv: lgb.CVBooster, eng: TreeEnsemble, X: np.ndarray) -> None:
    ref = _reference(cv, X)
    got = eng.predict(X)
    assert got.shape == ref.shape
    assert np.max(np.abs(got - ref)) <= TOL
    assert np.array_equal(got, ref)  # in practice bit-identical
    for i in range(0, len(X), max(1, len(X) // 25)):  # the single-row path
        one = eng.predict(X[i])
        assert one.shape == (1,)
        assert abs(one[0] - ref[i]) <= TOL
        assert one[0] == ref[i]


@pytest.fixture(scope="module")
def ps_dir(tmp_path_factory) -> Path:
    space = ps_space(n_layers=4)
    return write_cv_booster_dir(
        tmp_path_factory.mktemp("ps"), space, n_trees=25, num_leaves=15, objectives=("train_acc",)
    )


@pytest.fixture(scope="module")
def dfs_cat_dir(tmp_path_factory) -> Path:
    space = dfs_space(n_layers=4)
    return write_cv_booster_dir(
        tmp_path_factory.mktemp("dfs"), space, n_trees=25, num_leaves=15, categorical=True, objectives=("train_acc",)
    )


@pytest.fixture(scope="module")
def dfs_nan_dir(tmp_path_factory) -> Path:
    space = dfs_space(n_layers=4)
    return write_cv_booster_dir(
        tmp_path_factory.mktemp("dfsnan"),
        space,
        n_trees=25,
        num_leaves=15,
        categorical=True,
        missing_fraction=0.2,
        objectives=("train_acc",),
    )


def test_numerical_model_exact(ps_dir: Path) -> None:
    path = ps_dir / OFFICIAL_FILES["train_acc"]
    cv, eng = _load(path)
    space = ps_space(n_layers=4)
    assert eng.n_features == 8 and eng.feature_names == space.names
    strings = json.loads(path.read_text())["boosters"]
    X = _hard_inputs(space, np.random.default_rng(0), _thresholds(strings))
    _check(cv, eng, X)
    eng.tree_block = 7  # several cache blocks of trees, the last one partial
    _check(cv, eng, X[:203])


def test_categorical_model_exact(dfs_cat_dir: Path) -> None:
    path = dfs_cat_dir / OFFICIAL_FILES["train_acc"]
    text = path.read_text()
    assert "cat_threshold=" in text  # really holds categorical splits
    cv, eng = _load(path)
    space = dfs_space(n_layers=4)
    rng = np.random.default_rng(1)
    X = _hard_inputs(space, rng, _thresholds(json.loads(text)["boosters"]))
    cats = np.array([0, 1, 2, 3, 7, -1, -0.5, -0.999, 0.7, 2.5, 31, 32, 33, 64, 1e10, -1e10, np.nan, np.inf, 2**31])
    X[:, :4] = rng.choice(cats, size=(len(X), 4))  # negative, fractional, out-of-range, huge, NaN categories
    _check(cv, eng, X)


def test_nan_trained_model_exact(dfs_nan_dir: Path) -> None:
    path = dfs_nan_dir / OFFICIAL_FILES["train_acc"]
    text = path.read_text()
    strings = json.loads(text)["boosters"]
    # missing type NaN (8) appears in decision types: trees learnt missing-value directions
    assert any(
        int(v) & 12 == 8
        for s in strings
        for line in s.splitlines()
        if line.startswith("decision_type=")
        for v in line.split("=")[1].split()
    )
    cv, eng = _load(path)
    space = dfs_space(n_layers=4)
    rng = np.random.default_rng(2)
    X = _hard_inputs(space, rng, _thresholds(strings))
    X[rng.random(X.shape) < 0.3] = np.nan
    X[:, :4] = rng.choice(np.array([0, 1, 2, -1, 5, np.nan]), size=(len(X), 4))
    _check(cv, eng, X)


@pytest.mark.parametrize("bits", [16, 32])
def test_wide_layouts_exact(dfs_nan_dir: Path, bits: int) -> None:
    """The uint16/uint32 node layouts (big models) give the same results as the uint8 one."""
    from smm_plugins import engine

    path = dfs_nan_dir / OFFICIAL_FILES["train_acc"]
    strings = json.loads(path.read_text())["boosters"]
    parsed = [engine.parse_model_text(s) for s in strings]
    eng = TreeEnsemble(engine._compile(parsed, min_bits=bits), parsed[0].n_features, parsed[0].feature_names)
    assert eng._a["nodes"].dtype == np.dtype(f"uint{bits}")
    space = dfs_space(n_layers=4)
    rng = np.random.default_rng(8)
    X = _hard_inputs(space, rng, _thresholds(strings), n=200)
    X[:, :4] = rng.choice(np.array([0, 1, 2, -1, 5, np.nan]), size=(len(X), 4))
    _check(lgb.CVBooster(model_file=str(path)), eng, X)


def _train_boosters(X: np.ndarray, ys: list[np.ndarray], **params) -> list[lgb.Booster]:
    base = {
        "objective": "regression",
        "num_leaves": 7,
        "min_data_in_leaf": 5,
        "verbose": -1,
        "num_threads": 1,
        "deterministic": True,
    }
    base.update(params)
    rounds = base.pop("rounds", 15)
    return [lgb.train(base, lgb.Dataset(X, y), num_boost_round=rounds) for y in ys]


def _check_boosters(boosters: list[lgb.Booster], X: np.ndarray, **kw) -> TreeEnsemble:
    eng = TreeEnsemble.from_model_strings([b.model_to_string() for b in boosters], **kw)
    ref = np.mean([b.predict(X, num_threads=1, **kw) for b in boosters], axis=0)
    got = eng.predict(X)
    assert np.max(np.abs(got - ref)) <= TOL
    for i in range(0, len(X), 37):
        assert abs(eng.predict(X[i : i + 1])[0] - ref[i]) <= TOL
    return eng


def test_zero_as_missing_exact() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(800, 5))
    X[rng.random(X.shape) < 0.3] = 0.0
    y1 = X[:, 0] - 2 * (X[:, 1] == 0) + rng.normal(0, 0.1, 800)
    y2 = X[:, 2] * (X[:, 3] == 0) + rng.normal(0, 0.1, 800)
    boosters = _train_boosters(X, [y1, y2], zero_as_missing=True)
    assert "decision_type=" in boosters[0].model_to_string()
    assert any(
        int(v) & 12 == 4
        for b in boosters
        for line in b.model_to_string().splitlines()
        if line.startswith("decision_type=")
        for v in line.split("=")[1].split()
    )  # missing type Zero
    Xt = rng.normal(size=(500, 5))
    Xt[rng.random(Xt.shape) < 0.2] = 0.0
    Xt[rng.random(Xt.shape) < 0.1] = np.nan
    Xt[rng.random(Xt.shape) < 0.05] = 1e-40  # LightGBM treats |x| <= 1e-35 as zero
    _check_boosters(boosters, Xt)


def test_wide_node_layout_exact() -> None:
    """More than 254 distinct thresholds on a feature forces the uint16 node layout."""
    rng = np.random.default_rng(4)
    X = rng.random((4000, 3))
    y = np.sin(40 * X[:, 0]) + X[:, 1] + rng.normal(0, 0.05, 4000)
    # two different targets: mirrored ones (y, -y) would cancel in the mean and hide errors
    boosters = _train_boosters(X, [y, y + X[:, 2] ** 2], max_bin=2000, num_leaves=63, rounds=60, min_data_in_leaf=2)
    eng = _check_boosters(boosters, rng.uniform(-0.2, 1.2, (500, 3)))
    assert eng._a["nodes"].dtype == np.uint16


def test_many_categories_exact() -> None:
    """Category sets spanning several 32-bit words (categories up to 99)."""
    rng = np.random.default_rng(9)
    X = np.column_stack([rng.integers(0, 100, 3000), rng.random(3000)]).astype(np.float64)
    effect = np.sin(np.arange(100) * 1.7)
    y = effect[X[:, 0].astype(int)] + X[:, 1] + rng.normal(0, 0.05, 3000)
    boosters = [
        lgb.train(
            {
                "objective": "regression",
                "num_leaves": 15,
                "verbose": -1,
                "num_threads": 1,
                "max_cat_to_onehot": 1,
                "min_data_per_group": 5,
                "cat_smooth": 1,
                "max_cat_threshold": 64,
                "min_data_in_leaf": 5,
            },
            lgb.Dataset(X, target, categorical_feature=[0]),
            num_boost_round=20,
        )
        for target in (y, y + X[:, 1] ** 2)
    ]  # different targets: no cancelling in the mean
    set_words = [
        np.diff([int(v) for v in line.split("=")[1].split()]).max()
        for b in boosters
        for line in b.model_to_string().splitlines()
        if line.startswith("cat_boundaries=")
    ]
    assert max(set_words) > 2  # some category sets really span more than two 32-bit words
    Xt = np.column_stack([rng.choice(np.r_[np.arange(-2, 140), np.nan], 600), rng.uniform(-0.2, 1.2, 600)])
    _check_boosters(boosters, Xt)


def test_single_leaf_trees() -> None:
    rng = np.random.default_rng(5)
    X = rng.random((300, 4))
    const = np.full(300, 0.25)
    boosters = _train_boosters(X, [const, X[:, 0] + rng.normal(0, 0.01, 300)], rounds=5)
    assert "num_leaves=1\n" in boosters[0].model_to_string()
    eng = _check_boosters(boosters, rng.uniform(-1, 2, (100, 4)))
    np.testing.assert_array_equal(
        eng.predict(np.full((3, 4), np.nan)), np.mean([b.predict(np.full((3, 4), np.nan)) for b in boosters], axis=0)
    )


def test_random_forest_and_identity_objectives() -> None:
    """``average_output`` (boosting=rf) divides by the iteration count; l1/huber/quantile are identity."""
    rng = np.random.default_rng(7)
    X = rng.random((500, 4))
    y = X[:, 0] * 2 + X[:, 1] + rng.normal(0, 0.1, 500)
    rf = _train_boosters(X, [y], boosting="rf", bagging_fraction=0.7, bagging_freq=1, feature_fraction=0.8)
    assert "average_output" in rf[0].model_to_string()
    Xt = rng.uniform(-0.5, 1.5, (300, 4))
    _check_boosters(rf, Xt)
    _check_boosters(rf, Xt, num_iteration=4)  # the average is over the iterations used
    others = [_train_boosters(X, [y], objective=obj)[0] for obj in ("regression_l1", "huber", "quantile")]
    _check_boosters(others + rf, Xt)


def test_best_iteration_semantics(tmp_path: Path) -> None:
    """Reference = every tree in each fold's text; the JSON ``best_iteration`` is ignored by it."""
    rng = np.random.default_rng(6)
    X = rng.random((600, 4))
    y = X[:, 0] + rng.normal(0, 0.3, 600)  # noisy: early stopping triggers early
    params = {
        "objective": "regression",
        "num_leaves": 15,
        "learning_rate": 0.3,
        "verbose": -1,
        "num_threads": 1,
        "min_data_in_leaf": 5,
    }
    res = lgb.cv(
        params,
        lgb.Dataset(X, y),
        num_boost_round=200,
        nfold=3,
        stratified=False,
        seed=0,
        return_cvbooster=True,
        callbacks=[lgb.early_stopping(5, verbose=False)],
    )
    cvb = res["cvbooster"]
    best = cvb.best_iteration
    assert 0 < best < 100
    Xt = rng.uniform(-0.2, 1.2, (300, 4))

    # (1) as lgb.cv saves it: each fold truncated to best_iteration trees
    p1 = tmp_path / "saved.json"
    cvb.save_model(str(p1))
    cv1, eng1 = _load(p1)
    assert json.loads(p1.read_text())["best_iteration"] == best
    assert all(b.num_trees() == best for b in cv1.boosters)
    assert eng1.n_trees == 3 * best
    _check(cv1, eng1, Xt)

    # (2) all trees saved but best_iteration smaller: the reference still uses all trees
    d = cvb._to_dict(num_iteration=-1, start_iteration=0, importance_type="split")
    assert d["best_iteration"] == best
    p2 = tmp_path / "all_trees.json"
    p2.write_text(json.dumps(d))
    cv2, eng2 = _load(p2)
    assert all(b.num_trees() > best for b in cv2.boosters)
    ref_all = _reference(cv2, Xt)
    ref_best = np.mean([b.predict(Xt, num_iteration=best) for b in cv2.boosters], axis=0)
    assert np.max(np.abs(ref_all - ref_best)) > 1e-6  # the case actually matters
    assert np.max(np.abs(eng2.predict(Xt) - ref_all)) <= TOL
    # explicit num_iteration = first k iterations of every fold, like Booster.predict(num_iteration=k)
    eng2k = TreeEnsemble.from_model_strings(d["boosters"], num_iteration=best)
    assert np.max(np.abs(eng2k.predict(Xt) - ref_best)) <= TOL
    assert TreeEnsemble.from_model_strings(d["boosters"], num_iteration=0).n_trees == eng2.n_trees


def _good_text(ps_dir: Path) -> str:
    return json.loads((ps_dir / OFFICIAL_FILES["train_acc"]).read_text())["boosters"][0]


def _shift_threshold(text: str) -> str:
    """Move Tree=0's last threshold into Tree=1: the total count stays right, per tree it is off."""
    lines = text.split("\n")
    idx = [i for i, line in enumerate(lines) if line.startswith("threshold=")]
    first = lines[idx[0]].split(" ")
    lines[idx[0]] = " ".join(first[:-1])
    lines[idx[1]] = "threshold=" + first[-1] + " " + lines[idx[1]][len("threshold=") :]
    return "\n".join(lines)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda s: s[: len(s) // 2], "end of trees"),
        (lambda s: s[: s.index("Tree=0")] + "end of trees\n", "Tree="),
        (lambda s: "", "Tree="),
        (lambda s: s.replace("threshold=", "threshold=abc ", 1), "threshold"),
        (lambda s: s.replace("leaf_value=", "leaf_value=1e5 ", 1), "leaf_value"),
        (
            lambda s: s.replace("left_child=", "left_child=99 ", 1).replace("left_child=99 -", "left_child=99 ", 1),
            "left_child|child",
        ),
        (lambda s: s.replace("num_leaves=", "num_leaves=x", 1), "num_leaves"),
        (lambda s: _shift_threshold(s), "Tree=0 threshold"),
        (lambda s: s.replace("max_feature_idx=", "max_feature_idz=", 1), "max_feature_idx"),
        (lambda s: s.replace("is_linear=0", "is_linear=1", 1), "linear"),
        (lambda s: s.replace("objective=regression", "objective=binary sigmoid:1", 1), "objective"),
        (lambda s: s.replace("num_class=1", "num_class=3", 1), "multi-class"),
    ],
)
def test_malformed_text_raises(ps_dir: Path, mutate, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TreeEnsemble.from_model_strings([mutate(_good_text(ps_dir))])


def test_children_must_form_a_tree(ps_dir: Path) -> None:
    text = _good_text(ps_dir)
    start = text.index("Tree=0")
    line_start = text.index("right_child=", start)
    line_end = text.index("\n", line_start)
    vals = text[line_start + len("right_child=") : line_end].split()
    vals[1] = "0"  # a cycle back to the root
    bad = text[:line_start] + "right_child=" + " ".join(vals) + text[line_end:]
    with pytest.raises(ValueError, match="tree"):
        TreeEnsemble.from_model_strings([bad])


def test_bad_arguments(ps_dir: Path) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        TreeEnsemble.from_model_strings([])
    with pytest.raises(ValueError, match="non-empty"):
        TreeEnsemble.from_model_strings(_good_text(ps_dir))  # a bare str, not a list of them
    eng = TreeEnsemble.from_model_strings([_good_text(ps_dir)])
    with pytest.raises(ValueError, match="shape"):
        eng.predict(np.zeros((2, 5)))


def test_predicting_starts_no_threads(ps_dir: Path) -> None:
    """Inference is serial: numba's threading layer is never launched (fresh process)."""
    import subprocess
    import sys

    code = (
        "import json, numba, numpy as np\n"
        "from smm_plugins.engine import TreeEnsemble\n"
        f"s = json.load(open({str(ps_dir / OFFICIAL_FILES['train_acc'])!r}))['boosters']\n"
        "e = TreeEnsemble.from_model_strings(s)\n"
        "e.predict(np.full((1, e.n_features), 0.5)); e.predict(np.full((50, e.n_features), 0.5))\n"
        "try:\n    numba.threading_layer()\nexcept ValueError:\n    print('no threads')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "no threads", out.stderr[-2000:]


def test_save_load_roundtrip(dfs_nan_dir: Path, tmp_path: Path) -> None:
    path = dfs_nan_dir / OFFICIAL_FILES["train_acc"]
    cv, eng = _load(path)
    eng.save(tmp_path / "e.npz")
    back = TreeEnsemble.load(tmp_path / "e.npz")
    assert back.n_features == eng.n_features and back.feature_names == eng.feature_names
    assert back.n_trees == eng.n_trees and back.n_splits == eng.n_splits
    X = _hard_inputs(dfs_space(n_layers=4), np.random.default_rng(10), np.array([0.5, 1.0]), n=200)
    _check(cv, back, X)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a TreeEnsemble file"):
        TreeEnsemble.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="layout version"):
        TreeEnsemble.load(tmp_path / "other.npz")
