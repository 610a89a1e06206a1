"""Training of the lab's base network and its two source models (torch; extra ``lab``).

Only ``smm-bench lab train-sources`` imports this module. Evaluating merges needs NumPy only.

Recipe (the construction the project's measurements found to give merge synergy; see docs/merge-lab.md):

* **base**: trained from scratch on the three general tasks (plain inputs, ``n_general`` examples each)
  and only a little on math (``n_math_base`` examples): weak on math, so merging matters.
* **A, the "language" expert**: the base fine-tuned (blocks only) so that its residual stream after
  block ``match_block`` on a *rotated* input matches the base's on the same input unrotated (random task
  flags, no labels): a general translator. Its change lives in blocks ``0 .. match_block - 1``.
* **B, the "math" expert**: the base fine-tuned (blocks only) on labels of the math task, plain inputs.
* **C** (three-source tasks only): a second math expert, trained on other examples, in later blocks only,
  with its own learning rate and its own random generator (A and B do not change when C is added).

Embedding and head stay at the base's values in A and B (as every merge keeps them).
Determinism: fixed seeds, one thread, ``torch.use_deterministic_algorithms(True)``; the committed
weights are the reference (a rerun on other hardware may differ in the last bits).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from smm_plugins._deps import require
from smm_plugins.lab.network import EPS, INNER, N_BLOCKS, WIDTH, LabNet
from smm_plugins.lab.recipe import TrainRecipe
from smm_plugins.lab.tasks import D_IN, GENERAL_TASKS, MATH_TASK, N_CLASSES, N_TASKS, LabTasks, TaskSpec

__all__ = ["TrainRecipe", "train_sources", "build_lab", "train_task", "record_legacy"]

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import torch
else:
    # Fail at import with the one-line fix if torch is missing (this module is imported on demand only).
    torch = require("torch", "lab", who="smm-bench lab train-sources")


class _TorchNet(torch.nn.Module):
    """Torch twin of :class:`~smm_plugins.lab.network.LabNet` (same forward formula)."""

    def __init__(self, gen: Any, n_blocks: int = N_BLOCKS) -> None:
        super().__init__()
        self.n_blocks = n_blocks

        def normal(*shape: int, std: float) -> Any:
            return torch.nn.Parameter(torch.randn(*shape, generator=gen) * std)

        self.emb_w = normal(D_IN, WIDTH, std=1.0 / math.sqrt(D_IN))
        self.emb_b = torch.nn.Parameter(torch.zeros(WIDTH))
        self.w1 = normal(n_blocks, WIDTH, INNER, std=1.0 / math.sqrt(WIDTH))
        self.b1 = torch.nn.Parameter(torch.zeros(n_blocks, INNER))
        # Small second layer: a deep residual stack starts close to the identity.
        self.w2 = normal(n_blocks, INNER, WIDTH, std=1.0 / math.sqrt(INNER * 2 * n_blocks))
        self.b2 = torch.nn.Parameter(torch.zeros(n_blocks, WIDTH))
        self.head_w = normal(WIDTH, N_CLASSES, std=1.0 / math.sqrt(WIDTH))
        self.head_b = torch.nn.Parameter(torch.zeros(N_CLASSES))

    @staticmethod
    def _rms(h: Any) -> Any:
        return h / torch.sqrt(h.square().mean(dim=-1, keepdim=True) + EPS)

    def hidden(self, x: Any, upto: int | None = None) -> Any:
        h = x @ self.emb_w + self.emb_b
        for layer in range(self.n_blocks if upto is None else upto):
            z = torch.relu(self._rms(h) @ self.w1[layer] + self.b1[layer])
            h = h + z @ self.w2[layer] + self.b2[layer]
        return h

    def forward(self, x: Any) -> Any:
        return self._rms(self.hidden(x)) @ self.head_w + self.head_b

    def block_parameters(self) -> list[Any]:
        return [self.w1, self.b1, self.w2, self.b2]

    def to_labnet(self) -> LabNet:
        return LabNet(**{k: v.detach().cpu().numpy().astype(np.float32) for k, v in self.named_parameters()})


def _batches(n: int, batch_size: int, gen: Any) -> list[Any]:
    perm = torch.randperm(n, generator=gen)
    return [perm[i : i + batch_size] for i in range(0, n, batch_size)]


def _fit(
    params: list[Any],
    loss_fn: Callable[[Any], Any],
    n: int,
    epochs: int,
    lr: float,
    batch_size: int,
    gen: Any,
    label: str,
    progress: bool,
) -> None:
    from tqdm.auto import tqdm

    opt = torch.optim.Adam(params, lr=lr)
    steps = epochs * math.ceil(n / batch_size)
    # Linear decay to zero: a stable end point without a tuned schedule.
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / steps))
    with tqdm(total=epochs, desc=f"train {label}", disable=not progress, unit="epoch") as bar:
        for _ in range(epochs):
            total = 0.0
            for idx in _batches(n, batch_size, gen):
                loss = loss_fn(idx)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item() * len(idx)
            bar.set_postfix(loss=f"{total / n:.4f}")
            bar.update()
    logger.info("trained %s: final epoch mean loss %.4f", label, total / n)


def _trainable_copy(net: _TorchNet, gen: Any) -> tuple[_TorchNet, list[Any]]:
    """A copy of ``net`` whose blocks (returned as the second item) are trainable, the rest frozen."""
    twin = _TorchNet(gen, net.n_blocks)
    twin.load_state_dict(net.state_dict())
    params = twin.block_parameters()
    for p in params:
        p.requires_grad_(True)
    return twin, params


def train_sources(
    recipe: TrainRecipe | None = None,
    tasks: LabTasks | None = None,
    *,
    progress: bool = False,
) -> dict[str, LabNet]:
    """Train the base and the sources; returns ``{"base": ..., "A": ..., "B": ...}`` (and ``"C"``), float32.

    Runs on one CPU thread; the committed recipe takes a few minutes.
    """
    recipe = recipe or TrainRecipe()
    tasks = tasks or LabTasks(TaskSpec())
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    # The stages share one generator, so they must run in this order for the same weights.
    base = _train_base(recipe, tasks, gen, progress)
    model_a = _train_translator(base, recipe, tasks, gen, progress)
    model_b = _train_math_expert(base, recipe, tasks, gen, progress)
    nets = {"base": base.to_labnet(), "A": model_a.to_labnet(), "B": model_b.to_labnet()}
    if recipe.n_sources == 3:
        nets["C"] = _train_second_expert(base, recipe, tasks, progress).to_labnet()
    return nets


def _tensor(a: np.ndarray) -> Any:
    return torch.from_numpy(np.ascontiguousarray(a))


def _train_base(recipe: TrainRecipe, tasks: LabTasks, gen: Any, progress: bool) -> _TorchNet:
    """The base: general tasks and a little math on plain inputs; returned frozen."""
    parts = [tasks.sample(recipe.n_general, t, rotated=False, seed=100 + t) for t in GENERAL_TASKS]
    parts.append(tasks.sample(recipe.n_math_base, MATH_TASK, rotated=False, seed=110))
    xb = _tensor(np.concatenate([p[0] for p in parts]))
    yb = _tensor(np.concatenate([p[1] for p in parts]))
    base = _TorchNet(gen, recipe.n_blocks)
    ce = torch.nn.functional.cross_entropy
    _fit(
        list(base.parameters()),
        lambda i: ce(base(xb[i]), yb[i]),
        len(yb),
        recipe.base_epochs,
        recipe.lr,
        recipe.batch_size,
        gen,
        "base",
        progress,
    )
    for p in base.parameters():
        p.requires_grad_(False)
    return base


def _train_translator(base: _TorchNet, recipe: TrainRecipe, tasks: LabTasks, gen: Any, progress: bool) -> _TorchNet:
    """Source A: its blocks learn to map rotated inputs onto the base's residual stream after ``match_block``."""
    rng = np.random.default_rng([tasks.spec.seed, recipe.seed, 200])
    content = rng.standard_normal((recipe.n_translate, tasks.rotation.shape[0]))
    flags = rng.integers(0, N_TASKS, size=recipe.n_translate)
    x_rot = _tensor(tasks.encode(content, flags, rotated=True))
    with torch.no_grad():
        target = base.hidden(_tensor(tasks.encode(content, flags, rotated=False)), recipe.match_block)
        scale = target.square().mean()
    model_a, a_params = _trainable_copy(base, gen)
    _fit(
        a_params,
        lambda i: (model_a.hidden(x_rot[i], recipe.match_block) - target[i]).square().mean() / scale,
        recipe.n_translate,
        recipe.a_epochs,
        recipe.lr,
        recipe.batch_size,
        gen,
        "A (language)",
        progress,
    )
    return model_a


