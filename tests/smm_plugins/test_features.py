"""Feature maps: exactness against the lab's DFS path, registry errors, benchmark directories that declare one."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smm_plugins.dfs import inference_path as dfs_path
from smm_plugins.features import dfs_input_shares, dfs_path_log_weights, get_feature_map, list_feature_maps
from smm_plugins.model_files import FEATURES_FILE, ModelFileError, check_model_dir
from smm_plugins.space import dfs_space, ps_space
from smm_plugins.surrogate_tools.build import BuildConfig, build_surrogate
from smm_plugins.testing import synthetic_accuracy

TINY = dict(n_trials=2, max_rounds=60, early_stopping_rounds=10, tune_rows=None)


def _expected_log_weights(row: np.ndarray, n_layers: int) -> tuple[np.ndarray, int]:
    """Straight from the lab's path: the block at 0-based hop k is scaled by scale_k .. scale_{H-2}."""
    path = dfs_path(row[:n_layers])
    log_s = np.log(row[n_layers:])
    out = np.full(2 * n_layers, np.nan)
    for k, (model, layer) in enumerate(path):
        out[model * n_layers + layer] = log_s[k : len(path) - 1].sum()
    return out, len(path)


@pytest.mark.parametrize("n_layers", [1, 3, 32])
def test_dfs_path_log_weights_match_the_lab_path(n_layers: int) -> None:
    space = dfs_space(n_layers=n_layers)
    X = space.sample(300, rng=n_layers)
    X[0, :n_layers] = 2  # longest path: every scale active
    X[1, :n_layers] = 0  # shortest path, model A only
    X[2, :n_layers] = 1
    log_w, hops, total = dfs_path_log_weights(X, n_layers)
    for r in range(len(X)):
        want, h = _expected_log_weights(X[r], n_layers)
        np.testing.assert_allclose(log_w[r], want, rtol=0, atol=1e-12, equal_nan=True)
        assert hops[r] == h
        assert total[r] == pytest.approx(np.log(X[r, n_layers : n_layers + h - 1]).sum(), abs=1e-12)
    assert np.isnan(log_w[1, n_layers:]).all() and (hops[0], hops[1]) == (2 * n_layers, n_layers)


