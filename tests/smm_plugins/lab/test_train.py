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