def _train_math_expert(base: _TorchNet, recipe: TrainRecipe, tasks: LabTasks, gen: Any, progress: bool) -> _TorchNet:
    """Source B: the base's blocks fine-tuned on math problems with plain inputs."""
    xm, ym = (_tensor(a) for a in tasks.sample(recipe.n_math_b, MATH_TASK, rotated=False, seed=300))
    model_b, b_params = _trainable_copy(base, gen)
    _fit(
        b_params,
        lambda i: torch.nn.functional.cross_entropy(model_b(xm[i]), ym[i]),
        len(ym),
        recipe.b_epochs,
        recipe.b_lr,
        recipe.batch_size,
        gen,
        "B (math)",
        progress,
    )
    return model_b


def _gradient_mask(mask: Any) -> Callable[[Any], Any]:
    return lambda grad: grad * mask


def _train_second_expert(base: _TorchNet, recipe: TrainRecipe, tasks: LabTasks, progress: bool) -> _TorchNet:
    """Source C: math on other examples, blocks ``c_first_block ..`` only, from a generator of its own."""
    gen = torch.Generator().manual_seed(recipe.seed + 1_000_003)
    xm, ym = (_tensor(a) for a in tasks.sample(recipe.n_math_b, MATH_TASK, rotated=False, seed=recipe.c_data_seed))
    model_c, c_params = _trainable_copy(base, gen)
    keep = (torch.arange(recipe.n_blocks) >= recipe.c_first_block).to(torch.float32)
    for p in c_params:
        # Zero gradients of the frozen blocks: Adam leaves a parameter whose gradients are all zero unchanged.
        p.register_hook(_gradient_mask(keep.reshape((-1,) + (1,) * (p.ndim - 1))))
    _fit(
        c_params,
        lambda i: torch.nn.functional.cross_entropy(model_c(xm[i]), ym[i]),
        len(ym),
        recipe.c_epochs,
        recipe.c_lr,
        recipe.batch_size,
        gen,
        "C (second math expert)",
        progress,
    )
    return model_c


