"""The QP merge (arXiv 2605.29101): per-block bounded least squares over residual updates, and its shipped weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from smm_plugins import list_benchmarks, load_benchmark
from smm_plugins.lab.network import rms_norm
from smm_plugins.lab.objectives import DEFAULT_WEIGHTS, load_lab
from smm_plugins.lab.qp import (
    LAB_PS_CALIBRATION,
    QP_LABEL,
    CalibrationSet,
    compute_lab_qp,
    compute_task_qp,
    draw_calibration,
    load_qp_file,
    qp_merge_weights,
    qp_record,
    qp_references,
    task_calibration,
    write_qp_records,
)
from smm_plugins.lab.suite import get_task, task_benchmark
from smm_plugins.lab.tasks import MATH_TASK, N_CONTENT, LabTasks


@dataclass(frozen=True)
class _Net:
    """A small network of any depth with the lab's block formula (the QP needs only blocks and embedding)."""

    emb_w: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def embed(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float32) @ self.emb_w).astype(np.float32)


def _toy(
    depth: int, n_sources: int, seed: int = 0, width: int = 6, inner: int = 5, d_in: int = 4
) -> tuple[_Net, list[_Net]]:
    rng = np.random.default_rng(seed)

    def f32(*shape: int, s: float = 1.0) -> np.ndarray:
        return (s * rng.standard_normal(shape)).astype(np.float32)

    base = _Net(
        f32(d_in, width), f32(depth, width, inner), f32(depth, inner), f32(depth, inner, width), f32(depth, width)
    )
    sources = [
        _Net(base.emb_w, *(p + f32(*p.shape, s=0.3) for p in (base.w1, base.b1, base.w2, base.b2)))
        for _ in range(n_sources)
    ]
    return base, sources


def _calibration_error(base: _Net, sources: list[_Net], calib: list[np.ndarray], layer: int, w: np.ndarray) -> float:
    # Written out directly: merged maps (weights built explicitly) on each source's own activations vs its own maps.
    merged = {k: getattr(base, k)[layer] + sum(wk * (getattr(s, k)[layer] - getattr(base, k)[layer])
                                                 for wk, s in zip(w, sources, strict=True))
              for k in ("w1", "b1", "w2", "b2")}  # fmt: skip
    err = 0.0
    for src, X in zip(sources, calib, strict=True):
        h = src.embed(X)
        for j in range(layer):
            h = h + np.maximum(rms_norm(h) @ src.w1[j] + src.b1[j], 0) @ src.w2[j] + src.b2[j]
        u = rms_norm(h).astype(np.float64)
        a = np.maximum(u @ src.w1[layer] + src.b1[layer], 0)
        err += float(np.sum((u @ merged["w1"] + merged["b1"] - (u @ src.w1[layer] + src.b1[layer])) ** 2))
        err += float(np.sum((a @ merged["w2"] + merged["b2"] - (a @ src.w2[layer] + src.b2[layer])) ** 2))
    return err


def test_weights_minimise_the_calibration_error_for_any_depth_and_source_count() -> None:
    from scipy.optimize import minimize

    depth, n_sources = 3, 3
    base, sources = _toy(depth, n_sources)
    rng = np.random.default_rng(1)
    calib = [rng.standard_normal((40, 4)).astype(np.float32) for _ in sources]
    w = qp_merge_weights(base, sources, calib)
    assert w.shape == (n_sources * depth,) and np.all((w >= 0) & (w <= 1))
    per_block = w.reshape(n_sources, depth)  # model-major
    for layer in range(depth):
        ours = _calibration_error(base, sources, calib, layer, per_block[:, layer])
        best = minimize(
            lambda v, layer=layer: _calibration_error(base, sources, calib, layer, v),
            np.full(n_sources, 0.5),
            method="L-BFGS-B",
            bounds=[(0, 1)] * n_sources,
        )
        assert ours <= best.fun * (1 + 1e-6) + 1e-9, layer
        np.testing.assert_allclose(per_block[:, layer], best.x, atol=2e-3)


