"""Provenance: a user's build is never installed or labelled as the official files; every benchmark says
where its files come from (``meta["source"]``, ``smm-bench info``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from smm_plugins import registry
from smm_plugins.cli import main
from smm_plugins.install import InstallError, install
from smm_plugins.provenance import SOURCE_KINDS, build_markers, check_user_name, directory_source
from smm_plugins.registry import (
    EMBEDDED_DATA_DIR,
    BenchmarkNotInstalledError,
    benchmark_status,
    load_benchmark,
    register_benchmark,
)
from smm_plugins.space import ps_space
from smm_plugins.testing import SyntheticBenchmark


def _user_build(tmp_path: Path, ps_dir: Path, name: str = "my-ps-build", markers=("build_info.json",)) -> Path:
    """Official-format model files plus what ``build-surrogate`` writes beside them."""
    out = tmp_path / name
    shutil.copytree(ps_dir, out)
    for marker in markers:
        doc = ps_space().to_dict() if marker == "space.json" else {"space": "smm-bench-ps", "config": {}}
        (out / marker).write_text(json.dumps(doc))
    return out


def _snapshot(root: Path) -> dict[str, str] | None:
    if not root.exists():
        return None
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- install -----------------------------------------------------------------------------------


@pytest.mark.parametrize("markers", [("build_info.json", "space.json"), ("build_info.json",), ("space.json",)])
def test_install_refuses_a_build_into_an_empty_data_dir(
    data_dir: Path, tmp_path: Path, ps_dir: Path, markers: tuple[str, ...]
) -> None:
    build = _user_build(tmp_path, ps_dir, markers=markers)
    with pytest.raises(InstallError, match=r"not the official SMM-Bench download") as info:
        install(build)
    msg = str(info.value)
    assert all(m in msg for m in markers) and "\n" not in msg
    assert f"load_benchmark('{build}')" in msg and f"register_benchmark('my-name', '{build}')" in msg
    assert not data_dir.exists()  # nothing written, not even the data directory


def test_install_refuses_a_build_and_keeps_the_official_install(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path, ps_dir: Path
) -> None:
    install(ps_dir)
    before = _snapshot(data_dir)
    build = _user_build(tmp_path, ps_dir)
    code, out, err = _run(capsys, "install", str(build))
    assert code == 1 and out == ""
    assert err.startswith(f"smm-bench: error: {build} has build_info.json (a surrogate built with `smm-bench build")
    assert err.count("\n") == 1 and "register_benchmark('my-name'" in err
    assert _snapshot(data_dir) == before
    assert load_benchmark("smm-bench-ps").meta["source_kind"] == "official"


def test_install_refuses_a_build_inside_a_zip_or_next_to_official_files(
    data_dir: Path, tmp_path: Path, ps_dir: Path, dfs_dir: Path
) -> None:
    build = _user_build(tmp_path, ps_dir, name="smm-bench-ps")  # even under the official folder name
    archive = tmp_path / "mixed.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for d, top in ((build, "smm-bench-ps"), (dfs_dir, "smm-bench-dfs")):
            for p in d.iterdir():
                zf.write(p, f"SMM-Bench/{top}/{p.name}")
    with pytest.raises(InstallError, match=r"mixed\.zip:SMM-Bench/smm-bench-ps has build_info\.json .* unpack it"):
        install(archive)
    assert not data_dir.exists()  # the genuine DFS folder beside it is not installed either


def test_official_format_files_are_installed_and_labelled_official(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path, ps_dir: Path
) -> None:
    download = tmp_path / "download" / "SMM-Bench" / "smm-bench-ps"
    shutil.copytree(ps_dir, download)
    (done,) = install(tmp_path / "download")
    assert done.name == "smm-bench-ps"
    bench = load_benchmark("smm-bench-ps")
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert bench.meta["source"] == (
        f"official SMM-Bench files (Akizuki et al. 2025), installed {today} from {download}, manifest verified"
    )
    assert bench.meta["source_kind"] == "official"
    registry.clear_cache()
    assert "manifest not checked (verify=False)" in load_benchmark("smm-bench-ps", verify=False).meta["source"]
    code, out, _ = _run(capsys, "info", "smm-bench-ps")
    assert code == 0 and f"source:      official SMM-Bench files (Akizuki et al. 2025), installed {today}" in out
    code, out, _ = _run(capsys, "info", "smm-bench-ps", "--json")
    doc = json.loads(out)
    assert doc["source_kind"] == "official" and doc["source"] == doc["meta"]["source"] == bench.meta["source"]


def test_a_build_put_into_the_official_slot_by_hand_is_not_loaded_as_official(
    data_dir: Path, tmp_path: Path, ps_dir: Path
) -> None:
    # As an earlier install left it: the models, label.json and the build's space.json.
    _user_build(data_dir, ps_dir, name="smm-bench-ps", markers=("space.json",))
    with pytest.raises(BenchmarkNotInstalledError, match=r"holds a surrogate build \(space\.json\), not the official"):
        load_benchmark("smm-bench-ps")
    available, detail = benchmark_status("smm-bench-ps")
    assert not available and "not the official files" in detail


# -- meta["source"] of every kind of benchmark -------------------------------------------------


def test_source_of_embedded_true_and_factory_benchmarks(scratch_registry) -> None:
    cases = {
        "smm-mini-ps": ("embedded", "embedded: smm-plugins merge-lab surrogate built with build-surrogate"),
        "smm-mini-dfs": ("embedded", "embedded: smm-plugins merge-lab surrogate built with build-surrogate"),
        "smm-mini-ps-true": ("true", "exact lab objective (no surrogate)"),
        "smm_plugins.lab.objectives:dfs_true_benchmark": ("true", "exact lab objective (no surrogate)"),
    }
    for spec, (kind, start) in cases.items():
        meta = load_benchmark(spec).meta
        assert meta["source_kind"] == kind and meta["source"].startswith(start), spec
    register_benchmark("synthetic-for-source", lambda: SyntheticBenchmark(ps_space("x")))
    meta = load_benchmark("synthetic-for-source").meta
    assert set(meta) == {"source", "source_kind"} and meta["source_kind"] == "custom"
    assert meta["source"].startswith("custom: registered as 'synthetic-for-source', factory ")


def test_source_of_directories(tmp_path: Path, ps_dir: Path) -> None:
    build = _user_build(tmp_path, ps_dir)
    meta = load_benchmark(build).meta
    assert meta["source"] == f"user build: {build} (build-surrogate, build_info.json)"
    assert meta["source_kind"] == "user-build"
    old = _user_build(tmp_path, ps_dir, name="old-build", markers=("build_info.json", "space.json"))
    assert load_benchmark(old).space.name == "old-build"  # its space.json still says smm-bench-ps
    meta = load_benchmark(ps_dir).meta  # official layout, no manifest, no build_info.json: origin unknown
    assert meta["source_kind"] == "directory" and meta["source"].startswith(f"directory: {ps_dir} (official file")
    meta = load_benchmark(EMBEDDED_DATA_DIR / "smm-mini-ps").meta
    assert meta["source_kind"] == "embedded"
    assert load_benchmark(str(build), meta={"note": "mine"}).meta["note"] == "mine"


def test_register_a_user_build_by_directory(
    scratch_registry, capsys: pytest.CaptureFixture[str], tmp_path: Path, ps_dir: Path
) -> None:
    build = _user_build(tmp_path, ps_dir)
    register_benchmark("my-merges", build)
    assert registry.benchmark_entry("my-merges").kind == "user"
    bench = load_benchmark("my-merges")
    assert bench.name == "my-merges" and bench.meta["source_kind"] == "user-build"
    assert bench.meta["source"] == f"user build: {build} (build-surrogate, build_info.json)"
    assert load_benchmark("my-merges") is bench
    code, out, _ = _run(capsys, "info", "my-merges")
    assert code == 0 and f"source:      user build: {build}" in out and "official" not in out.split("variables:")[0]
    code, out, _ = _run(capsys, "info", "my-merges", "--json")
    doc = json.loads(out)
    assert doc["kind"] == "user" and doc["source_kind"] == "user-build"
    for name in ("smm-bench-ps", "SMM-Bench-mine"):
        with pytest.raises(ValueError, match=r"name = .* names starting with 'smm-bench-' are reserved"):
            register_benchmark(name, build, overwrite=True)
    with pytest.raises(ValueError, match="not an existing directory"):
        register_benchmark("missing", tmp_path / "nothing-here")


def test_info_shows_source_for_each_kind(capsys: pytest.CaptureFixture[str], tmp_path: Path, ps_dir: Path) -> None:
    expected = {
        "smm-mini-ps": "source:      embedded: smm-plugins merge-lab surrogate",
        "smm-mini-dfs-true": "source:      exact lab objective (no surrogate)",
        str(ps_dir): f"source:      directory: {ps_dir}",
        str(_user_build(tmp_path, ps_dir)): "source:      user build: ",
    }
    for spec, line in expected.items():
        code, out, _ = _run(capsys, "info", spec)
        assert code == 0 and line in out, spec


def test_helpers(tmp_path: Path, ps_dir: Path) -> None:
    assert build_markers(["label.json", "space.json", "build_info.json"]) == ["build_info.json", "space.json"]
    assert build_markers(ps_dir) == []
    assert check_user_name("my-ps", "name", "fix") == "my-ps"
    with pytest.raises(ValueError, match=r"name = '' is not allowed"):
        check_user_name("", "name", "fix")
    assert directory_source(ps_dir)["source_kind"] in SOURCE_KINDS
