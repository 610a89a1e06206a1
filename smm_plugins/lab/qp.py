"""Merging as a convex quadratic programme over residual updates (arXiv 2605.29101): the QP merge reference.

The merge weights ``w_k,l`` in [0, 1] (source ``k``, block ``l``; PS layout, model-major) minimise, block by
block, a squared-output calibration error. For block ``l`` and every source ``m``, the merged block's two
linear maps are applied to source ``m``'s own activations at that block on ``m``'s calibration inputs and
compared with source ``m``'s own outputs of those maps:

* map 1, ``z = rms(h) @ W1 + b1`` on ``u = rms(h_m,l)`` (``h_m,l``: m's residual stream entering block l);
* map 2, ``y = a @ W2 + b2`` on ``a = relu(u @ W1_m + b1_m)`` (m's own inner activations).

With ``W = W_base + sum_k w_k,l * tau_k,l`` (``tau_k = theta_k - theta_base``, the residual updates) each
merged output is ``base output + sum_k w_k,l * (tau_k's output)`` and source m's output is ``base output
+ tau_m's output``, so the error is ``|| sum_k w_k,l * D_k - t_m ||^2`` with ``D_k = u @ tau_W1_k + tau_b1_k``
(and likewise for map 2): linear in ``w``. Each block is one small bounded least-squares problem (rows:
every calibration point of every source, every output unit of both maps; one column per source), solved
exactly by :func:`scipy.optimize.lsq_linear` with bounds [0, 1]. A source that left block ``l`` unchanged
(``tau_k,l = 0``) gets weight 0 there: any weight gives the same block.

Calibration inputs are each source's own kind of input, drawn with seeds apart from the target splits
(:data:`LAB_PS_CALIBRATION`, :func:`task_calibration`). The shipped results for every PS benchmark of
the suite ``smm-mini`` (and ``smm-mini-ps``, the surrogate twin of ``smm-mini-ps-true``) are
:data:`QP_FILE`; :func:`qp_references` hands them to :meth:`smm_plugins.Benchmark.reference_configs`
(through the entry-point group ``smm_plugins.references``, or a suite task's ``benchmark_references``).
Regenerate them with ``python -m smm_plugins.lab.qp`` (docs/qp-merge.md).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from smm_plugins.lab.network import apply_block, rms_norm
from smm_plugins.lab.tasks import MATH_TASK, N_TASKS, LabTasks

__all__ = [
    "QP_LABEL",
    "QP_FILE",
    "LAB_PS_CALIBRATION",
    "CalibrationSet",
    "MergeableNet",
    "block_inputs",
    "qp_merge_weights",
    "draw_calibration",
    "qp_record",
    "compute_lab_qp",
    "task_calibration",
    "compute_task_qp",
    "load_qp_file",
    "write_qp_records",
    "qp_references",
]

logger = logging.getLogger(__name__)

#: Label of the QP merge among the reference configurations (reports, truth check).
QP_LABEL = "QP merge"
#: The shipped QP weights of every PS task of the suite (``smm-mini-ps`` shares ``smm-mini-ps-true``'s), with recipes.
QP_FILE: Path = Path(__file__).resolve().parent.parent / "data" / "lab" / "qp_ps.json"
#: A residual update whose largest entry is at most this (absolute) counts as unchanged.
_UNCHANGED = 0.0


class MergeableNet(Protocol):
    """What the QP needs of a network: stacked block parameters (depth = ``w1.shape[0]``) and its embedding."""

    @property
    def w1(self) -> np.ndarray: ...
    @property
    def b1(self) -> np.ndarray: ...
    @property
    def w2(self) -> np.ndarray: ...
    @property
    def b2(self) -> np.ndarray: ...
    def embed(self, X: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class CalibrationSet:
    """Calibration inputs of one source model: ``n`` inputs, plain or rotated, of one task or random tasks.

    ``task``: a task id (0..N_TASKS-1) or ``-1`` for a task flag drawn uniformly per input. ``seed``: the
    :meth:`~smm_plugins.lab.tasks.LabTasks.sample` stream (the target splits use 901 and 902, training
    100-300; calibration seeds must differ from the split seeds).
    """

    model: str
    rotated: bool
    task: int
    n: int
    seed: int


#: The present task's calibration: A (the language expert) on rotated inputs with random task flags,
#: B (the math expert) on plain math inputs; 2,000 each, seeds apart from training and the target splits.
LAB_PS_CALIBRATION: tuple[CalibrationSet, ...] = (
    CalibrationSet("A", rotated=True, task=-1, n=2000, seed=1001),
    CalibrationSet("B", rotated=False, task=MATH_TASK, n=2000, seed=1002),
)
#: Seeds of the target splits (lab/tasks.py ``target_splits``): a calibration set must not use them.
_SPLIT_SEEDS = (901, 902)


def block_inputs(net: MergeableNet, X: np.ndarray) -> np.ndarray:
    """``net``'s residual stream entering each block on inputs ``X`` (n, D_IN): (L, n, WIDTH) float32."""
    h = net.embed(X)
    out = np.empty((net.w1.shape[0],) + h.shape, dtype=np.float32)
    for layer in range(net.w1.shape[0]):
        out[layer] = h
        h = apply_block(h, net.w1[layer], net.b1[layer][None], net.w2[layer], net.b2[layer][None])
    return out