def test_one_source_is_its_own_merge() -> None:
    # With one source, weight 1 reproduces it exactly: zero error, the unique optimum.
    lab = load_lab()
    X = draw_calibration(LabTasks(), [CalibrationSet("B", rotated=False, task=MATH_TASK, n=200, seed=1002)])
    np.testing.assert_allclose(qp_merge_weights(lab.base, [lab.b], X), 1.0, atol=1e-6)


def test_a_block_no_source_changed_gets_weight_zero() -> None:
    base, sources = _toy(depth=2, n_sources=2)
    unchanged = _Net(base.emb_w, *(np.stack([getattr(sources[1], k)[0], getattr(base, k)[1]])
                                   for k in ("w1", "b1", "w2", "b2")))  # fmt: skip
    rng = np.random.default_rng(2)
    w = qp_merge_weights(base, [sources[0], unchanged], [rng.standard_normal((30, 4)), rng.standard_normal((30, 4))])
    assert w[3] == 0.0 and w[1] > 0.0  # source 1 left block 1 alone; source 0 changed it


def test_bad_input_is_refused_with_the_values() -> None:
    base, sources = _toy(depth=2, n_sources=2)
    with pytest.raises(ValueError, match="equal length; got 2 and 1"):
        qp_merge_weights(base, sources, [np.zeros((3, 4))])
    deeper, _ = _toy(depth=3, n_sources=0)
    with pytest.raises(ValueError, match=r"sources\[0\]\.w1 has shape \(3, 6, 5\)"):
        qp_merge_weights(base, [deeper], [np.zeros((3, 4))])
    with pytest.raises(ValueError, match="calibration seed = 901 is a target split's"):
        draw_calibration(LabTasks(), [CalibrationSet("A", rotated=True, task=-1, n=5, seed=901)])
    with pytest.raises(ValueError, match="calibration task = 7"):
        draw_calibration(LabTasks(), [CalibrationSet("A", rotated=True, task=7, n=5, seed=5)])


def test_calibration_inputs_are_each_sources_own_kind_and_apart_from_the_target_splits() -> None:
    tasks = LabTasks()
    a, b = draw_calibration(tasks, LAB_PS_CALIBRATION)
    assert a.shape == (2000, 16) and b.shape == (2000, 16)
    assert len(np.unique(a[:, N_CONTENT:].argmax(axis=1))) == 4  # A: random task flags
    assert np.all(b[:, N_CONTENT + MATH_TASK] == 1)  # B: the math task
    # A's inputs are rotated: un-rotating them gives standard-normal content (norms match, B's are plain).
    np.testing.assert_allclose(np.linalg.norm(a[:, :N_CONTENT] @ tasks.rotation, axis=1),
                               np.linalg.norm(a[:, :N_CONTENT], axis=1), rtol=1e-5)  # fmt: skip
    splits = load_lab().splits
    for X in (a, b):
        for split_X, _ in splits.values():
            assert not (X[:, None, :N_CONTENT] == split_X[None, :, :N_CONTENT]).all(axis=2).any()


def _shipped(benchmark: str) -> dict:
    (record,) = [r for r in load_qp_file()["merges"] if r["benchmarks"][0] == benchmark]
    return record


@pytest.mark.parametrize(
    ("benchmark", "compute"),
    [
        ("smm-mini-ps-true", compute_lab_qp),
        ("smm-mini-math-far-16-ps-true", lambda: compute_task_qp("math-far-16")),
        ("smm-mini-math-far-32-3src-ps-true", lambda: compute_task_qp("math-far-32-3src")),
    ],
)
def test_the_shipped_weights_are_what_the_recipe_computes(benchmark: str, compute) -> None:
    shipped = _shipped(benchmark)
    fresh = compute()
    assert shipped["calibration"] == fresh["calibration"] and shipped["sources_sha256"] == fresh["sources_sha256"]
    assert list(shipped["config"]) == list(fresh["config"])
    # bvls is exact up to float rounding (float32 activations; BLAS order may differ across machines).
    np.testing.assert_allclose(list(shipped["config"].values()), list(fresh["config"].values()), atol=1e-6)


