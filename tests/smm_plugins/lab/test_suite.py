"""SMM-Mini: every member by name, determinism of new depths and of three sources, the manifest, the legacy pair."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from smm_plugins import registry
from smm_plugins.lab import manifest
from smm_plugins.lab.objectives import _CHUNK, load_lab
from smm_plugins.lab.suite import (
    SUITE,
    TASKS,
    SuiteDFSBenchmark,
    SuitePSBenchmark,
    get_task,
    suite_entries,
    task_benchmark,
)

#: Counts of correct answers (of 1,000; of 200 on the subset) of the committed pair on 12 uniform
#: configurations (seed 2026), recorded before the suite generalised the lab: they must never change.
LEGACY = {
    "smm-mini-ps-true": (
        [438, 531, 586, 490, 551, 562, 470, 500, 558, 393, 466, 401],
        [443, 515, 543, 476, 508, 558, 462, 481, 558, 385, 467, 382],
        [82, 99, 109, 92, 107, 109],
    ),
    "smm-mini-dfs-true": (
        [362, 324, 279, 394, 226, 581, 431, 219, 405, 444, 402, 147],
        [348, 300, 236, 394, 243, 586, 428, 209, 415, 415, 398, 184],
        [71, 62, 44, 76, 42, 107],
    ),
}


def test_the_legacy_pair_keeps_its_values():
    for name, (train, test, subset) in LEGACY.items():
        bench = registry.load_benchmark(name)
        X = bench.space.sample(12, np.random.default_rng(2026))
        acc = bench.evaluate_all(X)
        assert np.round(acc["train_acc"] * 1000).astype(int).tolist() == train
        assert np.round(acc["test_acc"] * 1000).astype(int).tolist() == test
        assert np.round(bench.evaluate(X[:6], n_problems=200, seed=4) * 200).astype(int).tolist() == subset


def test_every_member_is_registered_loads_and_evaluates_by_name():
    names = registry.list_benchmarks(suite=SUITE)
    members = {t.benchmark_name(k) for t in TASKS for k in ("ps", "dfs")}
    assert len(TASKS) >= 8 and len(members) == 2 * len(TASKS)
    assert members <= set(names)
    assert set(suite_entries()) == members
    for name in sorted(members):
        entry = registry.benchmark_entry(name)
        assert entry.kind == "true" and entry.eval_seconds and 0 < entry.eval_seconds < 0.05
        bench = registry.load_benchmark(name)
        assert bench.name == name
        x = bench.space.sample(1, np.random.default_rng(0))
        value = bench.evaluate(x)[0]
        assert 0.0 <= value <= 1.0 and value * 1000 == round(value * 1000)


def test_spaces_follow_depth_and_sources():
    for t in TASKS:
        ps, dfs = task_benchmark(t, "ps"), task_benchmark(t, "dfs")
        assert ps.space.dim == t.n_sources * t.n_blocks and dfs.space.dim == 3 * t.n_blocks - 1
        assert ps.lab.n_blocks == t.n_blocks and len(ps.lab.sources) == t.n_sources
    three = task_benchmark("math-far-32-3src", "ps")
    assert three.space.dim == 96 and three.space.names[64] == "w_C_00"
    # The three-source task's DFS benchmark merges A and B only, and says so wherever it is listed.
    assert (
        "C math experts (DFS merges A and B)"
        in registry.benchmark_entry("smm-mini-math-far-32-3src-dfs-true").description
    )
    assert "merges A and B" in task_benchmark("math-far-32-3src", "dfs").meta["task"]
    assert "merges" not in registry.benchmark_entry("smm-mini-math-far-32-3src-ps-true").description
    assert {t.n_blocks for t in TASKS} >= {16, 32} and {t.skill for t in TASKS} == {"math", "logic", "code"}
    assert {t.language for t in TASKS} == {"far", "near"}


def test_unknown_task_and_kind_name_the_allowed_values():
    with pytest.raises(ValueError, match="math-near-32"):
        get_task("math-near-33")
    with pytest.raises(ValueError, match="'ps' or 'dfs'"):
        task_benchmark("math-far-16", "op")


@pytest.mark.parametrize(
    ("task", "kind"), [("math-far-16", "ps"), ("logic-near-16", "dfs"), ("math-far-32-3src", "ps")]
)
def test_values_do_not_depend_on_batch_order_or_chunks(task, kind):
    bench = task_benchmark(task, kind)
    X = bench.space.sample(_CHUNK + 5, np.random.default_rng(7))  # spans two internal chunks
    together = bench.evaluate_all(X)
    order = np.random.default_rng(1).permutation(len(X))
    shuffled = bench.evaluate_all(X[order])
    for obj in together:
        assert np.array_equal(shuffled[obj], together[obj][order])
    for i in (0, _CHUNK - 1, _CHUNK + 4):
        assert bench.evaluate(X[i]) == together["train_acc"][i]
    sub = bench.evaluate(X[:4], n_problems=100, seed=3)
    assert np.array_equal(sub, bench.evaluate(X[:4][::-1], n_problems=100, seed=3)[::-1])


def test_packaged_files_match_the_manifest():
    files = manifest.read_manifest()["files"]
    expected = {t.weights_path().relative_to(manifest.LAB_DATA_DIR).as_posix() for t in TASKS}
    assert expected <= set(files)
    for rel in expected:
        record = files[rel]
        assert manifest.file_sha256(manifest.LAB_DATA_DIR / rel) == record["sha256"]
        assert record["recipe"]["seed"] >= 0 and record["torch"] and record["numpy"]
    total = sum(p.stat().st_size for p in (manifest.LAB_DATA_DIR.parent).rglob("*") if p.is_file())
    assert total <= 40e6  # all package data together


def test_a_file_whose_hash_differs_from_the_manifest_is_refused(tmp_path, monkeypatch):
    data = tmp_path / "lab"
    (data / "suite").mkdir(parents=True)
    src = get_task("math-far-16").weights_path()
    shutil.copy(src, data / "suite" / src.name)
    record = {"sha256": "0" * 64, "bytes": src.stat().st_size}
    (data / "manifest.json").write_text(json.dumps({"format": 1, "files": {f"suite/{src.name}": record}}))
    monkeypatch.setattr(manifest, "LAB_DATA_DIR", data)
    monkeypatch.setattr(manifest, "MANIFEST_PATH", data / "manifest.json")
    manifest._verified.cache_clear()
    with pytest.raises(manifest.LabWeightsError, match=r"SHA-256 .*train-suite"):
        load_lab(data / "suite" / src.name)
    # The same file outside the package's data folder is a user's own weights: not checked.
    shutil.copy(src, tmp_path / "mine.npz")
    assert load_lab(tmp_path / "mine.npz").n_blocks == 16
    manifest._verified.cache_clear()


def test_task_benchmarks_accept_own_weights_and_check_them():
    bench = SuitePSBenchmark("code-far-16")
    assert bench.meta["task"].startswith("code skill") and bench.eval_seconds > 0
    with pytest.raises(ValueError, match="96 weights"):
        SuitePSBenchmark("math-far-32-3src", get_task("math-near-32").weights_path())
    with pytest.raises(ValueError, match="32 blocks need 95"):
        SuiteDFSBenchmark("math-far-16", get_task("math-near-32").weights_path())


def test_relatedness_is_a_symmetric_rank_correlation():
    from smm_plugins.lab.relatedness import format_relatedness, relatedness

    groups = relatedness(["math-far-16", "code-far-16", "logic-near-16"], n_configs=40, seed=0)
    assert [g.label for g in groups] == ["PS, 16 blocks, 2 sources", "DFS, 16 blocks"]
    for g in groups:
        assert g.spearman.shape == (3, 3) and np.allclose(g.spearman, g.spearman.T)
        assert np.allclose(np.diag(g.spearman), 1.0) and np.all(np.abs(g.spearman) <= 1)
    assert "| code-far-16 |" in format_relatedness(groups)


def test_cli_table_and_relatedness_take_tasks(capsys, tmp_path):
    pytest.importorskip("cmaes")
    from smm_plugins.cli import main

    assert main(["lab", "table", "--task", "code-far-16", "--kind", "ps", "--n-random", "16", "--cma-evals", "8"]) == 0
    out = capsys.readouterr().out
    assert "smm-mini-code-far-16-ps-true" in out and "A alone (w_A = 1, w_B = 0)" in out
    args = ["lab", "relatedness", "--task", "math-far-16", "--task", "code-far-16", "--n-configs", "24", "--json"]
    assert main(args) == 0
    groups = json.loads(capsys.readouterr().out)
    assert [g["space"] for g in groups] == ["PS, 16 blocks, 2 sources", "DFS, 16 blocks"]
    assert groups[0]["tasks"] == ["math-far-16", "code-far-16"] and groups[0]["spearman"][0][0] == 1.0
    assert main(["lab", "table", "--task", "nope", "--kind", "ps"]) != 0


@pytest.mark.parametrize("task", [t.name for t in TASKS])
def test_every_task_is_a_merging_problem(task):
    """A's blocks before the matched one, then B's: beats every source alone on both splits, PS and DFS."""
    t = get_task(task)
    L, m, n = t.n_blocks, t.recipe.match_block, t.n_sources
    early = (np.arange(L) < m).astype(float)
    ps, dfs = task_benchmark(t, "ps"), task_benchmark(t, "dfs")
    sources = np.kron(np.eye(n), np.ones(L))  # source i alone: its L weights 1, the others 0
    handmade = np.r_[early, 1.0 - early, np.zeros(L * (n - 2))]
    acc = ps.evaluate_all(np.vstack([sources, handmade]))
    path = dfs.evaluate_all(np.r_[np.where(early > 0, 0, 1), np.ones(2 * L - 1)][None])
    for obj in ("train_acc", "test_acc"):
        best_source = acc[obj][:n].max()
        assert acc[obj][n] >= best_source + 0.05, (obj, acc[obj])
        # The same network in both spaces (PS rebuilds A's blocks as base + (A - base): float32 rounding).
        assert abs(path[obj][0] - acc[obj][n]) <= 0.002