def qp_merge_weights(
    base: MergeableNet, sources: Sequence[MergeableNet], calibration: Sequence[np.ndarray]
) -> np.ndarray:
    """QP merge weights in [0, 1], shape (K * L,), model-major (all of source 0's L blocks, then source 1's, ...).

    ``sources``: the K fine-tuned models; ``calibration[m]``: source m's calibration inputs (n_m, D_IN).
    Depth L is ``base.w1.shape[0]``. Block by block, the weights minimise the summed squared error of the
    merged block's two linear maps against each source's own outputs on its own activations (module doc).
    """
    if len(sources) == 0 or len(sources) != len(calibration):
        raise ValueError(
            f"sources and calibration must be non-empty and of equal length; got {len(sources)} and {len(calibration)}"
        )
    depth = base.w1.shape[0]
    for k, net in enumerate(sources):
        if net.w1.shape != base.w1.shape:
            raise ValueError(f"sources[{k}].w1 has shape {net.w1.shape}; the base's is {base.w1.shape}")
    taus = [{key: getattr(net, key) - getattr(base, key) for key in ("w1", "b1", "w2", "b2")} for net in sources]
    # Each source's activations on its own calibration inputs, entering every block.
    streams = [block_inputs(net, np.asarray(X, dtype=np.float32)) for net, X in zip(sources, calibration, strict=True)]
    weights = np.zeros((len(sources), depth))
    for layer in range(depth):
        weights[:, layer] = _solve_block(sources, taus, streams, layer)
    return weights.reshape(-1)


def _solve_block(
    sources: Sequence[MergeableNet], taus: Sequence[dict[str, np.ndarray]], streams: Sequence[np.ndarray], layer: int
) -> np.ndarray:
    """Weights of block ``layer`` (K,): bounded least squares over the stacked map outputs of every source."""
    from scipy.optimize import lsq_linear

    changed = [k for k, t in enumerate(taus) if any(np.abs(v[layer]).max() > _UNCHANGED for v in t.values())]
    out = np.zeros(len(taus))
    if not changed:
        return out
    columns: list[list[np.ndarray]] = [[] for _ in changed]
    targets: list[np.ndarray] = []
    for m, net in enumerate(sources):
        u = rms_norm(streams[m][layer]).astype(np.float64)
        a = np.maximum(u @ net.w1[layer] + net.b1[layer], 0.0)  # source m's own inner activations
        for j, k in enumerate(changed):
            columns[j].append(_update_outputs(taus[k], layer, u, a))
        targets.append(_update_outputs(taus[m], layer, u, a))
    design = np.stack([np.concatenate(c) for c in columns], axis=1)
    result = lsq_linear(design, np.concatenate(targets), bounds=(0.0, 1.0), method="bvls", tol=1e-12)
    out[changed] = np.clip(result.x, 0.0, 1.0)
    return out


