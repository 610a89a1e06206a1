"""SurrogateBenchmark: exact parity with the reference semantics, strict validation, file errors."""

from __future__ import annotations

import gzip
import itertools
import json
import pickle
import re
import shutil
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from smm_plugins.model_files import OFFICIAL_FILES, ModelFileError, ModelFileMissingError
from smm_plugins.space import SearchSpace, dfs_space
from smm_plugins.surrogate import CITATION, SurrogateBenchmark

N_PARITY = 10_000


# -- an independent implementation of the reference semantics on LightGBM's own CVBooster -----


def _cvbooster(directory: Path, mode: str) -> lgb.CVBooster:
    return lgb.CVBooster(model_file=str(directory / OFFICIAL_FILES[mode]))


def reference_ps(directory: Path, x: np.ndarray, mode: str) -> float | np.ndarray:
    batch = np.atleast_2d(np.array(x, dtype=np.float64))
    batch = np.clip(batch, 0.0, 1.0)
    per_fold = np.array(_cvbooster(directory, mode).predict(batch))
    y = np.clip(per_fold.mean(axis=0), 0.0, 1.0)
    return y[0] if np.ndim(x) == 1 else y


def reference_dfs(directory: Path, c: np.ndarray, x: np.ndarray, mode: str) -> float | np.ndarray:
    cc = np.atleast_2d(np.array(c, dtype=np.float64))
    xx = np.clip(np.atleast_2d(np.array(x, dtype=np.float64)), 0.4, 1.5)  # only x is clipped
    per_fold = np.array(_cvbooster(directory, mode).predict(np.concatenate([cc, xx], axis=1)))
    y = np.clip(per_fold.mean(axis=0), 0.0, 1.0)
    return y[0] if np.ndim(x) == 1 else y


def _ps_configs(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-0.5, 1.5, size=(n, 64))  # about half the values are out of [0, 1]
    X[rng.random(X.shape) < 0.02] = 0.0
    X[rng.random(X.shape) < 0.02] = 1.0
    return X


def _dfs_configs(n: int, seed: int, *, odd_categories: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 3, size=(n, 32)).astype(np.float64)
    if odd_categories:  # the reference passes any code through unchecked
        mask = rng.random(c.shape) < 0.05
        c[mask] = rng.choice([-1.0, 3.0, 7.0, 1.5, 250.0], size=int(mask.sum()))
    x = rng.uniform(0.0, 2.0, size=(n, 63))  # out of [0.4, 1.5] on both sides
    return c, x


@pytest.fixture(scope="module")
def ps(ps_dir: Path) -> SurrogateBenchmark:
    return SurrogateBenchmark(ps_dir)


@pytest.fixture(scope="module")
def dfs(dfs_dir: Path) -> SurrogateBenchmark:
    return SurrogateBenchmark(dfs_dir)


@pytest.fixture(scope="module")
def dfs_cat(dfs_cat_dir: Path) -> SurrogateBenchmark:
    return SurrogateBenchmark(dfs_cat_dir)


# -- parity --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["train_acc", "test_acc"])
def test_ps_parity_10000_configs(ps: SurrogateBenchmark, ps_dir: Path, mode: str) -> None:
    X = _ps_configs(N_PARITY, seed=11)
    assert ((X < 0) | (X > 1)).mean() > 0.3
    ours = ps.evaluate(X, mode, clip=True)
    ref = reference_ps(ps_dir, X, mode)
    assert ours.shape == (N_PARITY,) and ours.dtype == np.float64
    assert np.max(np.abs(ours - ref)) <= 1e-12
    assert np.ptp(ours) > 0.01  # the landscape is not flat: parity is meaningful
    via_call = ps(X, mode=mode, clip=True)
    np.testing.assert_array_equal(via_call, ours)


@pytest.mark.parametrize("mode", ["train_acc", "test_acc"])
def test_ps_parity_single_configuration(ps: SurrogateBenchmark, ps_dir: Path, mode: str) -> None:
    X = _ps_configs(20, seed=12)
    for x in X:
        ours = ps.evaluate(x, mode, clip=True)
        assert isinstance(ours, float)
        assert abs(ours - reference_ps(ps_dir, x, mode)) <= 1e-12
        assert ps(x, mode=mode, clip=True) == ours


