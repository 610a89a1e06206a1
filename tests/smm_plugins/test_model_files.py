"""Reading and writing the official CV-booster JSON, label.json and space.json."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from smm_plugins.model_files import (
    OFFICIAL_FILES,
    ModelFileError,
    ModelFileMissingError,
    check_model_dir,
    find_model_file,
    read_cv_booster,
    read_labels,
    read_space,
    write_cv_booster,
    write_labels,
)
from smm_plugins.space import ps_space


def test_read_official_file(ps_dir: Path) -> None:
    f = ps_dir / OFFICIAL_FILES["train_acc"]
    cv = read_cv_booster(f)
    assert len(cv.boosters) == 3 and cv.n_features == 64 and cv.best_iteration == -1
    assert cv.feature_names == tuple(ps_space().names)
    assert len(cv.sha256) == 64
    assert cv.boosters == tuple(json.loads(f.read_text())["boosters"])


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_write_roundtrip_is_loadable_by_lightgbm(tmp_path: Path, ps_dir: Path, suffix: str) -> None:
    cv = read_cv_booster(ps_dir / OFFICIAL_FILES["test_acc"])
    out = write_cv_booster(tmp_path / ("m" + suffix), cv.boosters, best_iteration=7)
    back = read_cv_booster(out)
    assert back.boosters == cv.boosters and back.best_iteration == 7
    raw = out.read_bytes()
    plain = gzip.decompress(raw) if suffix.endswith(".gz") else raw
    (tmp_path / "plain.json").write_bytes(plain)
    lgb_cv = lgb.CVBooster(model_file=str(tmp_path / "plain.json"))
    assert lgb_cv.best_iteration == 7 and len(lgb_cv.boosters) == 3
    X = ps_space().sample(5, 0)
    ref = lgb.CVBooster(model_file=str(ps_dir / OFFICIAL_FILES["test_acc"]))
    np.testing.assert_array_equal(np.array(lgb_cv.predict(X)), np.array(ref.predict(X)))


def test_gzip_output_is_reproducible(tmp_path: Path, ps_dir: Path) -> None:
    cv = read_cv_booster(ps_dir / OFFICIAL_FILES["test_acc"])
    a = write_cv_booster(tmp_path / "a.json.gz", cv.boosters).read_bytes()
    b = write_cv_booster(tmp_path / "b.json.gz", cv.boosters).read_bytes()
    assert a == b


def test_find_model_file_prefers_json_then_gz(tmp_path: Path, ps_dir: Path) -> None:
    d = tmp_path / "d"
    shutil.copytree(ps_dir, d)
    name = OFFICIAL_FILES["train_acc"]
    assert find_model_file(d, "train_acc") == d / name
    (d / (name + ".gz")).write_bytes(gzip.compress((d / name).read_bytes()))
    assert find_model_file(d, "train_acc") == d / name
    (d / name).unlink()
    assert find_model_file(d, "train_acc") == d / (name + ".gz")
    (d / (name + ".gz")).unlink()
    with pytest.raises(
        ModelFileMissingError, match=r"also no \.gz variant\); to fix: .*smm-bench install PATH"
    ) as info:
        find_model_file(d, "train_acc", fix="download the files again and run `smm-bench install PATH`")
    assert isinstance(info.value, FileNotFoundError) and info.value.path == str(d / name)
    with pytest.raises(ValueError, match="objective = 'acc' is not known"):
        find_model_file(d, "acc")


def test_custom_fix_is_named(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("[")
    with pytest.raises(ModelFileError, match=r"x\.json: is not valid JSON .*; to fix: reinstall smm-plugins$"):
        read_cv_booster(tmp_path / "x.json", fix="reinstall smm-plugins")


def test_expected_sha256(ps_dir: Path) -> None:
    f = ps_dir / OFFICIAL_FILES["train_acc"]
    good = read_cv_booster(f).sha256
    assert read_cv_booster(f, expected_sha256=good).sha256 == good
    with pytest.raises(ModelFileError, match="has changed since it was installed"):
        read_cv_booster(f, expected_sha256="0" * 64)


@pytest.mark.parametrize(
    "doc, match",
    [
        ({"boosters": ["tree\nversion=v4\n"], "best_iteration": 0}, "booster 0 is truncated"),
        ({"boosters": [123]}, "booster 0 is not a LightGBM text model"),
        ({"boosters": ["x"], "best_iteration": "3"}, '"best_iteration" must be an integer'),
        ({"models": []}, 'expected a JSON object with key "boosters"'),
    ],
)
def test_structural_errors(tmp_path: Path, doc: dict, match: str) -> None:
    f = tmp_path / "m.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match=match):
        read_cv_booster(f)


def test_multiclass_models_are_rejected(tmp_path: Path, ps_dir: Path) -> None:
    doc = json.loads((ps_dir / OFFICIAL_FILES["train_acc"]).read_text())
    doc["boosters"] = [b.replace("num_tree_per_iteration=1", "num_tree_per_iteration=3") for b in doc["boosters"]]
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="not a single-output regression model"):
        read_cv_booster(tmp_path / "m.json")


def test_labels_roundtrip_and_errors(tmp_path: Path) -> None:
    f = write_labels(tmp_path / "label.json", ["a", "b"])
    assert json.loads(f.read_text()) == {"x": ["a", "b"]}
    assert read_labels(f) == ["a", "b"]
    for text, match in [
        ('{"y": []}', 'key "x" lists the variable names'),
        ('{"x": []}', "non-empty list"),
        ('{"x": ["a", 1]}', "non-empty list of non-empty strings"),
        ('{"x": ["a", "a"]}', r"duplicate names \['a'\]"),
        ("[", "not valid JSON"),
    ]:
        f.write_text(text)
        with pytest.raises(ModelFileError, match=match):
            read_labels(f)
    with pytest.raises(ValueError, match="non-empty sequence"):
        write_labels(tmp_path / "l.json", [])


def test_read_space(tmp_path: Path) -> None:
    space = ps_space("p", n_layers=2)
    space.to_json(str(tmp_path / "space.json"))
    assert read_space(tmp_path / "space.json").names == space.names
    (tmp_path / "space.json").write_text('{"parameters": [{"name": "a", "kind": "float", "lower": 1, "upper": 0}]}')
    with pytest.raises(ModelFileError, match="not a valid search-space description"):
        read_space(tmp_path / "space.json")


def test_check_model_dir(tmp_path: Path, ps_dir: Path, dfs_cat_dir: Path) -> None:
    check = check_model_dir(ps_dir)
    assert check.n_features == 64 and check.n_folds == {"train_acc": 3, "test_acc": 3} and not check.has_space
    assert check_model_dir(dfs_cat_dir).n_features == 95
    d = tmp_path / "d"
    shutil.copytree(ps_dir, d)
    write_labels(d / "label.json", [f"v{i}" for i in range(65)])
    with pytest.raises(ModelFileError, match="lists 65 names but the models have 64 features"):
        check_model_dir(d)
    with pytest.raises(ModelFileError, match="models have 64 features; SMM-Bench files have 95"):
        write_labels(d / "label.json", [f"v{i}" for i in range(64)])
        check_model_dir(d, allowed_features=(95,))
    with pytest.raises(ModelFileMissingError, match="benchmark directory does not exist"):
        check_model_dir(tmp_path / "none")