def _update_outputs(tau: dict[str, np.ndarray], layer: int, u: np.ndarray, a: np.ndarray) -> np.ndarray:
    """What one residual update adds to both maps' outputs at ``layer`` (map 1 on ``u``, map 2 on ``a``), flat."""
    return np.concatenate(
        [(u @ tau["w1"][layer] + tau["b1"][layer]).ravel(), (a @ tau["w2"][layer] + tau["b2"][layer]).ravel()]
    )


def draw_calibration(tasks: LabTasks, recipe: Sequence[CalibrationSet] = LAB_PS_CALIBRATION) -> list[np.ndarray]:
    """The calibration inputs of each set of ``recipe`` (n, D_IN) float32, drawn with the sets' own seeds."""
    out = []
    for s in recipe:
        if s.seed in _SPLIT_SEEDS:
            raise ValueError(f"calibration seed = {s.seed} is a target split's; allowed: any other integer")
        if not -1 <= s.task < N_TASKS:
            raise ValueError(f"calibration task = {s.task}; allowed: -1 (random) or 0..{N_TASKS - 1}")
        task: int | np.ndarray = s.task
        if s.task == -1:  # a stream of its own, apart from the content's
            task = np.random.default_rng([tasks.spec.seed, s.seed, 1]).integers(0, N_TASKS, size=s.n)
        out.append(tasks.sample(s.n, task, rotated=s.rotated, seed=s.seed)[0])
    return out


def qp_record(
    base: MergeableNet,
    sources: Mapping[str, MergeableNet],
    tasks: LabTasks,
    recipe: Sequence[CalibrationSet],
    names: Sequence[str],
    benchmarks: Sequence[str],
    weights_path: str | Path,
) -> dict[str, Any]:
    """The QP merge of one task as a shippable record (one entry of :data:`QP_FILE`'s ``"merges"``).

    ``sources``: the source models by name, in the PS layout's order, one :class:`CalibrationSet` each in
    ``recipe`` (same order); ``tasks``: the task's data (the calibration inputs' source); ``names``: the PS
    space's parameter names; ``benchmarks``: the names that get the reference (the exact benchmark and its
    surrogate twins); ``weights_path``: the source weights' file (its SHA-256 is recorded). ``seconds``: wall
    time of drawing the inputs and solving.
    """
    if [s.model for s in recipe] != list(sources):
        raise ValueError(f"recipe models = {[s.model for s in recipe]}; allowed: the sources in order, {list(sources)}")
    t0 = time.perf_counter()
    w = qp_merge_weights(base, list(sources.values()), draw_calibration(tasks, recipe))
    seconds = time.perf_counter() - t0
    if len(names) != w.size:
        raise ValueError(f"names has {len(names)} entries; the merge has {w.size} weights (sources x blocks)")
    return {
        "label": QP_LABEL,
        "method": "convex QP over residual updates (arXiv 2605.29101), per block, scipy lsq_linear bvls, bounds [0, 1]",
        "benchmarks": list(benchmarks),
        "calibration": [asdict(s) for s in recipe],
        "task_seed": tasks.spec.seed,
        "sources_sha256": hashlib.sha256(Path(weights_path).read_bytes()).hexdigest(),
        "seconds": round(seconds, 3),
        "config": dict(zip(names, (float(v) for v in w), strict=True)),
    }


def compute_lab_qp(
    weights: str | Path | None = None, recipe: Sequence[CalibrationSet] = LAB_PS_CALIBRATION
) -> dict[str, Any]:
    """The QP record (:func:`qp_record`) of the present lab task: sources A, B of ``weights`` (default committed)."""
    from smm_plugins.lab.objectives import DEFAULT_WEIGHTS, load_lab, ps_space

    path = Path(weights) if weights is not None else DEFAULT_WEIGHTS
    lab = load_lab(path)
    space = ps_space()
    return qp_record(
        lab.base, {"A": lab.a, "B": lab.b}, LabTasks(), recipe, space.names, [space.name, "smm-mini-ps"], path
    )


