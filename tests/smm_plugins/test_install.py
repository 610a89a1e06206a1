"""smm-bench install: folder and zip sources, safety checks, manifest, change detection."""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from smm_plugins.datadir import MANIFEST_FILE, data_dir, read_manifest, sha256_file, verify_manifest
from smm_plugins.install import InstallError, install
from smm_plugins.model_files import OFFICIAL_FILES, ModelFileError
from smm_plugins.surrogate import SurrogateBenchmark


def _download_folder(tmp_path: Path, ps_dir: Path, dfs_dir: Path, top: str = "SMM-Bench") -> Path:
    root = tmp_path / "download" / top
    shutil.copytree(ps_dir, root / "smm-bench-ps")
    shutil.copytree(dfs_dir, root / "smm-bench-dfs")
    (root / "README.txt").write_text("unrelated")
    return tmp_path / "download"


def _zip_folder(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            zf.write(p, p.relative_to(folder).as_posix())
    return out


def test_data_dir_env_and_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SMM_BENCH_DATA_DIR", str(tmp_path / "x"))
    assert data_dir() == tmp_path / "x"
    monkeypatch.delenv("SMM_BENCH_DATA_DIR")
    assert data_dir().name == "smm-bench" and data_dir().is_absolute()


def test_install_from_nested_folder(data_dir: Path, tmp_path: Path, ps_dir: Path, dfs_dir: Path) -> None:
    src = _download_folder(tmp_path, ps_dir, dfs_dir)
    done = install(src)
    assert sorted(d.name for d in done) == ["smm-bench-dfs", "smm-bench-ps"]
    for item in done:
        assert item.path == data_dir / item.name
        assert item.n_folds == {"train_acc": 3, "test_acc": 3}
        for name in [*OFFICIAL_FILES.values(), "label.json"]:
            assert (item.path / name).read_bytes() == (src / "SMM-Bench" / item.name / name).read_bytes()
        manifest = read_manifest(item.path)
        assert manifest is not None
        assert set(manifest["files"]) == {*OFFICIAL_FILES.values(), "label.json"}
        for name, entry in manifest["files"].items():
            assert entry["sha256"] == sha256_file(item.path / name)
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".")]  # temp dir removed
    ps = SurrogateBenchmark(data_dir / "smm-bench-ps")
    ref = SurrogateBenchmark(ps_dir)
    X = ps.space.sample(20, 1)
    np.testing.assert_array_equal(ps.evaluate(X), ref.evaluate(X))


def test_install_from_zip_with_top_folder(data_dir: Path, tmp_path: Path, ps_dir: Path, dfs_dir: Path) -> None:
    archive = _zip_folder(_download_folder(tmp_path, ps_dir, dfs_dir), tmp_path / "smm.zip")
    done = install(archive)
    assert sorted(d.name for d in done) == ["smm-bench-dfs", "smm-bench-ps"]
    assert "smm.zip:SMM-Bench/smm-bench-dfs" in read_manifest(data_dir / "smm-bench-dfs")["source"]


def test_install_single_benchmark_folder_by_feature_count(data_dir: Path, tmp_path: Path, dfs_dir: Path) -> None:
    src = tmp_path / "whatever-name"
    shutil.copytree(dfs_dir, src)
    (done,) = install(src)
    assert done.name == "smm-bench-dfs" and done.n_features == 95
    assert not (data_dir / "smm-bench-ps").exists()


def test_install_gzipped_files(data_dir: Path, tmp_path: Path, ps_dir: Path) -> None:
    import gzip

    src = tmp_path / "smm-bench-ps"
    shutil.copytree(ps_dir, src)
    f = src / OFFICIAL_FILES["test_acc"]
    (src / (f.name + ".gz")).write_bytes(gzip.compress(f.read_bytes()))
    f.unlink()
    install(src)
    assert (data_dir / "smm-bench-ps" / (f.name + ".gz")).is_file()
    assert 0 <= SurrogateBenchmark(data_dir / "smm-bench-ps").evaluate(np.full(64, 0.5), "test_acc") <= 1


def _zip_with(tmp_path: Path, ps_dir: Path, extra: zipfile.ZipInfo, data: bytes = b"x") -> Path:
    out = tmp_path / "evil.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for p in sorted(ps_dir.iterdir()):
            zf.write(p, f"smm-bench-ps/{p.name}")
        zf.writestr(extra, data)
    return out


