"""Registry: pre-registered names, load by name or directory, caching, clear errors."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import smm_plugins
from smm_plugins import registry
from smm_plugins.install import install
from smm_plugins.registry import (
    BenchmarkNotInstalledError,
    UnknownBenchmarkError,
    benchmark_status,
    list_benchmarks,
    load_benchmark,
    register_benchmark,
)
from smm_plugins.surrogate import SurrogateBenchmark


def test_preregistered_names() -> None:
    names = list_benchmarks()
    for n in ["smm-bench-ps", "smm-bench-dfs", "smm-mini-ps", "smm-mini-dfs", "smm-mini-ps-true", "smm-mini-dfs-true"]:
        assert n in names
    assert names == sorted(names)
    assert registry.benchmark_entry("smm-mini-ps-true").factory == "smm_plugins.lab.objectives:ps_true_benchmark"
    assert registry.benchmark_entry("smm-mini-dfs-true").factory == "smm_plugins.lab.objectives:dfs_true_benchmark"
    assert smm_plugins.load_benchmark is load_benchmark and smm_plugins.SurrogateBenchmark is SurrogateBenchmark


@pytest.mark.parametrize("name, label", [("smm-bench-ps", "SMM-Bench-PS"), ("smm-bench-dfs", "SMM-Bench-DFS")])
def test_official_not_installed_error(data_dir: Path, name: str, label: str) -> None:
    with pytest.raises(BenchmarkNotInstalledError) as info:
        load_benchmark(name)
    msg = str(info.value)
    assert f"{name} is not installed" in msg and str(data_dir / name) in msg
    assert "smm-bench install PATH" in msg and "github.com/shiralab/SMM-Bench" in msg and label in msg
    assert benchmark_status(name) == (
        False,
        f"not installed (expected in {data_dir / name}; run `smm-bench install PATH`)",
    )


def test_official_after_install_is_cached(data_dir: Path, ps_dir: Path, dfs_cat_dir: Path) -> None:
    install(ps_dir)
    install(dfs_cat_dir)
    ps = load_benchmark("smm-bench-ps")
    assert isinstance(ps, SurrogateBenchmark) and ps.name == "smm-bench-ps" and ps.space.dim == 64
    assert load_benchmark("smm-bench-ps") is ps
    assert load_benchmark("smm-bench-ps", verify=False) is not ps
    dfs = load_benchmark("smm-bench-dfs")
    assert dfs.space.n_categorical == 32 and benchmark_status("smm-bench-dfs")[0]
    X = ps.space.sample(10, 0)
    np.testing.assert_array_equal(ps.evaluate(X), SurrogateBenchmark(ps_dir).evaluate(X))
    assert "smm-bench install" in ps.fix  # errors about these files name the install command


def test_changed_official_file_names_install_command(data_dir: Path, ps_dir: Path) -> None:
    install(ps_dir)
    f = data_dir / "smm-bench-ps" / "label.json"
    f.write_text(f.read_text() + " ")
    with pytest.raises(ValueError, match=r"label\.json: has changed since it was installed.*`smm-bench install PATH`"):
        load_benchmark("smm-bench-ps")
    assert load_benchmark("smm-bench-ps", verify=False).space.dim == 64


def test_data_dir_change_is_not_served_from_cache(
    data_dir: Path, ps_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(ps_dir)
    load_benchmark("smm-bench-ps")
    monkeypatch.setenv("SMM_BENCH_DATA_DIR", str(tmp_path / "other"))
    with pytest.raises(BenchmarkNotInstalledError):
        load_benchmark("smm-bench-ps")


def test_load_directory(ps_dir: Path) -> None:
    bench = load_benchmark(ps_dir)
    assert isinstance(bench, SurrogateBenchmark) and bench.space.dim == 64
    assert load_benchmark(str(ps_dir)) is bench  # read once per process (see the rebuild test below)
    assert load_benchmark(ps_dir, name="mine").name == "mine"


def test_unknown_names_and_paths(tmp_path: Path) -> None:
    with pytest.raises(
        UnknownBenchmarkError, match=r"no benchmark named 'smm-bench-xx'; known: smm-bench-dfs, smm-bench-ps"
    ):
        load_benchmark("smm-bench-xx")
    with pytest.raises(UnknownBenchmarkError, match="directory .* does not exist"):
        load_benchmark(str(tmp_path / "nope"))
    (tmp_path / "f.json").write_text("{}")
    with pytest.raises(UnknownBenchmarkError, match="is a file"):
        load_benchmark(tmp_path / "f.json")
    with pytest.raises(TypeError):
        load_benchmark(3)  # type: ignore[arg-type]


def test_embedded_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ps_dir: Path) -> None:
    monkeypatch.setattr(registry, "EMBEDDED_DATA_DIR", tmp_path)
    registry.clear_cache()
    with pytest.raises(
        BenchmarkNotInstalledError, match=r"embedded surrogate smm-mini-ps is missing.*reinstall smm-plugins"
    ):
        load_benchmark("smm-mini-ps")
    assert benchmark_status("smm-mini-ps")[0] is False
    import shutil

    shutil.copytree(ps_dir, tmp_path / "smm-mini-ps")
    bench = load_benchmark("smm-mini-ps")
    assert bench.name == "smm-mini-ps" and "embedded" in bench.meta["source"]
    assert "reinstall smm-plugins" in bench.fix
    registry.clear_cache()


def test_register_callable_and_module_string(
    scratch_registry, tmp_path: Path, ps_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def factory(**kw):
        calls.append(kw)
        return SurrogateBenchmark(ps_dir, name="custom", **kw)

    register_benchmark("custom", factory, description="mine", kind="custom")
    assert "custom" in list_benchmarks()
    b = load_benchmark("custom")
    assert b.name == "custom" and load_benchmark("custom") is b and calls == [{}]
    with pytest.raises(ValueError, match="already registered"):
        register_benchmark("custom", factory)
    register_benchmark("custom", factory, overwrite=True)
    assert load_benchmark("custom") is not b  # cache dropped on re-registration

    pkg = tmp_path / "fakepkg_smm"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bench.py").write_text(
        textwrap.dedent(
            f"""
            from smm_plugins.surrogate import SurrogateBenchmark
            def make(**kw):
                return SurrogateBenchmark({str(ps_dir)!r}, name="from-string", **kw)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    register_benchmark("from-string", "fakepkg_smm.bench:make")
    assert benchmark_status("from-string") == (True, "fakepkg_smm.bench:make")
    assert load_benchmark("from-string").name == "from-string"

    register_benchmark("no-module", "no_such_pkg_smm.objectives:make")
    assert benchmark_status("no-module") == (False, "module no_such_pkg_smm.objectives is not available")
    with pytest.raises(
        BenchmarkNotInstalledError, match="comes from module no_such_pkg_smm.objectives, which is not available"
    ):
        load_benchmark("no-module")
    register_benchmark("no-attr", "fakepkg_smm.bench:nothing")
    with pytest.raises(BenchmarkNotInstalledError, match="has no 'nothing'"):
        load_benchmark("no-attr")
    # a module that exists but fails on a missing dependency is not disguised
    (pkg / "broken.py").write_text("import no_such_dependency_smm\n")
    register_benchmark("broken", "fakepkg_smm.broken:make")
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_smm"):
        load_benchmark("broken")
    sys.modules.pop("fakepkg_smm", None)


