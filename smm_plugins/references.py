"""Reference configurations: what a user gets without optimising.

An optimiser is only worth running if it beats the obvious choices. For a merge these are the source
models themselves, the unmerged base model, and the search space's default configuration.
:func:`reference_configs` returns them for any SMM-Bench space (official, lab or user-built from the
same layout), as vectors in model-input order ready for :meth:`smm_plugins.Benchmark.evaluate`.

**PS** (layer-wise task arithmetic, ``theta_l = theta_base,l + sum_m w_m,l * tau_m,l``, weights in [0, 1]):

* ``A alone``: model A's weights 1, every other model's 0, i.e. ``theta = theta_A`` exactly (source model A);
* ``B alone``: the same for model B (and ``C alone``, ... for spaces of more models);
* ``base``: every weight 0, i.e. the base model the sources were fine-tuned from;
* ``default``: the space's default (0.5 everywhere: the uniform merge, half of each task vector).

**DFS** (per-layer choice 0 = A's layer, 1 = B's, 2 = both; then per-hop input scales in [0.4, 1.5]):

* ``A alone``: every layer from A, every scale 1, i.e. model A's own inference path (32 hops);
* ``B alone``: every layer from B, every scale 1 (model B);
* ``default``: the space's default (choices 0, scales 1), which is the same path as ``A alone``.

For the official benchmarks (``smm-bench-ps`` / ``smm-bench-dfs``) A and B are the two 7B source LLMs in
the order of the official ``label.json`` and ``base`` is the model both were fine-tuned from; the values
are the surrogate's predictions at these points. For the lab (``smm-mini-*`` and the exact
``smm-mini-*-true``) A is the "language" model, B the "math" model and ``base`` their common
pre-trained network (docs/merge-lab.md). Spaces of another kind get ``default`` only.

**A benchmark's own references.** Beside the space's, a benchmark may have references of its own, such as
the lab's ``QP merge`` (docs/qp-merge.md): :meth:`smm_plugins.Benchmark.reference_configs` returns the
space's references followed by :meth:`~smm_plugins.Benchmark.benchmark_references`, which by default asks
the plugin registered under the benchmark's name in the entry-point group ``smm_plugins.references``
(:data:`REFERENCES_GROUP`; :func:`plugin_references`). Reports and the truth check use that method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from smm_plugins.space import SearchSpace

__all__ = ["REFERENCES_GROUP", "plugin_references", "reference_configs"]

#: Entry-point group of benchmark-specific references: ``benchmark-name = "package.module:function"``, the
#: function taking the loaded benchmark and returning ``{label: {parameter: value}}`` (or label -> vector).
REFERENCES_GROUP = "smm_plugins.references"

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def reference_configs(space: SearchSpace) -> dict[str, np.ndarray]:
    """Named reference configurations of ``space`` (``{label: vector}``, model-input order, in space bounds).

    The PS / DFS references are given when ``space.metadata["kind"]`` is ``"ps"`` or ``"dfs"`` (every
    space built by :func:`~smm_plugins.space.ps_space` / :func:`~smm_plugins.space.dfs_space`); every
    space gets ``default``. Labels may map to equal vectors (DFS ``default`` is ``A alone``).
    """
    kind = space.metadata.get("kind")
    refs: dict[str, np.ndarray] = {}
    if kind == "ps":
        refs.update(_ps_references(space))
    elif kind == "dfs":
        refs.update(_dfs_references(space))
    refs["default"] = space.default_vector()
    for label, x in refs.items():
        space.validate(x[None, :], argname=f"reference {label!r}")
    return refs


def _ps_references(space: SearchSpace) -> dict[str, np.ndarray]:
    # Model-major layout: all of model A's layer weights, then model B's, ...
    n_models = int(space.metadata.get("n_models", 2))
    n_layers = space.dim // n_models
    refs = {}
    for m in range(n_models):
        x = np.zeros(space.dim)
        x[m * n_layers : (m + 1) * n_layers] = 1.0
        refs[f"{_LETTERS[m]} alone"] = x
    refs["base"] = np.zeros(space.dim)
    return refs


def _dfs_references(space: SearchSpace) -> dict[str, np.ndarray]:
    refs = {}
    for code, label in ((0, "A alone"), (1, "B alone")):
        x = np.ones(space.dim)
        x[space.is_categorical] = code
        refs[label] = x
    return refs


def plugin_references(bench: Any) -> dict[str, np.ndarray]:
    """References of ``bench`` from the plugin registered under ``bench.name`` in :data:`REFERENCES_GROUP`.

    ``{label: vector}`` in model-input order; ``{}`` if no plugin is registered for that name. A plugin that
    fails (cannot be imported, raises, or gives a configuration the space rejects) is logged naming it
    (:func:`smm_plugins.plugins.plugin_error`) and its references are left out: the others stay usable.
    """
    from smm_plugins.plugins import entry_points, plugin_error

    ep = entry_points(REFERENCES_GROUP).get(str(getattr(bench, "name", "")))
    if ep is None:
        return {}
    try:
        configs = ep.load()(bench)
        refs = {}
        for label, cfg in configs.items():
            x = bench.space.to_vector(cfg) if isinstance(cfg, Mapping) else np.asarray(cfg, dtype=np.float64)
            refs[str(label)] = bench.space.validate(x[None, :], argname=f"reference {label!r}")[0]
    except Exception as exc:  # noqa: BLE001 - one failing plugin never breaks the benchmark's other references
        plugin_error("reference", ep, exc)  # logged (a warning; info for a missing import)
        return {}
    return refs
