"""Surrogate builder at tiny sizes: official files, loader parity, errors, custom spaces, determinism."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.space import SearchSpace, dfs_space, ps_space
from smm_plugins.surrogate_tools.build import BuildConfig, build_surrogate, fidelity_metrics, read_table, validate_table
from smm_plugins.testing import synthetic_accuracy

TINY = dict(n_trials=2, max_rounds=80, early_stopping_rounds=10, tune_rows=None)


def _table(space: SearchSpace, n: int = 1200, seed: int = 0, noise: float = 0.005) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = space.sample(n, rng)
    df = pd.DataFrame(X, columns=space.names)
    for obj in ("train_acc", "test_acc"):
        df[obj] = np.clip(synthetic_accuracy(space, X, obj) + rng.normal(0, noise, n), 0, 1)
    df["strategy"] = rng.choice(["random", "tpe"], n)
    df["run_id"] = rng.integers(0, 5, n)
    return df


def _cv_mean(path: Path, X: np.ndarray) -> np.ndarray:
    import lightgbm as lgb

    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    tmp = path.parent / "_plain_copy.json"
    tmp.write_bytes(raw)
    try:
        cvb = lgb.CVBooster(model_file=str(tmp))  # the reference reader of the official format
    finally:
        tmp.unlink()
    return np.clip(np.mean(cvb.predict(X), axis=0), 0, 1)


@pytest.fixture(scope="module")
def ps_build(tmp_path_factory: pytest.TempPathFactory):
    space = ps_space("tiny-ps", n_layers=4)
    df = _table(space)
    data = tmp_path_factory.mktemp("data") / "parts"
    data.mkdir()
    df.iloc[:700].to_parquet(data / "part-000.parquet")
    df.iloc[700:].to_parquet(data / "part-001.parquet")
    out = tmp_path_factory.mktemp("ps")
    res = build_surrogate(data, space, out, BuildConfig(**TINY))
    return space, df, res


@pytest.mark.slow
def test_official_files_and_report(ps_build) -> None:
    space, df, res = ps_build
    out = res.out_dir
    for name in ("train_acc_ja_best_model.json", "test_acc_ja_best_model.json"):
        obj = json.loads((out / name).read_text())
        assert set(obj) == {"boosters", "best_iteration"}
        assert len(obj["boosters"]) == 5 and all(b.startswith("tree\n") for b in obj["boosters"])
        assert 1 <= obj["best_iteration"] <= TINY["max_rounds"]
    assert json.loads((out / "label.json").read_text()) == {"x": space.names}
    assert SearchSpace.from_json(str(out / "space.json")).names == space.names
    assert (out / "scatter.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text())
    for obj in ("train_acc", "test_acc"):
        m = report["objectives"][obj]
        assert set(m) >= {"r2", "kendall_tau", "rmse", "mae", "mean_signed_error"}
        assert m["n"] == 120  # 10% of 1200 rows held out
        assert m["r2"] > 0.7 and m["kendall_tau"] > 0.6  # the synthetic landscape is learnable
    assert set(report["by_strategy"]["train_acc"]) == {"random", "tpe"}
    info = json.loads((out / "build_info.json").read_text())
    assert info["rows"] == {"total": 1200, "extra_train_rows": 0, "train": 960, "val": 120, "test": 120}
    assert info["data_sha256"].startswith("sha256:")
    assert set(info["tuned_params"]["train_acc"]) >= {"num_leaves", "learning_rate", "min_data_in_leaf"}


@pytest.mark.slow
def test_report_matches_reference_cvbooster_on_test_split(ps_build) -> None:
    space, df, res = ps_build
    from smm_plugins.surrogate_tools.build import split_indices

    test = split_indices(len(df), seed=0)["test"]
    X = df[space.names].to_numpy()[test]
    y = df["train_acc"].to_numpy()[test]
    pred = _cv_mean(res.out_dir / "train_acc_ja_best_model.json", X)
    assert res.report["objectives"]["train_acc"]["rmse"] == pytest.approx(fidelity_metrics(y, pred)["rmse"], rel=1e-12)


@pytest.mark.slow
def test_load_benchmark_predicts_like_the_cvbooster(ps_build) -> None:
    from smm_plugins.registry import load_benchmark

    space, df, res = ps_build
    bench = load_benchmark(str(res.out_dir))
    assert bench.space.names == space.names
    X = space.sample(50, 3)
    for obj, name in (("train_acc", "train_acc_ja_best_model.json"), ("test_acc", "test_acc_ja_best_model.json")):
        np.testing.assert_allclose(bench.evaluate(X, obj), _cv_mean(res.out_dir / name, X), rtol=0, atol=1e-12)


@pytest.mark.slow
def test_compressed_dfs_with_categorical_features(tmp_path: Path) -> None:
    from smm_plugins.registry import load_benchmark

    space = dfs_space("tiny-dfs", n_layers=3)
    df = _table(space, n=900)
    csv = tmp_path / "merges.csv"
    df.to_csv(csv, index=False)
    res = build_surrogate(csv, space, tmp_path / "out", BuildConfig(compress=True, **TINY))
    files = sorted(p.name for p in (tmp_path / "out").glob("*_model.json*"))
    assert files == ["test_acc_ja_best_model.json.gz", "train_acc_ja_best_model.json.gz"]
    obj = json.loads(gzip.decompress((tmp_path / "out" / files[1]).read_bytes()))
    assert any("cat_threshold=" in b for b in obj["boosters"])  # trees hold categorical splits
    X = space.sample(40, 5)
    bench = load_benchmark(str(tmp_path / "out"))
    np.testing.assert_allclose(
        bench.evaluate(X, "train_acc"), _cv_mean(tmp_path / "out" / files[1], X), rtol=0, atol=1e-12
    )
    assert res.sizes_bytes["train_acc.gz"] == (tmp_path / "out" / files[1]).stat().st_size


@pytest.mark.slow
def test_same_seed_same_files(tmp_path: Path) -> None:
    space = ps_space("tiny-ps", n_layers=2)
    df = _table(space, n=500)
    digests = []
    for k in range(2):
        out = tmp_path / f"b{k}"
        build_surrogate(df, space, out, BuildConfig(compress=True, **TINY))
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())})
    assert digests[0] == digests[1]
    assert len(digests[0]) == 7


@pytest.mark.slow
def test_three_source_models_space_json_via_cli(tmp_path: Path) -> None:
    import argparse

    from smm_plugins.surrogate_tools.cli import add_subcommands

    space = ps_space("merge-of-three", n_layers=3, n_models=3)  # w_A_00 .. w_C_02: 9 weights
    space_file = tmp_path / "SPACE.json"
    space.to_json(str(space_file))
    data = tmp_path / "logs.csv"
    _table(space, n=800).to_csv(data, index=False)
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers())
    args = parser.parse_args(
        [
            "build-surrogate",
            str(data),
            "--space",
            str(space_file),
            "--out",
            str(tmp_path / "s3"),
            "--trials",
            "1",
            "--max-rounds",
            "40",
            "-q",
        ]
    )
    assert args.func(args) == 0
    assert json.loads((tmp_path / "s3" / "label.json").read_text())["x"] == [
        f"w_{m}_{i:02d}" for m in "ABC" for i in range(3)
    ]
    from smm_plugins.registry import load_benchmark

    bench = load_benchmark(str(tmp_path / "s3"))
    assert bench.space.dim == 9
    assert 0.0 <= bench.evaluate(space.default_vector()) <= 1.0


def test_cli_reports_missing_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from smm_plugins.surrogate_tools.cli import add_subcommands

    space = ps_space(n_layers=32)  # the official 64-weight space
    df = _table(ps_space(n_layers=4), n=50)
    df.to_parquet(tmp_path / "t.parquet")
    parser = argparse.ArgumentParser()
    add_subcommands(parser.add_subparsers())
    args = parser.parse_args(
        ["build-surrogate", str(tmp_path / "t.parquet"), "--space", "ps", "--out", str(tmp_path / "o")]
    )
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "missing" in err and space.names[4] in err
    assert not (tmp_path / "o" / "label.json").exists()


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
def test_table_errors_name_the_column(mutate, match) -> None:
    space = ps_space("tiny-ps", n_layers=4)
    df = mutate(_table(space, n=30))
    with pytest.raises(ValueError, match=match):
        validate_table(df, space)


def test_dfs_invalid_category_and_extra_columns_allowed_on_request() -> None:
    space = dfs_space("tiny-dfs", n_layers=3)
    df = _table(space, n=30)
    bad = df.assign(layer_01=df["layer_01"].where(df.index != 2, 7))
    with pytest.raises(ValueError, match=r"'layer_01' = 7.0 is not a valid category"):
        validate_table(bad, space)
    X, ys = validate_table(df.assign(comment=1.0), space, allow_extra_columns=True)
    assert X.shape == (30, space.dim) and set(ys) == {"train_acc", "test_acc"}


def test_read_table_folder_skips_hidden_parts(tmp_path: Path) -> None:
    space = ps_space("tiny-ps", n_layers=2)
    df = _table(space, n=40)
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
    from smm_plugins.surrogate_tools.build import resolve_space

    # A user's table built with --space ps must not be labelled as one of the lab's benchmarks.
    assert resolve_space("ps") == core_ps() and resolve_space("PS").name == "smm-bench-ps"
    assert resolve_space("dfs") == core_dfs()


@pytest.mark.slow
def test_build_ps_without_space_name_is_named_after_the_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    from smm_plugins.cli import main
    from smm_plugins.registry import load_benchmark

    data = tmp_path / "merges.parquet"
    _table(ps_space(), n=300).to_parquet(data)
    out = tmp_path / "my-merges"
    argv = ["build-surrogate", str(data), "--space", "ps", "--out", str(out), "--trials", "0", "--folds", "2"]
    assert main([*argv, "--max-rounds", "10", "-q"]) == 0
    assert json.loads((out / "space.json").read_text())["name"] == "my-merges"
    assert json.loads((out / "build_info.json").read_text())["space"] == "my-merges"
    bench = load_benchmark(out)
    assert bench.space.name == bench.name == "my-merges" and bench.meta["source_kind"] == "user-build"
    capsys.readouterr()
    assert main(["install", str(out)]) == 1  # and it cannot be installed as the official smm-bench-ps
    assert "has build_info.json, space.json" in capsys.readouterr().err and not data_dir.exists()


@pytest.mark.parametrize(
    "out_name, extra, match",
    [
        ("smm-bench-ps", [], r"the output folder's name \(--out\) = 'smm-bench-ps' is not allowed"),
        ("mine", ["--space-name", "smm-bench-ps"], r"space_name \(--space-name\) = 'smm-bench-ps' is not allowed"),
    ],
)
def test_official_names_are_refused_for_a_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], out_name: str, extra: list[str], match: str
) -> None:
    from smm_plugins.cli import main

    data = tmp_path / "merges.parquet"
    _table(ps_space(), n=50).to_parquet(data)
    out = tmp_path / out_name
    assert main(["build-surrogate", str(data), "--space", "ps", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reserved for the official SMM-Bench files" in err and "--space-name NAME" in err
    import re

    assert re.search(match, err)
    assert not (out / "label.json").exists()


def test_built_space_name() -> None:
    from smm_plugins.surrogate_tools.build import built_space_name

    assert built_space_name(ps_space(), "/x/runs/my-ps") == "my-ps"
    assert built_space_name(dfs_space(), "/x/dfs-v2", "lab-dfs") == "lab-dfs"
    assert built_space_name(ps_space("three-models", n_layers=2, n_models=3), "/x/out") == "three-models"
    with pytest.raises(ValueError, match="smm-bench-"):
        BuildConfig(space_name="smm-bench-dfs")