def test_register_validation(scratch_registry) -> None:
    with pytest.raises(ValueError, match="must look like 'package.module:callable'"):
        register_benchmark("x", "no_colon")
    with pytest.raises(TypeError, match="must be callable"):
        register_benchmark("x", 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty string"):
        register_benchmark(" ", lambda: None)


def test_official_without_manifest_warns(data_dir: Path, ps_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    import shutil

    shutil.copytree(ps_dir, data_dir / "smm-bench-ps")  # copied by hand instead of `smm-bench install`
    with caplog.at_level("WARNING", logger="smm_plugins.registry"):
        bench = load_benchmark("smm-bench-ps")
    assert bench.space.dim == 64
    assert "has no manifest.json: its files are not verified" in caplog.text


def test_unregister_removes_name_and_cached_instance(ps_dir) -> None:
    from smm_plugins.registry import (
        UnknownBenchmarkError,
        list_benchmarks,
        load_benchmark,
        register_benchmark,
        unregister_benchmark,
    )

    register_benchmark("tmp-unregister-test", lambda: load_benchmark(ps_dir))
    assert "tmp-unregister-test" in list_benchmarks()
    load_benchmark("tmp-unregister-test")
    unregister_benchmark("tmp-unregister-test")
    assert "tmp-unregister-test" not in list_benchmarks()
    with pytest.raises(UnknownBenchmarkError):
        load_benchmark("tmp-unregister-test")
    with pytest.raises(UnknownBenchmarkError):
        unregister_benchmark("tmp-unregister-test")


def test_directory_is_read_once_and_again_after_a_rebuild(tmp_path: Path, ps_dir: Path) -> None:
    import os
    import shutil

    d = tmp_path / "mine"
    shutil.copytree(ps_dir, d)
    registry.clear_cache()
    first = load_benchmark(d)
    assert load_benchmark(str(d)) is first  # same folder, str or Path: one instance per process
    assert load_benchmark(d, verify=False) is not first  # other constructor arguments: another instance
    label = d / "label.json"
    st = label.stat()
    os.utime(label, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # the folder was rewritten
    again = load_benchmark(d)
    assert again is not first and load_benchmark(d) is again
    registry.clear_cache()
    assert load_benchmark(d) is not again
    registry.clear_cache()


def test_load_benchmark_from_a_factory_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smm_plugins.registry import UnknownBenchmarkError, list_benchmarks, load_benchmark

    (tmp_path / "factory_mod.py").write_text(
        "from smm_plugins.space import ps_space\n"
        "from smm_plugins.testing import SyntheticBenchmark\n"
        "CALLS = []\n"
        "def make(n_layers=3):\n"
        "    CALLS.append(n_layers)\n"
        "    return SyntheticBenchmark(ps_space('from-factory', n_layers=n_layers))\n"
        "def not_a_benchmark():\n"
        "    return 42\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    names = list_benchmarks()
    bench = load_benchmark("factory_mod:make")
    assert bench.space.dim == 2 * 3 and load_benchmark("factory_mod:make") is bench  # cached per process
    assert load_benchmark("factory_mod:make", n_layers=5).space.dim == 2 * 5  # keyword arguments reach it
    import factory_mod

    assert factory_mod.CALLS == [3, 5] and list_benchmarks() == names  # nothing registered on the way
    with pytest.raises(UnknownBenchmarkError, match="'factory_mod:nope': cannot import the factory"):
        load_benchmark("factory_mod:nope")
    with pytest.raises(TypeError, match="gave a int, not a smm_plugins Benchmark"):
        load_benchmark("factory_mod:not_a_benchmark")


def test_suites_select_members_and_unknown_suite_lists_known(scratch_registry) -> None:
    assert {"smm-mini-ps-true", "smm-mini-dfs-true"} <= set(list_benchmarks(suite="smm-mini"))
    assert all("smm-mini" in registry.benchmark_entry(n).suites for n in list_benchmarks(suite="smm-mini"))
    assert "smm-mini-ps" not in list_benchmarks(suite="smm-mini")  # a surrogate twin is not an exact member
    register_benchmark("toy-a", lambda: None, suites=("toys", "toys"))
    register_benchmark("toy-b", lambda: None, suites="toys")
    assert list_benchmarks(suite="toys") == ["toy-a", "toy-b"]
    assert registry.benchmark_entry("toy-a").suites == ("toys",)
    assert {"smm-mini", "toys"} <= set(registry.list_suites())
    with pytest.raises(registry.UnknownSuiteError, match=r"suite = 'no-such' .*known suites: .*smm-mini.*toys"):
        list_benchmarks(suite="no-such")
    with pytest.raises(ValueError, match="suites contains 'a:b'"):
        register_benchmark("toy-c", lambda: None, suites=("a:b",))


def test_plugin_entry_carries_its_suites(scratch_registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    (tmp_path / "suite_plugin_smm.py").write_text(
        "from smm_plugins.registry import BenchmarkEntry\n"
        "ENTRY = BenchmarkEntry('x', 'suite_plugin_smm:make', kind='true', suites=('plugin-suite',))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = importlib.metadata.EntryPoint("plugged", "suite_plugin_smm:ENTRY", registry.BENCHMARK_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: {"plugged": ep})
    registry._register_plugins()
    assert list_benchmarks(suite="plugin-suite") == ["plugged"]
    assert registry.benchmark_entry("plugged").kind == "true"
    sys.modules.pop("suite_plugin_smm", None)


@pytest.mark.parametrize("name", list_benchmarks(suite="smm-mini"))
def test_suite_member_is_an_exact_benchmark_with_the_lab_cost_model(name: str) -> None:
    from smm_plugins.fidelity import fidelity_range

    entry = registry.benchmark_entry(name)
    assert entry.kind == "true" and entry.eval_seconds is not None and entry.eval_seconds > 0
    bench = load_benchmark(name)
    floor, full = fidelity_range(int(bench.n_problems_full["train_acc"]))
    x = bench.space.default_vector()
    assert 0 < bench.cost(x, n_problems=floor) < bench.cost(x)  # the default: a real merge's seconds
    lab = load_benchmark(name, cost_model="lab")
    assert lab.cost(x) == pytest.approx(entry.eval_seconds) and lab.evaluate(x) == bench.evaluate(x)