@pytest.mark.parametrize("which", ["dfs", "dfs_cat"])
@pytest.mark.parametrize("mode", ["train_acc", "test_acc"])
def test_dfs_parity_10000_configs(which: str, mode: str, request: pytest.FixtureRequest) -> None:
    bench: SurrogateBenchmark = request.getfixturevalue(which)
    directory: Path = request.getfixturevalue(which + "_dir")
    c, x = _dfs_configs(N_PARITY, seed=21, odd_categories=True)
    ref = reference_dfs(directory, c, x, mode)
    ours_cx = bench(c, x, mode=mode, clip=True)
    ours_full = bench.evaluate(np.concatenate([c, x], axis=1), mode, clip=True)
    assert np.max(np.abs(ours_cx - ref)) <= 1e-12
    assert np.max(np.abs(ours_full - ref)) <= 1e-12
    assert np.ptp(ours_cx) > 0.01


@pytest.mark.parametrize("mode", ["train_acc", "test_acc"])
def test_dfs_parity_single_configuration(dfs_cat: SurrogateBenchmark, dfs_cat_dir: Path, mode: str) -> None:
    c, x = _dfs_configs(20, seed=22, odd_categories=True)
    for ci, xi in zip(c, x, strict=True):
        ours = dfs_cat(ci, xi, mode=mode, clip=True)
        assert isinstance(ours, float)
        assert abs(ours - reference_dfs(dfs_cat_dir, ci, xi, mode)) <= 1e-12


def test_dfs_categorical_code_7_predicts_like_lightgbm_with_clip_and_is_rejected_strictly(
    dfs_cat: SurrogateBenchmark, dfs_cat_dir: Path
) -> None:
    c = np.zeros(32)
    c[5] = 7.0
    x = np.full(63, 1.0)
    assert abs(dfs_cat(c, x, clip=True) - reference_dfs(dfs_cat_dir, c, x, "train_acc")) <= 1e-12
    with pytest.raises(ValueError, match=r"'layer_05' = 7\.0 is not a valid category; allowed: one of \{0, 1, 2\}"):
        dfs_cat(c, x)


def test_nan_with_clip_follows_lightgbm_missing_rules(dfs_cat: SurrogateBenchmark, dfs_cat_dir: Path) -> None:
    c, x = _dfs_configs(500, seed=23, odd_categories=False)
    x[::7, 3] = np.nan
    c[::5, 2] = np.nan
    ours = dfs_cat(c, x, mode="test_acc", clip=True)
    assert np.max(np.abs(ours - reference_dfs(dfs_cat_dir, c, x, "test_acc"))) <= 1e-12


def test_strict_valid_inputs_equal_clip_results(ps: SurrogateBenchmark) -> None:
    X = ps.space.sample(200, 5)
    np.testing.assert_array_equal(ps.evaluate(X), ps.evaluate(X, clip=True))


def test_predictions_are_clipped_into_unit_interval(tmp_path: Path, ps_dir: Path) -> None:
    # Shift every leaf so that the raw mean is far above 1: the result must be clipped to exactly 1.
    d = tmp_path / "shifted"
    shutil.copytree(ps_dir, d)
    f = d / OFFICIAL_FILES["train_acc"]
    doc = json.loads(f.read_text())
    doc["boosters"] = [_shift_leaves(m, 5.0) for m in doc["boosters"]]
    f.write_text(json.dumps(doc))
    bench = SurrogateBenchmark(d)
    X = bench.space.sample(50, 0)
    assert np.all(bench.evaluate(X) == 1.0)
    raw = np.array(lgb.CVBooster(model_file=str(f)).predict(X)).mean(axis=0)
    assert raw.min() > 1.0


def _shift_leaves(model: str, delta: float) -> str:
    lines = model.split("\n")
    done = False
    for i, line in enumerate(lines):
        if line.startswith("leaf_value=") and not done:
            vals = [float(v) + delta for v in line[len("leaf_value=") :].split(" ")]
            lines[i] = "leaf_value=" + " ".join(repr(v) for v in vals)
            done = True  # shift only the first tree: every prediction moves by exactly delta
    return _fix_tree_sizes("\n".join(lines))


