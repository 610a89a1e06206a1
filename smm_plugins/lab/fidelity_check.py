"""Check the subset-noise model against the lab's exact multi-fidelity objectives.

For uniformly random configurations and each level of the fidelity ladder, the rank correlation between
the low-fidelity and the full-fidelity values (Spearman and Kendall, :mod:`scipy.stats`, averaged over
subset seeds) of

* the truth: ``smm-mini-*-true`` evaluated exactly on the seed's subset of split points;
* the noise model applied to the truth's own full-split accuracies (the model alone, no surrogate error);
* the embedded surrogate ``smm-mini-*`` with the noise model (what a user of the surrogate gets).

``smm-bench lab fidelity-check`` prints the table (docs/fidelity.md quotes it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import stats

from smm_plugins.fidelity import SubsetNoiseModel, fidelity_ladder
from smm_plugins.registry import load_benchmark

__all__ = ["FidelityRow", "fidelity_check", "format_rows"]

logger = logging.getLogger(__name__)

_COLUMNS = ("truth", "model on truth", "surrogate + model")


@dataclass(frozen=True)
class FidelityRow:
    """One ladder level: mean rank correlations with full fidelity and mean absolute gaps, per source."""

    kind: str
    n_problems: int
    kendall: dict[str, float]
    spearman: dict[str, float]
    gap: dict[str, float]


def fidelity_check(
    kind: str,
    *,
    n_configs: int = 300,
    n_seeds: int = 5,
    seed: int = 0,
    noise_model: SubsetNoiseModel | None = None,
) -> list[FidelityRow]:
    """Rows of the check for ``kind`` (``"ps"`` or ``"dfs"``), one per ladder level below full.

    ``n_configs`` uniform random configurations drawn with ``seed``; subsets ``0 .. n_seeds-1``;
    ``noise_model`` overrides the calibrated default of the space (e.g. to calibrate it).
    """
    if kind not in ("ps", "dfs"):
        raise ValueError(f"kind = {kind!r} is not allowed; allowed: 'ps' or 'dfs'")
    for name, value in (("n_configs", n_configs), ("n_seeds", n_seeds)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ValueError(f"{name} = {value!r} is not allowed; allowed: an integer >= 2")
    truth, surrogate = load_benchmark(f"smm-mini-{kind}-true"), load_benchmark(f"smm-mini-{kind}")
    model = noise_model or SubsetNoiseModel.for_space(surrogate.space)
    n_full = int(truth.n_problems_full["train_acc"])
    X = truth.space.validate(truth.space.sample(n_configs, rng=seed))
    full = {
        "truth": np.asarray(truth.evaluate(X)),
        "surrogate + model": np.asarray(surrogate.evaluate(X)),
    }
    full["model on truth"] = full["truth"]
    rows = []
    for n in fidelity_ladder(n_full)[:-1]:
        per: dict[str, list[tuple[float, float, float]]] = {c: [] for c in _COLUMNS}
        for s in range(n_seeds):
            low = {
                "truth": np.asarray(truth.evaluate(X, n_problems=n, seed=s)),
                "model on truth": model.subset_accuracy(full["truth"], X, "train_acc", n, n_full, s),
                "surrogate + model": model.subset_accuracy(full["surrogate + model"], X, "train_acc", n, n_full, s),
            }
            for c in _COLUMNS:
                per[c].append(_scores(low[c], full[c]))
        means = {c: np.mean(per[c], axis=0) for c in _COLUMNS}
        rows.append(
            FidelityRow(
                kind=kind,
                n_problems=n,
                kendall={c: float(m[0]) for c, m in means.items()},
                spearman={c: float(m[1]) for c, m in means.items()},
                gap={c: float(m[2]) for c, m in means.items()},
            )
        )
        logger.info("%s n=%d: Kendall %s", kind, n, rows[-1].kendall)
    return rows


def _scores(low: np.ndarray, full: np.ndarray) -> tuple[float, float, float]:
    return (
        float(stats.kendalltau(low, full).statistic),
        float(stats.spearmanr(low, full).statistic),
        float(np.mean(np.abs(low - full))),
    )


def format_rows(rows: list[FidelityRow]) -> str:
    """A Markdown table: per benchmark and level, Kendall tau / Spearman rho and mean |low - full|."""
    head = "| benchmark | n_problems | " + " | ".join(f"{c}: tau / rho" for c in _COLUMNS)
    head += " | mean abs gap: truth / model |"
    lines = [head, "|" + "---|" * (3 + len(_COLUMNS))]
    for r in rows:
        cells = [f"{r.kendall[c]:.3f} / {r.spearman[c]:.3f}" for c in _COLUMNS]
        gap = f"{r.gap['truth']:.4f} / {r.gap['model on truth']:.4f}"
        lines.append(f"| smm-mini-{r.kind} | {r.n_problems} | " + " | ".join(cells) + f" | {gap} |")
    return "\n".join(lines)
