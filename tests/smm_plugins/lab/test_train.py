"""Training the sources: the one-line ImportError without torch, and a tiny deterministic run with it."""

from __future__ import annotations

import argparse
import importlib
import sys

import numpy as np
import pytest

from smm_plugins.lab import cli as lab_cli


def test_without_torch_the_error_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # simulates torch not installed
    monkeypatch.delitem(sys.modules, "smm_plugins.lab.train", raising=False)
    with pytest.raises(ImportError) as info:
        importlib.import_module("smm_plugins.lab.train")
    msg = str(info.value)
    assert 'pip install "smm-plugins[lab]"' in msg and "\n" not in msg
    # The evaluation side never needs torch.
    from smm_plugins.lab.objectives import ps_true_benchmark

    assert 0 <= ps_true_benchmark().evaluate(np.full(64, 0.5)) <= 1
    # The CLI entry fails the same way.
    parser = argparse.ArgumentParser()
    lab_cli.add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["lab", "train-sources", "--out", "unused.npz", "--no-progress"])
    with pytest.raises(ImportError, match=r"smm-plugins\[lab\]"):
        args.func(args)


TINY = dict(
    n_general=96,
    n_math_base=16,
    n_math_b=96,
    n_translate=96,
    match_block=3,
    base_epochs=2,
    a_epochs=2,
    b_epochs=2,
    batch_size=64,
)


@pytest.mark.slow
def test_tiny_training_is_deterministic_and_loads_as_a_benchmark(tmp_path):
    torch = pytest.importorskip("torch")
    from smm_plugins.lab.objectives import load_lab, ps_true_benchmark, save_lab
    from smm_plugins.lab.train import TrainRecipe, _TorchNet, build_lab

    recipe = TrainRecipe(**TINY)
    m1 = build_lab(recipe)
    m2 = build_lab(recipe)
    for k in ("w1", "b1", "w2", "b2"):
        assert np.array_equal(getattr(m1.a, k), getattr(m2.a, k))
        assert np.array_equal(getattr(m1.b, k), getattr(m2.b, k))
    # A and B change blocks only; A's change is confined to the blocks before the matched one.
    for k in ("emb_w", "emb_b", "head_w", "head_b"):
        assert np.array_equal(getattr(m1.a, k), getattr(m1.base, k))
        assert np.array_equal(getattr(m1.b, k), getattr(m1.base, k))
    assert not np.array_equal(m1.a.w1[:3], m1.base.w1[:3])
    assert np.array_equal(m1.a.w1[3:], m1.base.w1[3:])
    assert not np.array_equal(m1.b.w1[20], m1.base.w1[20])

    # The NumPy forward pass is the torch model's.
    X = m1.splits["train_acc"][0][:128]
    twin = _TorchNet(torch.Generator().manual_seed(0))
    with torch.no_grad():
        for k, v in twin.named_parameters():
            v.copy_(torch.from_numpy(np.array(getattr(m1.b, k))))
        logits = twin(torch.from_numpy(X)).numpy()
    assert (logits.argmax(1) == m1.b.predict(X)).mean() >= 0.99

    path = tmp_path / "lab.npz"
    save_lab(path, m1)
    loaded = load_lab(path)
    assert loaded.metadata["recipe"]["match_block"] == 3
    assert np.array_equal(loaded.a.w2, m1.a.w2)
    y = ps_true_benchmark(path).evaluate(np.random.default_rng(0).random((3, 64)))
    assert y.shape == (3,) and np.all((y >= 0) & (y <= 1))


@pytest.mark.slow
def test_train_suite_writes_a_16_block_three_source_task_with_its_manifest(tmp_path):
    pytest.importorskip("torch")
    import dataclasses

    from smm_plugins.lab.manifest import file_sha256, read_manifest
    from smm_plugins.lab.suite import SuitePSBenchmark, get_task
    from smm_plugins.lab.train import TrainRecipe, build_lab, train_task

    task = get_task("math-far-32-3src")
    tiny = TrainRecipe(**{**TINY, "n_blocks": 16, "n_sources": 3, "c_first_block": 8, "c_epochs": 2})
    three = dataclasses.replace(task, recipe=tiny)
    path = train_task(three, tmp_path, recipe=tiny)
    record = read_manifest(tmp_path / "manifest.json")["files"][path.name]
    assert record["sha256"] == file_sha256(path) and record["recipe"]["n_sources"] == 3
    assert record["suite_task"] == "math-far-32-3src" and record["task_spec"]["seed"] == 20260

    from smm_plugins.lab.objectives import load_lab

    lab = load_lab(path)
    c = lab.extra[0]
    # C changes only its blocks c_first_block.. ; adding C leaves A and B as a two-source training makes them.
    assert np.array_equal(c.w1[:8], lab.base.w1[:8]) and not np.array_equal(c.w1[8:], lab.base.w1[8:])
    two = build_lab(dataclasses.replace(tiny, n_sources=2), task.spec)
    assert np.array_equal(two.a.w1, lab.a.w1) and np.array_equal(two.b.w2, lab.b.w2)
    bench = SuitePSBenchmark(three, path)
    assert bench.space.dim == 48
    w = np.zeros((2, 48))
    w[1, 32:] = 1.0  # C alone
    y = bench.evaluate(w)
    assert y[0] == pytest.approx((lab.base.predict(lab.splits["train_acc"][0]) == lab.splits["train_acc"][1]).mean())
    assert 0 <= y[1] <= 1


def test_train_suite_checks_task_names_before_torch_and_names_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # simulates torch not installed
    monkeypatch.delitem(sys.modules, "smm_plugins.lab.train", raising=False)
    parser = argparse.ArgumentParser()
    lab_cli.add_subcommands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["lab", "train-suite", "--task", "nope", "--no-progress"])
    with pytest.raises(ValueError, match="allowed: math-far-32, math-near-32"):
        args.func(args)
    args = parser.parse_args(["lab", "train-suite", "--task", "code-far-16", "--out", "unused", "--no-progress"])
    with pytest.raises(ImportError, match=r"smm-plugins\[lab\]"):
        args.func(args)


def test_the_legacy_task_is_not_retrained_by_the_suite():
    pytest.importorskip("torch")
    from smm_plugins.lab.train import train_task

    with pytest.raises(ValueError, match="train-sources"):
        train_task("math-far-32", "unused")