def _fix_tree_sizes(model: str) -> str:
    # Recompute LightGBM's tree_sizes header after editing tree blocks.
    end = model.index("\nend of trees") + 1
    bounds = [m.start() + 1 for m in re.finditer("\nTree=", model)] + [end]
    sizes = [b - a for a, b in itertools.pairwise(bounds)]
    return re.sub(r"(?m)^tree_sizes=.*$", "tree_sizes=" + " ".join(map(str, sizes)), model, count=1)


# -- call forms and API --------------------------------------------------------------------------


def test_space_inference_and_meta(ps: SurrogateBenchmark, dfs: SurrogateBenchmark, ps_dir: Path) -> None:
    assert ps.space.dim == 64 and ps.kind == "ps" and ps.space.n_categorical == 0
    assert ps.space.names == json.loads((ps_dir / "label.json").read_text())["x"]
    assert dfs.space.dim == 95 and dfs.kind == "dfs" and dfs.space.n_categorical == 32
    assert dfs.space.is_categorical[:32].all() and not dfs.space.is_categorical[32:].any()
    assert ps.meta["citation"] == CITATION and "2509.02555" in ps.meta["citation"]
    assert ps.name == "smm-bench-ps"


def test_label_names_are_used_in_errors(tmp_path: Path, ps_dir: Path) -> None:
    d = tmp_path / "renamed"
    shutil.copytree(ps_dir, d)
    names = [f"weight{i}" for i in range(64)]
    (d / "label.json").write_text(json.dumps({"x": names}))
    bench = SurrogateBenchmark(d)
    X = np.full(64, 0.5)
    X[10] = 1.25
    with pytest.raises(ValueError, match=r"'weight10' = 1\.25 is out of range; allowed: a finite number in \[0, 1\]"):
        bench.evaluate(X)


def test_evaluate_config_and_reference_forms(ps: SurrogateBenchmark, dfs: SurrogateBenchmark) -> None:
    x = ps.space.sample(1, 3)[0]
    cfg = ps.space.to_config(x)
    assert ps.evaluate_config(cfg) == ps.evaluate(x) == ps(x)
    assert ps.evaluate_config(cfg, "test_acc") == ps(x, mode="test_acc")
    row = dfs.space.sample(3, 4)
    c, xs = row[:, :32], row[:, 32:]
    np.testing.assert_array_equal(dfs(c, xs, mode="test_acc"), dfs.evaluate(row, "test_acc"))
    assert dfs(c[0], xs[0]) == dfs.evaluate(row[0])
    assert dfs(c[0].astype(int).tolist(), xs[0].tolist()) == dfs.evaluate(row[0])