@pytest.mark.parametrize("name", ["smm-mini-ps-true", "smm-mini-ps"])
def test_both_benchmarks_of_the_ps_space_offer_the_qp_merge(name: str) -> None:
    bench = load_benchmark(name)
    refs = bench.reference_configs()
    assert list(refs) == ["A alone", "B alone", "base", "default", QP_LABEL]
    np.testing.assert_array_equal(refs[QP_LABEL], bench.space.to_vector(_shipped("smm-mini-ps-true")["config"]))
    assert DEFAULT_WEIGHTS.is_file()
    # It is a merge in between, not a corner or the uniform default: the QP's weights differ by block.
    assert 0.0 <= refs[QP_LABEL].min() and refs[QP_LABEL].max() <= 1.0 and np.ptp(refs[QP_LABEL]) > 0.3


def test_every_ps_member_of_the_suite_has_its_own_qp_merge_and_no_dfs_member_has_one() -> None:
    members = list_benchmarks(suite="smm-mini")
    ps = [n for n in members if "-ps-" in n]
    assert len(ps) == 8 and sorted(r["benchmarks"][0] for r in load_qp_file()["merges"]) == sorted(ps)
    for name in members:
        bench = load_benchmark(name)
        refs = bench.reference_configs()
        assert (QP_LABEL in refs) == (name in ps), name
        if name in ps:
            record = _shipped(name)
            assert list(record["config"]) == bench.space.names
            assert [c["model"] for c in record["calibration"]] == list("ABC")[: bench.space.dim // bench.lab.n_blocks]
    assert task_calibration(3)[2].seed not in {s.seed for s in LAB_PS_CALIBRATION}
    with pytest.raises(ValueError, match="n_sources = 4; allowed: 2..3"):
        task_calibration(4)


def test_a_user_s_own_weights_get_no_shipped_qp_merge(tmp_path) -> None:
    # The shipped merge belongs to the packaged sources; a copy elsewhere stands for a user's own file.
    task = get_task("math-far-16")
    copy = tmp_path / "mine.npz"
    copy.write_bytes(task.weights_path().read_bytes())
    bench = task_benchmark(task, "ps", weights=copy)
    assert QP_LABEL not in bench.reference_configs()
    assert QP_LABEL in task_benchmark(task, "ps").reference_configs()


def test_dfs_benchmarks_have_no_qp_merge() -> None:
    assert QP_LABEL not in load_benchmark("smm-mini-dfs-true").reference_configs()


def test_records_of_other_tasks_are_kept_when_one_is_rewritten(tmp_path) -> None:
    # The file holds one record per task; rewriting the present task's keeps the others (H1's suite tasks).
    base, sources = _toy(depth=2, n_sources=3, d_in=16)  # on the lab's inputs
    tasks = LabTasks()
    recipe = [CalibrationSet(m, rotated=False, task=0, n=20, seed=s) for m, s in (("A", 5), ("B", 6), ("C", 7))]
    names = [f"w_{m}_{i:02d}" for m in "ABC" for i in range(2)]
    nets = dict(zip("ABC", sources, strict=True))
    other = qp_record(base, nets, tasks, recipe, names, ["toy-3src-ps-true"], DEFAULT_WEIGHTS)
    with pytest.raises(ValueError, match=r"recipe models = \['A', 'B', 'C'\]; allowed: the sources in order"):
        qp_record(base, dict(reversed(nets.items())), tasks, recipe, names, ["x"], DEFAULT_WEIGHTS)
    path = tmp_path / "qp.json"
    write_qp_records(path, [other])
    write_qp_records(path, [load_qp_file()["merges"][0]])
    write_qp_records(path, [load_qp_file()["merges"][0]])  # rewriting replaces, never duplicates
    merges = load_qp_file(path)["merges"]
    assert [r["benchmarks"][0] for r in merges] == ["toy-3src-ps-true", "smm-mini-ps-true"]
    assert list(merges[0]["config"]) == names and merges[0]["calibration"][2]["model"] == "C"


def test_a_benchmark_without_a_qp_merge_is_told_which_have_one() -> None:
    with pytest.raises(
        ValueError, match="'smm-mini-dfs-true' has no QP merge in qp_ps.json; allowed: smm-mini-ps-true"
    ):
        qp_references(load_benchmark("smm-mini-dfs-true"))