def build_lab(
    recipe: TrainRecipe | None = None,
    spec: TaskSpec | None = None,
    *,
    progress: bool = False,
) -> Any:
    """Train the sources and bundle them with the target splits as a ``LabModels`` (ready to save)."""
    from smm_plugins.lab.objectives import LabModels

    recipe = recipe or TrainRecipe()
    spec = spec or TaskSpec()
    tasks = LabTasks(spec)
    nets = train_sources(recipe, tasks, progress=progress)
    meta = {
        "format": 1,
        "recipe": recipe.to_dict(),
        "tasks": asdict(spec),
        "torch": metadata.version("torch"),
        "numpy": metadata.version("numpy"),
    }
    extra = (nets["C"],) if "C" in nets else ()
    return LabModels(
        base=nets["base"], a=nets["A"], b=nets["B"], splits=tasks.target_splits(), metadata=meta, extra=extra
    )


def train_task(
    task: Any,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    recipe: TrainRecipe | None = None,
    progress: bool = False,
) -> Path:
    """Train one suite task's sources, write ``<out_dir>/<task>.npz`` and its manifest record; returns the path.

    ``out_dir`` defaults to the package's ``data/lab/suite`` (manifest ``data/lab/manifest.json``); another
    folder gets its own ``manifest.json``. ``recipe`` replaces the task's (tests train tiny recipes).
    """
    from smm_plugins.lab.manifest import LAB_DATA_DIR, MANIFEST_PATH, manifest_record, update_manifest
    from smm_plugins.lab.objectives import save_lab
    from smm_plugins.lab.suite import SUITE_DIR, get_task

    t = get_task(task)
    if t.legacy:
        raise ValueError(
            f"task {t.name!r} is the committed lab pair (sources.npz): train it with smm-bench lab train-sources"
        )
    out = Path(out_dir) if out_dir is not None else SUITE_DIR
    out.mkdir(parents=True, exist_ok=True)
    manifest, root = (MANIFEST_PATH, LAB_DATA_DIR) if out_dir is None else (out / "manifest.json", out)
    models = build_lab(recipe or t.recipe, t.spec, progress=progress)
    models = dataclasses.replace(models, metadata={**models.metadata, "suite_task": t.name})
    path = out / f"{t.name}.npz"
    save_lab(path, models)
    update_manifest({path.relative_to(root).as_posix(): manifest_record(path, models.metadata)}, manifest)
    logger.info("wrote %s (%.2f MB)", path, path.stat().st_size / 1e6)
    return path


def record_legacy() -> None:
    """Record the committed ``sources.npz`` (never retrained by the suite) in the package's manifest."""
    from smm_plugins.lab.manifest import LAB_DATA_DIR, MANIFEST_PATH, manifest_record, update_manifest
    from smm_plugins.lab.objectives import DEFAULT_WEIGHTS, load_lab

    meta = {**load_lab(DEFAULT_WEIGHTS).metadata, "suite_task": "math-far-32"}
    rel = DEFAULT_WEIGHTS.relative_to(LAB_DATA_DIR).as_posix()
    update_manifest({rel: manifest_record(DEFAULT_WEIGHTS, meta)}, MANIFEST_PATH)