@pytest.mark.parametrize(
    "c_shape, x_shape, match",
    [
        ((32,), (2, 63), "must both be 1-D"),
        ((31,), (63,), "c has 31 columns; smm-bench-dfs needs 32 layer choices"),
        ((32,), (64,), "x has 64 columns; smm-bench-dfs needs 63 continuous values"),
        ((3, 32), (2, 63), "c has 3 rows but x has 2"),
    ],
)
def test_dfs_cx_shape_errors(dfs: SurrogateBenchmark, c_shape: tuple, x_shape: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        dfs(np.zeros(c_shape), np.ones(x_shape))


def test_call_form_misuse(ps: SurrogateBenchmark) -> None:
    with pytest.raises(TypeError, match="categorical variables come first"):
        ps(np.zeros(1), np.zeros(63))
    with pytest.raises(TypeError, match=r"takes \(x\)"):
        ps()
    with pytest.raises(ValueError, match="objective = 'val_acc' is not known"):
        ps(np.full(64, 0.5), mode="val_acc")


def test_models_load_lazily_once(ps_dir: Path) -> None:
    bench = SurrogateBenchmark(ps_dir)
    assert bench._models == {}
    bench.evaluate(np.full(64, 0.5))
    assert set(bench._models) == {"train_acc"}
    first = bench.ensemble("train_acc")
    bench.evaluate(np.full(64, 0.4))
    assert bench.ensemble("train_acc") is first
    bench.preload()
    assert set(bench._models) == {"train_acc", "test_acc"}


def test_pickle_roundtrip_reloads(ps: SurrogateBenchmark) -> None:
    ps.preload()
    clone = pickle.loads(pickle.dumps(ps))
    assert clone._models == {}
    X = ps.space.sample(10, 9)
    np.testing.assert_array_equal(clone.evaluate(X, "test_acc"), ps.evaluate(X, "test_acc"))


def test_gzipped_model_files_give_identical_predictions(tmp_path: Path, dfs_cat_dir: Path) -> None:
    d = tmp_path / "gz"
    shutil.copytree(dfs_cat_dir, d)
    for name in OFFICIAL_FILES.values():
        (d / (name + ".gz")).write_bytes(gzip.compress((d / name).read_bytes()))
        (d / name).unlink()
    X = np.concatenate(_dfs_configs(300, 5, odd_categories=False), axis=1)
    a = SurrogateBenchmark(d).evaluate(X, "test_acc", clip=True)
    b = SurrogateBenchmark(dfs_cat_dir).evaluate(X, "test_acc", clip=True)
    np.testing.assert_array_equal(a, b)


def test_space_json_overrides_inference(tmp_path: Path, ps_dir: Path) -> None:
    d = tmp_path / "custom"
    shutil.copytree(ps_dir, d)
    names = json.loads((d / "label.json").read_text())["x"]
    space = SearchSpace.from_dict(
        {
            "name": "custom",
            "metadata": {"kind": "custom"},
            "parameters": [{"name": n, "kind": "float", "lower": 0.0, "upper": 2.0} for n in names],
        }
    )
    space.to_json(str(d / "space.json"))
    bench = SurrogateBenchmark(d)
    assert bench.kind == "custom" and bench.space.upper[0] == 2.0
    x = np.full(64, 1.7)  # valid here, invalid in the PS space
    assert 0.0 <= bench.evaluate(x) <= 1.0
    (d / "label.json").write_text(json.dumps({"x": names[::-1]}))
    with pytest.raises(ModelFileError, match="space.json.*names do not match label.json"):
        SurrogateBenchmark(d)


def test_unknown_feature_count_without_space_json(tmp_path: Path) -> None:
    from smm_plugins.space import ps_space
    from smm_plugins.testing import write_cv_booster_dir

    space = ps_space("tiny", n_layers=5, n_models=2)
    d = write_cv_booster_dir(tmp_path / "tiny", space, n_trees=3, n_samples=300, n_folds=2)
    with pytest.raises(ModelFileError, match=r"label\.json: lists 10 variables; SMM-Bench-PS has 64.*space\.json"):
        SurrogateBenchmark(d)
    space.to_json(str(d / "space.json"))
    bench = SurrogateBenchmark(d)
    assert bench.space.dim == 10 and 0 <= bench.evaluate(np.full(10, 0.5)) <= 1


# -- strictness ----------------------------------------------------------------------------------


def _row(dim: int, value: float = 0.5) -> list:
    return [value] * dim


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: np.full(63, 0.5), r"X has 63 columns; search space 'smm-bench-ps' needs 64"),
        (lambda: np.full((2, 65), 0.5), r"X has 65 columns"),
        (lambda: np.array([_row(64)[:3] + [np.nan] + _row(64)[4:]]), r"X\[0\] variable 'w_A_03' = nan is not finite"),
        (
            lambda: np.array(_row(64)[:63] + [np.inf]),
            r"'w_B_31' = inf is not finite; allowed: a finite number in \[0, 1\]",
        ),
        (
            lambda: np.array(_row(64)[:1] + [-0.01] + _row(64)[2:]),
            r"'w_A_01' = -0.01 is out of range; allowed: a finite number in \[0, 1\]",
        ),
        (
            lambda: np.array([_row(64), _row(64)[:5] + [1.5] + _row(64)[6:]]),
            r"X\[1\] variable 'w_A_05' = 1\.5 is out of range",
        ),
        (lambda: [_row(64)[:7] + ["0.3"] + _row(64)[8:]], r"X\[0\] variable 'w_A_07' = '0\.3' is not a number"),
        (lambda: np.array([_row(64)[:2] + [None] + _row(64)[3:]], dtype=object), r"'w_A_02' = None is not a number"),
        (lambda: np.empty((0, 64)), r"empty batch"),
        (lambda: None, r"X is None"),
        (lambda: np.ones((2, 2, 64)), r"got 3-D"),
        (lambda: np.ones(64, dtype=bool), r"boolean"),
    ],
)
def test_ps_strict_rejections(ps: SurrogateBenchmark, make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ps.evaluate(make())


@pytest.mark.parametrize(
    "col, value, match",
    [
        (0, 3.0, r"'layer_00' = 3\.0 is not a valid category; allowed: one of \{0, 1, 2\}"),
        (31, -1.0, r"'layer_31' = -1\.0 is not a valid category; allowed: one of \{0, 1, 2\}"),
        (4, 1.5, r"'layer_04' = 1\.5 is not a valid category"),
        (32, 0.39, r"'scale_00' = 0\.39 is out of range; allowed: a finite number in \[0\.4, 1\.5\]"),
        (94, 1.51, r"'scale_62' = 1\.51 is out of range"),
        (40, np.nan, r"'scale_08' = nan is not finite"),
    ],
)
def test_dfs_strict_rejections(dfs: SurrogateBenchmark, col: int, value: float, match: str) -> None:
    X = dfs.space.default_vector()
    X[col] = value
    with pytest.raises(ValueError, match=match):
        dfs.evaluate(X)
    with pytest.raises(ValueError, match=match):
        dfs(X[:32], X[32:])


def test_strict_string_in_dfs_c(dfs: SurrogateBenchmark) -> None:
    c = [0] * 32
    c[3] = "two"
    with pytest.raises(ValueError, match=r"'layer_03' = 'two' is not a number; allowed: one of \{0, 1, 2\}"):
        dfs(c, [1.0] * 63)


def test_evaluate_config_errors(ps: SurrogateBenchmark) -> None:
    cfg = ps.space.default_config()
    cfg["w_A_00"] = 2.0
    with pytest.raises(ValueError, match=r"'w_A_00' = 2\.0 is out of range"):
        ps.evaluate_config(cfg)
    assert 0 <= ps.evaluate_config(cfg, clip=True) <= 1
    del cfg["w_A_01"]
    with pytest.raises(ValueError, match="missing 1 parameter"):
        ps.evaluate_config(cfg)


# -- broken files ----------------------------------------------------------------------------------


def _copy(src: Path, tmp_path: Path) -> Path:
    d = tmp_path / src.name
    shutil.copytree(src, d)
    return d


def test_missing_model_file_is_named(tmp_path: Path, ps_dir: Path) -> None:
    d = _copy(ps_dir, tmp_path)
    (d / OFFICIAL_FILES["test_acc"]).unlink()
    with pytest.raises(
        ModelFileMissingError,
        match=(
            r"test_acc_ja_best_model\.json: model file for objective 'test_acc' is missing"
            r".*to fix: .*smm-bench install"
        ),
    ):
        SurrogateBenchmark(d)


def test_missing_label_file_is_named(tmp_path: Path, ps_dir: Path) -> None:
    d = _copy(ps_dir, tmp_path)
    (d / "label.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"label\.json: file is missing; to fix"):
        SurrogateBenchmark(d)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFileMissingError, match="benchmark directory does not exist"):
        SurrogateBenchmark(tmp_path / "nope")


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda b: b[: len(b) // 2], r"not valid JSON \(truncated or corrupt"),
        (lambda b: b"", r"is empty"),
        (lambda b: b"\x80\x81\x82" + b[3:], r"not UTF-8"),
        (lambda b: json.dumps({"boosters": []}).encode(), r'"boosters" must be a non-empty list'),
        (lambda b: json.dumps([1, 2]).encode(), r"not a LightGBM CV-booster file"),
        (lambda b: b.replace(b"end of trees", b"end of xxxxx"), r"booster 0 is truncated"),
        (
            lambda b: b.replace(b"max_feature_idx=63", b"max_feature_idx=62", 1),
            r"booster 1 has 64 features but booster 0 has 63",
        ),
        (
            lambda b: b.replace(b"max_feature_idx=63", b"max_feature_idx=9"),
            r"models have 10 features but the search space has 64",
        ),
        (
            lambda b: b.replace(b"leaf_value=", b"leaf_value=1 ", 1),
            r"booster 0 is corrupt: its trees do not match the tree_sizes",
        ),
        (
            lambda b: b.replace(b"\\nleaf_value=", b"\\nleaf_valuX=", 1),
            r"booster 0 is corrupt \(not every tree has a leaf_value line\)",
        ),
    ],
)
def test_corrupt_model_files_raise_named_errors(tmp_path: Path, ps_dir: Path, damage, match: str) -> None:
    d = _copy(ps_dir, tmp_path)
    f = d / OFFICIAL_FILES["train_acc"]
    f.write_bytes(damage(f.read_bytes()))
    bench = SurrogateBenchmark(d)  # model bodies are read on first use
    with pytest.raises(ModelFileError, match=match) as info:
        bench.evaluate(np.full(64, 0.5))
    assert info.value.path == str(f)
    assert "train_acc_ja_best_model.json" in str(info.value) and "to fix:" in str(info.value)
    # the other objective is unaffected
    assert 0.0 <= bench.evaluate(np.full(64, 0.5), "test_acc") <= 1.0


