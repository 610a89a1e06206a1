"""Surrogate builder at tiny sizes: official files, loader parity, errors, custom spaces, determinism, optional
dependencies (Optuna only for tuning, matplotlib only for the scatter plot), the names build.py re-exports."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from smm_plugins.space import SearchSpace, dfs_space, ps_space
from smm_plugins.surrogate_tools.build import BuildConfig, build_surrogate, fidelity_metrics

TINY = dict(n_trials=2, max_rounds=80, early_stopping_rounds=10, tune_rows=None)


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
def ps_build(make_table, tmp_path_factory: pytest.TempPathFactory):
    space = ps_space("tiny-ps", n_layers=4)
    df = make_table(space)
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
def test_compressed_dfs_with_categorical_features(make_table, tmp_path: Path) -> None:
    from smm_plugins.registry import load_benchmark

    space = dfs_space("tiny-dfs", n_layers=3)
    df = make_table(space, n=900)
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
def test_same_seed_same_files(make_table, tmp_path: Path) -> None:
    space = ps_space("tiny-ps", n_layers=2)
    df = make_table(space, n=500)
    digests = []
    for k in range(2):
        out = tmp_path / f"b{k}"
        build_surrogate(df, space, out, BuildConfig(compress=True, **TINY))
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())})
    assert digests[0] == digests[1]
    assert len(digests[0]) == 7


@pytest.mark.slow
def test_three_source_models_space_json_via_cli(make_table, tmp_path: Path) -> None:
    import argparse

    from smm_plugins.surrogate_tools.cli import add_subcommands

    space = ps_space("merge-of-three", n_layers=3, n_models=3)  # w_A_00 .. w_C_02: 9 weights
    space_file = tmp_path / "SPACE.json"
    space.to_json(str(space_file))
    data = tmp_path / "logs.csv"
    make_table(space, n=800).to_csv(data, index=False)
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


def test_cli_reports_missing_columns(make_table, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from smm_plugins.surrogate_tools.cli import add_subcommands

    space = ps_space(n_layers=32)  # the official 64-weight space
    df = make_table(ps_space(n_layers=4), n=50)
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


@pytest.mark.slow
def test_build_ps_without_space_name_is_named_after_the_output_folder(
    make_table, tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    from smm_plugins.cli import main
    from smm_plugins.registry import load_benchmark

    data = tmp_path / "merges.parquet"
    make_table(ps_space(), n=300).to_parquet(data)
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
    make_table, tmp_path: Path, capsys: pytest.CaptureFixture[str], out_name: str, extra: list[str], match: str
) -> None:
    from smm_plugins.cli import main

    data = tmp_path / "merges.parquet"
    make_table(ps_space(), n=50).to_parquet(data)
    out = tmp_path / out_name
    assert main(["build-surrogate", str(data), "--space", "ps", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "reserved for the official SMM-Bench files" in err and "--space-name NAME" in err
    import re

    assert re.search(match, err)
    assert not (out / "label.json").exists()


def test_build_py_reexports_the_names_of_the_split_modules() -> None:
    from smm_plugins.surrogate_tools import build, config, fit, metrics, table

    homes = {
        "BuildConfig": config,
        "BuildResult": config,
        "DEFAULT_OBJECTIVES": config,
        "MODEL_FILES": config,
        "built_space_name": config,
        "DEFAULT_LGB_PARAMS": fit,
        "fidelity_metrics": metrics,
        "METADATA_COLUMNS": table,
        "read_table": table,
        "resolve_space": table,
        "split_indices": table,
        "validate_table": table,
    }
    assert set(build.__all__) == set(homes) | {"build_surrogate"}
    for name, home in homes.items():
        assert getattr(build, name) is getattr(home, name), name


def _hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``import module`` fail as if it were not installed (a None entry in sys.modules stops the import)."""
    import sys

    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def test_without_optuna_a_fixed_parameter_build_works_and_tuning_fails_before_writing(
    make_table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    space = ps_space("tiny-ps", n_layers=2)
    df = make_table(space, n=300)
    cfg = BuildConfig(n_trials=0, max_rounds=20, early_stopping_rounds=5, n_folds=2)
    with_optuna = build_surrogate(df, space, tmp_path / "with", cfg)
    _hide(monkeypatch, "optuna")
    real_version = importlib.metadata.version

    def version(name: str) -> str:
        if name == "optuna":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    res = build_surrogate(df, space, tmp_path / "without", cfg)
    assert res.build_info["versions"]["optuna"] is None  # recorded as absent
    assert res.build_info["versions"]["lightgbm"] == real_version("lightgbm")
    for name in ("train_acc_ja_best_model.json", "test_acc_ja_best_model.json"):  # Optuna plays no part in them
        assert (tmp_path / "without" / name).read_bytes() == (tmp_path / "with" / name).read_bytes()
    assert res.report == with_optuna.report
    with pytest.raises(ImportError, match=r'needs optuna: pip install "smm-plugins\[optuna\]"') as err:
        build_surrogate(df, space, tmp_path / "tuned", BuildConfig(n_trials=1, max_rounds=20))
    assert "\n" not in str(err.value) and "--trials 0" in str(err.value)
    assert not (tmp_path / "tuned").exists()  # refused before reading, fitting or writing anything


def test_without_matplotlib_the_build_skips_only_the_scatter_plot(
    make_table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    space = ps_space("tiny-ps", n_layers=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "scatter.png").write_bytes(b"a previous build's figure")
    _hide(monkeypatch, "matplotlib", "matplotlib.pyplot")
    cfg = BuildConfig(n_trials=0, max_rounds=20, early_stopping_rounds=5, n_folds=2)
    res = build_surrogate(make_table(space, n=300), space, out, cfg)
    assert "scatter" not in res.files and not (out / "scatter.png").exists()
    assert (out / "report.json").is_file() and (out / "build_info.json").is_file()
    assert 'matplotlib is missing (pip install "smm-plugins[report]")' in caplog.text