@pytest.mark.parametrize(
    "member, match",
    [
        ("../escape.txt", r"'\.\./escape\.txt' has a '\.\.' path component"),
        ("smm-bench-ps/../../x/label.json", r"has a '\.\.' path component"),
        ("/etc/passwd-copy", r"has an absolute path"),
        ("C:/Windows/x.txt", r"has an absolute path"),
        ("..\\..\\win.txt", r"has a '\.\.' path component"),
    ],
)
def test_zip_with_unsafe_paths_is_rejected(
    data_dir: Path, tmp_path: Path, ps_dir: Path, member: str, match: str
) -> None:
    archive = _zip_with(tmp_path, ps_dir, zipfile.ZipInfo(member))
    with pytest.raises(InstallError, match=match):
        install(archive)
    assert not (data_dir / "smm-bench-ps").exists()
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()


def test_zip_with_symlink_member_is_rejected(data_dir: Path, tmp_path: Path, ps_dir: Path) -> None:
    info = zipfile.ZipInfo("smm-bench-ps/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = _zip_with(tmp_path, ps_dir, info, b"/etc/passwd")
    with pytest.raises(InstallError, match=r"'smm-bench-ps/link' is a symbolic link; refusing to extract"):
        install(archive)
    assert not (data_dir / "smm-bench-ps").exists()


def test_folder_with_symlinked_model_file_is_rejected(data_dir: Path, tmp_path: Path, ps_dir: Path) -> None:
    src = tmp_path / "smm-bench-ps"
    shutil.copytree(ps_dir, src)
    f = src / OFFICIAL_FILES["train_acc"]
    f.unlink()
    os.symlink(ps_dir / OFFICIAL_FILES["train_acc"], f)
    with pytest.raises(InstallError, match=r"train_acc_ja_best_model\.json is a symbolic link"):
        install(src)


@pytest.mark.parametrize(
    "damage, match",
    [
        (
            lambda d: (d / OFFICIAL_FILES["test_acc"]).unlink(),
            r"smm-bench-ps/test_acc_ja_best_model\.json: model file for objective 'test_acc' is missing",
        ),
        (lambda d: (d / "label.json").unlink(), r"smm-bench-ps/label\.json: file is missing"),
        (
            lambda d: (d / "label.json").write_text(json.dumps({"x": ["a"] * 3 + [f"v{i}" for i in range(61)]})),
            r"duplicate names",
        ),
        (
            lambda d: (d / "label.json").write_text(json.dumps({"x": [f"v{i}" for i in range(63)]})),
            r"label\.json: lists 63 names but the models have 64 features",
        ),
        (
            lambda d: (d / OFFICIAL_FILES["train_acc"]).write_text('{"boosters": ["tree\\nversion=v4'),
            r"smm-bench-ps/train_acc_ja_best_model\.json: is not valid JSON",
        ),
    ],
)
def test_incomplete_or_corrupt_download_is_rejected_and_named(
    data_dir: Path, tmp_path: Path, ps_dir: Path, damage, match: str
) -> None:
    src = tmp_path / "dl" / "smm-bench-ps"
    shutil.copytree(ps_dir, src)
    damage(src)
    with pytest.raises(InstallError, match=match) as info:
        install(tmp_path / "dl")
    assert str(tmp_path / "dl") in str(info.value)  # names the user's file, not a temp copy
    assert not (data_dir / "smm-bench-ps").exists()


def test_wrong_feature_count_and_mislabelled_folder(data_dir: Path, tmp_path: Path, ps_dir: Path) -> None:
    src = tmp_path / "dl" / "smm-bench-dfs"  # PS files in a folder named like DFS
    shutil.copytree(ps_dir, src)
    with pytest.raises(InstallError, match=r"named smm-bench-dfs but its models have 64 features \(smm-bench-ps\)"):
        install(tmp_path / "dl")


def test_nothing_found_and_bad_sources(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InstallError, match="holds no SMM-Bench benchmark folder"):
        install(tmp_path / "empty")
    with pytest.raises(InstallError, match="does not exist"):
        install(tmp_path / "missing.zip")
    (tmp_path / "notazip.zip").write_bytes(b"hello")
    with pytest.raises(InstallError, match="neither a folder nor a zip"):
        install(tmp_path / "notazip.zip")


def test_two_copies_of_one_benchmark_are_rejected(data_dir: Path, tmp_path: Path, ps_dir: Path) -> None:
    shutil.copytree(ps_dir, tmp_path / "dl" / "a" / "smm-bench-ps")
    shutil.copytree(ps_dir, tmp_path / "dl" / "b" / "smm-bench-ps")
    with pytest.raises(InstallError, match="more than one smm-bench-ps folder"):
        install(tmp_path / "dl")


def test_failed_reinstall_keeps_previous_install(data_dir: Path, tmp_path: Path, ps_dir: Path) -> None:
    install(ps_dir)
    before = read_manifest(data_dir / "smm-bench-ps")
    bad = tmp_path / "smm-bench-ps"
    shutil.copytree(ps_dir, bad)
    (bad / "label.json").write_text("{")
    with pytest.raises(InstallError):
        install(bad)
    assert read_manifest(data_dir / "smm-bench-ps") == before
    assert verify_manifest(data_dir / "smm-bench-ps") is not None


def test_reinstall_replaces(data_dir: Path, ps_dir: Path, tmp_path: Path) -> None:
    install(ps_dir)
    (data_dir / "smm-bench-ps" / "stray.txt").write_text("old")
    install(ps_dir)
    assert not (data_dir / "smm-bench-ps" / "stray.txt").exists()
    assert sorted(p.name for p in data_dir.iterdir()) == ["smm-bench-ps"]


def test_changed_file_is_reported_on_load(data_dir: Path, ps_dir: Path) -> None:
    install(ps_dir)
    target = data_dir / "smm-bench-ps"
    f = target / OFFICIAL_FILES["train_acc"]
    raw = f.read_bytes()
    # Same size, one character changed: caught by the SHA-256 when the model is loaded.
    i = raw.index(b"shrinkage=") + len(b"shrinkage=")
    f.write_bytes(raw[:i] + (b"2" if raw[i : i + 1] != b"2" else b"3") + raw[i + 1 :])
    bench = SurrogateBenchmark(target, fix="run `smm-bench install PATH`")
    with pytest.raises(
        ModelFileError,
        match=r"train_acc_ja_best_model\.json: has changed since it was installed.*smm-bench install PATH",
    ):
        bench.evaluate(np.full(64, 0.5))
    with pytest.raises(ModelFileError, match="SHA-256 differs"):
        verify_manifest(target)
    # verify=False skips the check (and the edited file still loads)
    assert 0 <= SurrogateBenchmark(target, verify=False).evaluate(np.full(64, 0.5)) <= 1


def test_size_change_and_removed_file_are_reported_at_construction(data_dir: Path, ps_dir: Path) -> None:
    install(ps_dir)
    target = data_dir / "smm-bench-ps"
    with open(target / OFFICIAL_FILES["test_acc"], "ab") as fh:
        fh.write(b" ")
    with pytest.raises(
        ModelFileError, match=r"test_acc_ja_best_model\.json: has changed since it was installed \(size"
    ):
        SurrogateBenchmark(target)
    install(ps_dir)
    (target / "label.json").write_text(json.dumps({"x": [f"z{i:02d}" for i in range(64)]}))
    with pytest.raises(ModelFileError, match=r"label\.json: has changed"):
        SurrogateBenchmark(target)
    install(ps_dir)
    (target / OFFICIAL_FILES["train_acc"]).unlink()
    with pytest.raises(FileNotFoundError, match="listed in the install manifest"):
        SurrogateBenchmark(target)


def test_corrupt_manifest(data_dir: Path, ps_dir: Path) -> None:
    install(ps_dir)
    (data_dir / "smm-bench-ps" / MANIFEST_FILE).write_text("{}")
    with pytest.raises(ModelFileError, match=r'manifest\.json: manifest has no valid "files" table'):
        SurrogateBenchmark(data_dir / "smm-bench-ps")
    assert SurrogateBenchmark(data_dir / "smm-bench-ps", verify=False).space.dim == 64


def test_model_the_engine_cannot_use_is_rejected_at_install(data_dir: Path, tmp_path: Path, ps_dir: Path) -> None:
    # Valid JSON and a valid LightGBM text, but a binary (sigmoid) objective: predicting would need a
    # transform the surrogate semantics do not have, so install must refuse it, not the first eval.
    src = tmp_path / "dl" / "smm-bench-ps"
    shutil.copytree(ps_dir, src)
    model = src / OFFICIAL_FILES["train_acc"]
    data = json.loads(model.read_text())
    data["boosters"] = [b.replace("objective=regression", "objective=binary sigmoid:1") for b in data["boosters"]]
    model.write_text(json.dumps(data))
    with pytest.raises(InstallError, match=r"train_acc_ja_best_model\.json.*objective"):
        install(tmp_path / "dl")
    assert not (data_dir / "smm-bench-ps").exists()
