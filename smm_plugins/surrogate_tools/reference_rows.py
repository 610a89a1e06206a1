"""Training rows at and around the reference configurations (each source alone, base, default).

Every report draws the reference configurations (:func:`smm_plugins.references.reference_configs`) as
grey lines, so a surrogate must be right there; but uniform rows never come near a corner of a 64-dim
box (source alone, base), and optimiser rows only pass by. :func:`reference_neighbourhood` samples
each reference and a neighbourhood that reaches from it out to where ordinary rows lie:

* half the rows are **Gaussian perturbations**: continuous values moved by ``N(0, s²)`` with ``s`` drawn
  log-uniformly in ``[min_scale, max_scale]`` (fractions of each range) per row and clipped to the bounds
  (at a corner about half of the values stay exactly on it); each categorical takes a uniformly drawn
  choice with a probability drawn uniformly in ``[0, max_flip]`` per row;
* half are **steps toward uniform configurations**: ``x + t (u - x)`` with ``u`` uniform over the space
  and ``t`` uniform in ``[0, max_step]`` (a categorical takes ``u``'s code with probability ``t``).

The first row of each reference is the reference itself. A reference equal to an earlier one (DFS's
``default`` is ``A alone``) gets no rows of its own. :func:`reference_rows` labels them with a truth.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from smm_plugins.benchmark import Benchmark
from smm_plugins.references import reference_configs
from smm_plugins.space import SearchSpace

__all__ = ["reference_neighbourhood", "reference_rows"]


def reference_neighbourhood(
    space: SearchSpace,
    n_per_reference: int = 500,
    *,
    seed: int = 0,
    min_scale: float = 0.01,
    max_scale: float = 0.3,
    max_step: float = 0.5,
    max_flip: float = 0.1,
) -> tuple[np.ndarray, list[str]]:
    """``n_per_reference`` configurations at and around each distinct reference of ``space``.

    Returns ``(X, labels)``: ``X`` (rows, dim) in model-input order and inside the bounds, ``labels[i]``
    the reference row ``i`` belongs to. Scales are fractions of each parameter's range:
    ``0 < min_scale <= max_scale``, ``max_step`` and ``max_flip`` in ``[0, 1]``. Same seed, same rows.
    """
    _check_options(n_per_reference, min_scale, max_scale, max_step, max_flip)
    rng = np.random.default_rng(seed)
    blocks: list[np.ndarray] = []
    labels: list[str] = []
    seen: list[np.ndarray] = []
    for label, ref in reference_configs(space).items():
        if any(np.array_equal(ref, s) for s in seen):
            continue
        seen.append(ref)
        n_gauss = (n_per_reference - 1) // 2
        n_step = n_per_reference - 1 - n_gauss
        block = np.vstack(
            [
                ref[None, :],
                _gaussian(space, ref, n_gauss, rng, min_scale, max_scale, max_flip),
                _steps(space, ref, n_step, rng, max_step),
            ]
        )
        blocks.append(block)
        labels += [label] * len(block)
    X = np.vstack(blocks)
    space.validate(X, argname="reference neighbourhood")
    return X, labels


def reference_rows(
    truth: str | os.PathLike[str] | Benchmark,
    n_per_reference: int = 500,
    *,
    seed: int = 0,
    **neighbourhood: float,
) -> Any:
    """:func:`reference_neighbourhood` of ``truth``'s space labelled with ``truth``'s accuracies.

    Returns a pandas DataFrame: one column per parameter, one per objective of ``truth`` (accuracies in
    [0, 1]), ``strategy`` = ``"reference"`` and ``run_id`` = the reference's label; ready for
    ``build_surrogate(..., extra_data=rows)`` (``smm-bench build-surrogate --augment``).
    ``neighbourhood``: ``min_scale``, ``max_scale``, ``max_step``, ``max_flip``.
    """
    import pandas as pd

    from smm_plugins.registry import load_benchmark

    bench = truth if isinstance(truth, Benchmark) else load_benchmark(os.fspath(truth))
    X, labels = reference_neighbourhood(bench.space, n_per_reference, seed=seed, **neighbourhood)
    cols: dict[str, Any] = {}
    for i, p in enumerate(bench.space.parameters):
        cols[p.name] = X[:, i].astype(np.int64) if p.kind == "categorical" else X[:, i]
    for obj in bench.objectives:
        cols[obj] = np.asarray(bench.evaluate(X, obj), dtype=np.float64)
    cols["strategy"] = ["reference"] * len(X)
    cols["run_id"] = labels
    return pd.DataFrame(cols)


def _check_options(n: int, min_scale: float, max_scale: float, max_step: float, max_flip: float) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n_per_reference = {n!r} is not allowed; allowed: an integer >= 1")
    if not (np.isfinite(min_scale) and np.isfinite(max_scale) and 0 < min_scale <= max_scale):
        raise ValueError(
            f"min_scale = {min_scale!r}, max_scale = {max_scale!r} are not allowed; allowed: 0 < min_scale <= max_scale"
        )
    for name, v in (("max_step", max_step), ("max_flip", max_flip)):
        if not (np.isfinite(v) and 0 <= v <= 1):
            raise ValueError(f"{name} = {v!r} is not allowed; allowed: a number in [0, 1]")


def _gaussian(
    space: SearchSpace,
    ref: np.ndarray,
    n: int,
    rng: np.random.Generator,
    min_scale: float,
    max_scale: float,
    max_flip: float,
) -> np.ndarray:
    # One scale per row (log-uniform): rows from "on the point" to "well away", so trees see the slope.
    scale = np.exp(rng.uniform(np.log(min_scale), np.log(max_scale), size=(n, 1)))
    width = space.upper - space.lower
    X = np.clip(ref + scale * width * rng.standard_normal((n, space.dim)), space.lower, space.upper)
    cat = space.is_categorical
    if cat.any():
        flip = rng.uniform(size=(n, int(cat.sum()))) < rng.uniform(0.0, max_flip, size=(n, 1))
        X[:, cat] = np.where(flip, space.sample(n, rng)[:, cat], ref[cat])
    return X


def _steps(space: SearchSpace, ref: np.ndarray, n: int, rng: np.random.Generator, max_step: float) -> np.ndarray:
    t = rng.uniform(0.0, max_step, size=(n, 1))
    U = space.sample(n, rng)
    X = ref + t * (U - ref)
    cat = space.is_categorical
    if cat.any():
        take = rng.uniform(size=(n, int(cat.sum()))) < t
        X[:, cat] = np.where(take, U[:, cat], ref[cat])
    return np.clip(X, space.lower, space.upper)