def _expected_input_shares(row: np.ndarray, n_layers: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Replays the lab's path on scalar weights: before hop k > 0 the whole stream is scaled by scale_{k-1},
    a block reads the normalised stream and adds one update of weight 1."""
    path = dfs_path(row[:n_layers])
    scales = row[n_layers:]
    emb_w, updates = 1.0, []
    emb, prev = np.full(2 * n_layers, np.nan), np.full(2 * n_layers, np.nan)
    for k, (model, layer) in enumerate(path):
        if k > 0:
            emb_w, updates = emb_w * scales[k - 1], [u * scales[k - 1] for u in updates]
        total = emb_w + sum(updates)
        emb[model * n_layers + layer] = np.log(emb_w / total)
        if updates:
            prev[model * n_layers + layer] = np.log(updates[-1] / total)
        updates.append(1.0)
    return emb, prev, float(np.log(emb_w / (emb_w + sum(updates))))


@pytest.mark.parametrize("n_layers", [1, 3, 32])
def test_dfs_input_shares_match_the_lab_path(n_layers: int) -> None:
    space = dfs_space(n_layers=n_layers)
    X = space.sample(200, rng=10 + n_layers)
    X[0, :n_layers] = 2
    X[1, :n_layers] = 0
    X[2, :n_layers] = 1
    emb, prev, final = dfs_input_shares(X, n_layers)
    for r in range(len(X)):
        want_emb, want_prev, want_final = _expected_input_shares(X[r], n_layers)
        np.testing.assert_allclose(emb[r], want_emb, rtol=0, atol=1e-10, equal_nan=True)
        np.testing.assert_allclose(prev[r], want_prev, rtol=0, atol=1e-10, equal_nan=True)
        assert final[r] == pytest.approx(want_final, abs=1e-10)
    # The first block reads the embedding alone; a block off the path reads nothing.
    assert emb[1, 0] == 0.0 and np.isnan(prev[1, 0]) and np.isnan(emb[1, n_layers:]).all()
    ctx = get_feature_map("dfs-path-ctx")
    F = ctx.transform(X, space)
    names = ctx.output_names(space)
    assert F.shape == (len(X), len(names)) and names[-1] == "final_embedding_share"
    np.testing.assert_array_equal(
        F[:, : len(get_feature_map("dfs-path-rel").output_names(space))],
        get_feature_map("dfs-path-rel").transform(X, space),
    )
    np.testing.assert_array_equal(F[:, -1], final)
    bad = X[:3].copy()
    bad[1, 0] = 3.0
    with pytest.raises(ValueError, match=r"layer_00 = 3.0 in row 1 is not allowed"):
        ctx.transform(bad, space)


def test_maps_keep_raw_inputs_and_add_named_columns() -> None:
    space = dfs_space(n_layers=4)
    X = space.sample(50, rng=0)
    path, rel = get_feature_map("dfs-path"), get_feature_map("dfs-path-rel", 1)
    F, G = path.transform(X, space), rel.transform(X, space)
    names = path.output_names(space)
    assert F.shape == (50, len(names)) == (50, space.dim + 8 + 3)
    assert names[: space.dim] == space.names and names[space.dim] == "logw_A_00" and names[-1] == "log_weight_lse"
    np.testing.assert_array_equal(F[:, : space.dim], X)
    np.testing.assert_array_equal(G[:, : F.shape[1]], F)
    lse = F[:, -1]
    np.testing.assert_allclose(lse, np.log(np.nansum(np.exp(F[:, space.dim : space.dim + 8]), axis=1)))
    np.testing.assert_allclose(G[:, F.shape[1] :], F[:, space.dim : space.dim + 8] - lse[:, None], equal_nan=True)
    assert path.categorical_outputs(space) == [0, 1, 2, 3]
    assert set(list_feature_maps()) >= {"dfs-path@1", "dfs-path-rel@1", "dfs-path-ctx@1"}


def test_unknown_map_or_version_or_space_is_a_clear_error() -> None:
    with pytest.raises(
        ValueError, match=r"feature map 'dfs-pth' is not known; allowed: dfs-path@1, dfs-path-ctx@1, dfs-path-rel@1"
    ):
        get_feature_map("dfs-pth")
    with pytest.raises(ValueError, match=r"feature map 'dfs-path' has no version 7; allowed: 1"):
        get_feature_map("dfs-path", 7)
    with pytest.raises(ValueError, match=r"'ps' .* is not a DFS space"):
        get_feature_map("dfs-path").check_space(ps_space("ps", n_layers=4))
    space = dfs_space(n_layers=2)
    X = space.sample(3, rng=0)
    X[1, 1] = 3
    with pytest.raises(ValueError, match=r"layer_01 = 3.0 in row 1 is not allowed; allowed: 0, 1 or 2"):
        get_feature_map("dfs-path").transform(X, space)


def test_transform_checks_each_space_until_it_passes() -> None:
    # transform checks a space once per map and space: a space that fails must fail on every call.
    ps = ps_space("ps", n_layers=4)
    X_ps = ps.sample(2, rng=0)
    for _ in range(2):
        with pytest.raises(ValueError, match=r"'ps' .* is not a DFS space"):
            get_feature_map("dfs-path-ctx").transform(X_ps, ps)
    space = dfs_space(n_layers=3)
    X = space.sample(4, rng=1)
    first = get_feature_map("dfs-path-ctx").transform(X, space)
    np.testing.assert_array_equal(get_feature_map("dfs-path-ctx").transform(X, space), first)


# -- benchmark directories that declare a map --------------------------------------------------------


def _dfs_table(n_layers: int, n: int, seed: int) -> pd.DataFrame:
    space = dfs_space("tiny-dfs", n_layers=n_layers)
    rng = np.random.default_rng(seed)
    X = space.sample(n, rng)
    df = pd.DataFrame(X, columns=space.names)
    log_w, _, _ = dfs_path_log_weights(X, n_layers)
    for obj in ("train_acc", "test_acc"):
        # A landscape that depends on the path: raw-input trees find it hard, path features make it easy.
        signal = np.nan_to_num(log_w[:, 0] - log_w[:, -1], nan=-1.0)
        df[obj] = np.clip(0.5 + 0.2 * np.tanh(signal) + 0.3 * (synthetic_accuracy(space, X, obj) - 0.5), 0, 1)
    return df


@pytest.fixture(scope="module")
def path_build(tmp_path_factory: pytest.TempPathFactory):
    from smm_plugins.cli import main

    data = tmp_path_factory.mktemp("data") / "merges.parquet"
    df = _dfs_table(3, 900, seed=0)
    df.to_parquet(data)
    space_json = tmp_path_factory.mktemp("space") / "space.json"
    dfs_space("tiny-dfs", n_layers=3).to_json(str(space_json))
    out = tmp_path_factory.mktemp("bench") / "tiny-dfs-path"
    argv = ["build-surrogate", str(data), "--space", str(space_json), "--out", str(out), "--features", "dfs-path"]
    argv += ["--trials", "2", "--max-rounds", "60", "--early-stopping", "10", "--compress", "-q"]
    assert main(argv) == 0
    return out


def test_built_directory_declares_the_map_and_keeps_raw_labels(path_build: Path) -> None:
    space = dfs_space("tiny-dfs", n_layers=3)
    spec = json.loads((path_build / FEATURES_FILE).read_text())
    assert (spec["name"], spec["version"]) == ("dfs-path", 1)
    assert spec["outputs"] == get_feature_map("dfs-path").output_names(space)
    assert json.loads((path_build / "label.json").read_text()) == {"x": space.names}
    info = json.loads((path_build / "build_info.json").read_text())
    assert info["feature_map"] == "dfs-path@1" and info["categorical_features"] == space.names[:3]
    check = check_model_dir(path_build, allowed_features=None)
    assert check.feature_map == "dfs-path@1" and check.n_features == len(spec["outputs"])


def test_benchmark_applies_the_map_to_raw_configurations(path_build: Path) -> None:
    import lightgbm as lgb

    from smm_plugins.registry import load_benchmark

    bench = load_benchmark(str(path_build))
    assert bench.feature_map.key == "dfs-path@1" and bench.space.dim == 3 + 5
    X = bench.space.sample(40, rng=4)
    F = get_feature_map("dfs-path").transform(X, bench.space)
    body = json.loads(gzip.decompress((path_build / "train_acc_ja_best_model.json.gz").read_bytes()))
    ref = np.clip(np.mean([lgb.Booster(model_str=s).predict(F) for s in body["boosters"]], axis=0), 0, 1)
    np.testing.assert_allclose(bench.evaluate(X, "train_acc"), ref, rtol=0, atol=1e-12)
    assert bench(X[0, :3], X[0, 3:]) == pytest.approx(ref[0], abs=1e-12)  # DFS (c, x) form: raw too
    # Strict validation is on the raw configuration, before the map.
    with pytest.raises(ValueError, match="8"):
        bench.evaluate(F[:2])
    bad = X[:1].copy()
    bad[0, 1] = 3
    with pytest.raises(ValueError, match=r"layer_01"):
        bench.evaluate(bad)
    bad = X[:1].copy()
    bad[0, 4] = 1.6
    with pytest.raises(ValueError, match=r"scale_01"):
        bench.evaluate(bad)


def test_path_features_beat_raw_inputs_on_a_path_landscape(path_build: Path, tmp_path: Path) -> None:
    from smm_plugins.registry import load_benchmark
    from smm_plugins.surrogate_tools.build import fidelity_metrics

    df = _dfs_table(3, 900, seed=0)
    raw = build_surrogate(df, dfs_space("tiny-dfs", n_layers=3), tmp_path / "raw", BuildConfig(**TINY))
    assert not (tmp_path / "raw" / FEATURES_FILE).exists() and raw.build_info["feature_map"] is None
    test = _dfs_table(3, 400, seed=9)
    space = dfs_space("tiny-dfs", n_layers=3)
    X, y = test[space.names].to_numpy(), test["train_acc"].to_numpy()
    r2 = {
        k: fidelity_metrics(y, load_benchmark(str(d)).evaluate(X))["r2"]
        for k, d in (("raw", raw.out_dir), ("path", path_build))
    }
    assert r2["path"] > r2["raw"] + 0.05


def test_directory_naming_an_unknown_map_is_refused(path_build: Path, tmp_path: Path) -> None:
    import shutil

    from smm_plugins.surrogate import SurrogateBenchmark

    d = tmp_path / "copy"
    shutil.copytree(path_build, d)
    (d / FEATURES_FILE).write_text(json.dumps({"name": "dfs-magic", "version": 1}))
    for load in (lambda: SurrogateBenchmark(d), lambda: check_model_dir(d)):
        with pytest.raises(
            ModelFileError, match=r"features\.json: feature map 'dfs-magic' is not known; allowed: dfs-path@1"
        ):
            load()
    (d / FEATURES_FILE).write_text(json.dumps({"name": "dfs-path"}))
    with pytest.raises(ModelFileError, match=r'must be a JSON object \{"name"'):
        SurrogateBenchmark(d)
    (d / FEATURES_FILE).unlink()  # without the map the 17-input models do not fit the 8-variable space
    with pytest.raises(ModelFileError, match=r"models have 17 features but the search space has 8 variables"):
        bench = SurrogateBenchmark(d)
        bench.evaluate(bench.space.default_vector(), "train_acc")


def test_cli_names_the_allowed_maps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from smm_plugins.cli import main

    data = tmp_path / "m.csv"
    _dfs_table(2, 60, seed=1).to_csv(data, index=False)
    space_json = tmp_path / "space.json"
    dfs_space("tiny-dfs", n_layers=2).to_json(str(space_json))
    rc = main(
        ["build-surrogate", str(data), "--space", str(space_json), "--out", str(tmp_path / "o"), "--features", "nope"]
    )
    assert rc == 2
    assert (
        "feature map 'nope' is not known; allowed: dfs-path@1, dfs-path-ctx@1, dfs-path-rel@1"
        in capsys.readouterr().err
    )


def test_space_metadata_names_the_map_and_extra_rows_are_weighted(tmp_path: Path) -> None:
    import dataclasses

    space = dfs_space("tiny-dfs", n_layers=2)
    space = dataclasses.replace(space, metadata={**space.metadata, "features": "dfs-path-rel"})
    df = _dfs_table(2, 400, seed=3)
    extra = _dfs_table(2, 100, seed=4)
    extra["train_acc"] = 0.97  # a region the DATA rows contradict
    preds = {}
    for w in (1.0, 30.0):
        res = build_surrogate(df, space, tmp_path / f"w{w}", BuildConfig(extra_weight=w, **TINY), extra_data=extra)
        assert res.build_info["feature_map"] == "dfs-path-rel@1"
        from smm_plugins.registry import load_benchmark

        preds[w] = load_benchmark(str(res.out_dir)).evaluate(extra[space.names].to_numpy())
    assert np.mean(preds[30.0]) > np.mean(preds[1.0]) + 0.02
    with pytest.raises(ValueError, match=r"extra_weight = 0.0 is not allowed"):
        BuildConfig(extra_weight=0.0)