def test_truncated_gzip_is_named(tmp_path: Path, ps_dir: Path) -> None:
    d = _copy(ps_dir, tmp_path)
    f = d / OFFICIAL_FILES["train_acc"]
    gz = gzip.compress(f.read_bytes())
    f.unlink()
    (d / (f.name + ".gz")).write_bytes(gz[: len(gz) - 100])
    with pytest.raises(ModelFileError, match=r"train_acc_ja_best_model\.json\.gz: is not a complete gzip file"):
        SurrogateBenchmark(d).evaluate(np.full(64, 0.5))


def test_corrupt_label_file(tmp_path: Path, ps_dir: Path) -> None:
    d = _copy(ps_dir, tmp_path)
    (d / "label.json").write_text('{"x": ["a", ')
    with pytest.raises(ModelFileError, match=r"label\.json: is not valid JSON"):
        SurrogateBenchmark(d)


def test_dfs_space_is_canonical() -> None:
    # The benchmark takes bounds from space.py only.
    assert dfs_space().lower[40] == 0.4 and dfs_space().upper[40] == 1.5


def test_engine_failures_become_file_errors(tmp_path: Path, ps_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smm_plugins import engine

    def broken(strings: list[str]) -> None:
        raise ValueError("unexpected token in tree 3")

    monkeypatch.setattr(engine.TreeEnsemble, "from_model_strings", staticmethod(broken))
    monkeypatch.setenv("SMM_BENCH_CACHE_DIR", "off")  # a compiled entry of these files would skip the engine
    bench = SurrogateBenchmark(ps_dir)
    with pytest.raises(
        ModelFileError,
        match=(
            r"train_acc_ja_best_model\.json: cannot be loaded as LightGBM models "
            r"\(ValueError: unexpected token in tree 3\)"
        ),
    ):
        bench.evaluate(np.full(64, 0.5))


def test_fold_predictions_are_each_boosters_and_average_to_evaluate(
    dfs_cat: SurrogateBenchmark, dfs_cat_dir: Path
) -> None:
    X = dfs_cat.space.sample(300, 4)
    folds = dfs_cat.fold_predictions(X, "test_acc")
    doc = json.loads((dfs_cat_dir / OFFICIAL_FILES["test_acc"]).read_text())
    ref = np.column_stack([lgb.Booster(model_str=m).predict(X) for m in doc["boosters"]])
    assert folds.shape == (300, len(doc["boosters"]))
    np.testing.assert_allclose(folds, ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.clip(folds.mean(axis=1), 0, 1), dfs_cat.evaluate(X, "test_acc"), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dfs_cat.fold_predictions(X[0], "test_acc"), ref[:1], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="layer_00"):
        dfs_cat.fold_predictions(np.where(np.arange(95) == 0, 7.0, X[0]), "test_acc")
