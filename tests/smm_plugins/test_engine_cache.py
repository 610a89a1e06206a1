"""The per-user cache of compiled ensembles: same predictions, never a stale or foreign entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from smm_plugins import engine_cache
from smm_plugins.datadir import sha256_file
from smm_plugins.engine import TreeEnsemble
from smm_plugins.install import install
from smm_plugins.model_files import OFFICIAL_FILES, ModelFileError
from smm_plugins.surrogate import SurrogateBenchmark


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(engine_cache.CACHE_ENV, str(folder))
    return folder


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the compilations of model text from now on."""
    calls: list[int] = []
    original = TreeEnsemble.from_model_strings.__func__  # type: ignore[attr-defined]

    def counted(cls: type, strings: list[str], **kw: object) -> TreeEnsemble:
        calls.append(len(strings))
        return original(cls, strings, **kw)

    monkeypatch.setattr(TreeEnsemble, "from_model_strings", classmethod(counted))
    return calls


def _X(n: int = 200) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1, (n, 64))


def test_second_load_comes_from_the_cache_bit_identical(
    cache: Path, ps_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = SurrogateBenchmark(ps_dir)
    expected = {o: first.evaluate(_X(), o) for o in first.objectives}
    assert len(list(cache.glob("*.npz"))) == len(first.objectives)
    calls = _compiles(monkeypatch)
    again = SurrogateBenchmark(ps_dir)
    for o in again.objectives:
        np.testing.assert_array_equal(again.evaluate(_X(), o), expected[o])
    assert calls == []  # nothing parsed or compiled


def test_off_writes_nothing_and_compiles(tmp_path: Path, ps_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # where the default folder would be
    monkeypatch.setenv(engine_cache.CACHE_ENV, "off")
    assert engine_cache.cache_dir() is None
    calls = _compiles(monkeypatch)
    SurrogateBenchmark(ps_dir).evaluate(_X(), "train_acc")
    SurrogateBenchmark(ps_dir).evaluate(_X(), "train_acc")
    assert len(calls) == 2
    assert not (tmp_path / "xdg").exists()


def test_default_folder_is_the_per_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(engine_cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert engine_cache.cache_dir() == tmp_path / "xdg" / "smm-bench" / "engine"


def test_damaged_entry_is_compiled_again_and_replaced(
    cache: Path, ps_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = SurrogateBenchmark(ps_dir).evaluate(_X(), "train_acc")
    digest = sha256_file(ps_dir / OFFICIAL_FILES["train_acc"])
    (entry,) = cache.glob(f"{digest}-*.npz")
    entry.write_bytes(entry.read_bytes()[:1000])  # truncated, as by a full disk
    calls = _compiles(monkeypatch)
    np.testing.assert_array_equal(SurrogateBenchmark(ps_dir).evaluate(_X(), "train_acc"), expected)
    assert len(calls) == 1
    assert TreeEnsemble.load(entry).n_trees > 0  # rewritten whole


def test_a_changed_model_file_is_not_served_the_old_entry(cache: Path, ps_dir: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    shutil.copytree(ps_dir, mine)
    before = SurrogateBenchmark(mine).evaluate(_X(), "train_acc")
    # Swap in the other objective's models: the same shapes, other trees.
    shutil.copy(ps_dir / OFFICIAL_FILES["test_acc"], mine / OFFICIAL_FILES["train_acc"])
    after = SurrogateBenchmark(mine).evaluate(_X(), "train_acc")
    np.testing.assert_array_equal(after, SurrogateBenchmark(ps_dir).evaluate(_X(), "test_acc"))
    assert not np.array_equal(before, after)


def _edit_in_place(f: Path) -> None:
    # One character of the first tree's values changed: same size (the manifest's size check passes).
    raw = f.read_bytes()
    i = raw.index(b"leaf_value=") + len(b"leaf_value=")
    f.write_bytes(raw[:i] + (b"2" if raw[i : i + 1] != b"2" else b"3") + raw[i + 1 :])


def test_installed_file_changed_since_install_is_refused_even_if_its_bytes_are_cached(
    cache: Path, data_dir: Path, ps_dir: Path, tmp_path: Path
) -> None:
    install(ps_dir)
    target = data_dir / "smm-bench-ps"
    changed = tmp_path / "changed"
    shutil.copytree(ps_dir, changed)
    _edit_in_place(changed / OFFICIAL_FILES["train_acc"])
    SurrogateBenchmark(changed).evaluate(_X(), "train_acc")  # the changed bytes are now in the cache
    shutil.copy(changed / OFFICIAL_FILES["train_acc"], target / OFFICIAL_FILES["train_acc"])
    with pytest.raises(ModelFileError, match="has changed since it was installed"):
        SurrogateBenchmark(target).evaluate(_X(), "train_acc")


def test_least_recently_used_entries_are_removed(cache: Path, ps_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_cache, "MAX_ENTRIES", 1)
    bench = SurrogateBenchmark(ps_dir)
    bench.evaluate(_X(), "train_acc")
    bench.evaluate(_X(), "test_acc")
    (kept,) = cache.glob("*.npz")
    assert kept.name.startswith(sha256_file(ps_dir / OFFICIAL_FILES["test_acc"]))


def test_unwritable_cache_still_loads(tmp_path: Path, ps_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(engine_cache.CACHE_ENV, str(blocker / "cache"))
    assert 0 <= SurrogateBenchmark(ps_dir).evaluate(np.full(64, 0.5)) <= 1