def task_calibration(n_sources: int) -> tuple[CalibrationSet, ...]:
    """Calibration of a suite task's PS sources: :data:`LAB_PS_CALIBRATION`, then C (a second skill expert)."""
    extra = (CalibrationSet("C", rotated=False, task=MATH_TASK, n=2000, seed=1003),)
    if not 2 <= n_sources <= 2 + len(extra):
        raise ValueError(f"n_sources = {n_sources}; allowed: 2..{2 + len(extra)}")
    return (LAB_PS_CALIBRATION + extra)[:n_sources]


def compute_task_qp(task: str) -> dict[str, Any]:
    """The QP record of a task of the suite ``smm-mini`` (by name, e.g. ``"logic-far-32"``), packaged weights.

    The calibration inputs come from the task's own data (its skill's teacher, its language), the skill
    expert(s) on the task's skill (slot ``MATH_TASK``); ``math-far-32`` is :func:`compute_lab_qp`.
    """
    from smm_plugins.lab.objectives import load_lab
    from smm_plugins.lab.suite import get_task

    t = get_task(task)
    if t.legacy:
        return compute_lab_qp()
    lab = load_lab(t.weights_path())
    recipe = task_calibration(len(lab.sources))
    sources = dict(zip((s.model for s in recipe), lab.sources, strict=True))
    space = t.space("ps")
    return qp_record(lab.base, sources, LabTasks(t.spec), recipe, space.names, [space.name], t.weights_path())


@functools.lru_cache(maxsize=4)
def load_qp_file(path: str | Path = QP_FILE) -> dict[str, Any]:
    """The shipped QP records, ``{"merges": [record, ...]}``; raises ``FileNotFoundError`` naming the path."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"QP merge file {str(p)!r} not found; regenerate it with: python -m smm_plugins.lab.qp")
    return dict(json.loads(p.read_text()))


def write_qp_records(path: str | Path, records: Sequence[Mapping[str, Any]]) -> None:
    """Write ``records`` into the file ``path`` atomically, replacing those for the same benchmarks, keeping others."""
    from smm_plugins._io import atomic_write_text

    p = Path(path)
    new = {r["benchmarks"][0]: dict(r) for r in records}
    kept = json.loads(p.read_text())["merges"] if p.is_file() else []
    merges = [r for r in kept if r["benchmarks"][0] not in new] + list(new.values())
    atomic_write_text(p, json.dumps({"merges": merges}, indent=1) + "\n")
    load_qp_file.cache_clear()


def qp_references(bench: Any) -> dict[str, Mapping[str, float]]:
    """The QP merge of ``bench`` as ``{QP_LABEL: {name: weight}}``, from the shipped :data:`QP_FILE`.

    The provider of the entry-point group ``smm_plugins.references`` (for ``smm-mini-ps-true`` and
    ``smm-mini-ps``); a lab benchmark class may also return it from ``benchmark_references()``. Raises
    ``ValueError`` if the file has no merge for ``bench.name``.
    """
    merges = load_qp_file()["merges"]
    for record in merges:
        if bench.name in record["benchmarks"]:
            return {record["label"]: record["config"]}
    names = [n for r in merges for n in r["benchmarks"]]
    raise ValueError(f"benchmark {bench.name!r} has no QP merge in {QP_FILE.name}; allowed: {', '.join(names)}")


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m smm_plugins.lab.qp [--task NAME ...] [--out FILE]``: compute QP merges and write them (JSON).

    Default: every task of the suite ``smm-mini``. The file's records of other benchmarks are kept.
    """
    from smm_plugins.lab.suite import task_names

    parser = argparse.ArgumentParser(prog="python -m smm_plugins.lab.qp", description=__doc__.split("\n")[0])
    parser.add_argument("--task", action="append", choices=task_names(), help="a suite task (repeatable; default all)")
    parser.add_argument("--out", default=str(QP_FILE), help="output JSON (default: the shipped file)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records = [compute_task_qp(task) for task in args.task or task_names()]
    write_qp_records(args.out, records)
    for record in records:
        logger.info("QP merge of %s written to %s (%.2f s)", record["benchmarks"][0], args.out, record["seconds"])


if __name__ == "__main__":
    main()
