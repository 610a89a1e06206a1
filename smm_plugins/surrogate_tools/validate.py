"""Behavioural fidelity: do optimisers behave on a surrogate as they do on the true objective?

For each optimiser (random search, TPE, CMA-ES with margin and a (1+1)-ES with the 1/5th success rule: the
optimisers ``random``, ``tpe``, ``cmaes-margin`` and ``es`` of ``smm-bench compare``) and each seed, one run of
``n_evals`` evaluations maximises ``train_acc`` on the true objective and, with the same seed, on the
surrogate. The report compares

* final best values (median / mean / IQR over seeds) on both, and the test accuracy of the returned
  configuration (the generalisation an SMM-Bench user reports); for surrogate runs also the true
  accuracy of the configuration they return;
* the ranking of the optimisers (by mean final value): Kendall tau between truth and surrogate, plus
  tau over all (optimiser, seed) final values;
* the surrogate's error on the configurations the optimisers visited on the truth (re-predicted),
  i.e. fidelity where optimisers actually go, not only on the training distribution;
* picks on the truth: each surrogate run's returned configuration re-scored on the truth, and the
  over-estimation ``surrogate value - true value`` (median and max per optimiser and over all runs):
  what an optimiser developed on the surrogate is rewarded for that is not real;

and draws best-so-far trajectories (median and inter-quartile band over seeds).

Parameter encoding per sampler: random search and TPE see categorical parameters as categorical;
CMA-ES (which only handles numbers) sees a categorical with contiguous integer codes as an integer
(CMA-ES with margin), otherwise Optuna falls back to independent sampling for it.

The runs live in :mod:`~smm_plugins.surrogate_tools.runs`, the measures in
:mod:`~smm_plugins.surrogate_tools.metrics`; this module puts them together into the report.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from smm_plugins._io import atomic_write_text
from smm_plugins.benchmark import Benchmark
from smm_plugins.surrogate_tools.metrics import (
    final_entry,
    on_truth_trajectories,
    picks_on_truth,
    ranking_agreement,
    ranking_uncertainty,
    step_agreement,
    uniform_fidelity,
)
from smm_plugins.surrogate_tools.plots import can_plot, trajectories_png
from smm_plugins.surrogate_tools.runs import (
    OPTIMIZERS,
    RunTrace,
    ValidateConfig,
    exploit_rows,
    resolve_pair,
    run_all,
    run_optimizer,
)

__all__ = [
    "OPTIMIZERS",
    "uniform_fidelity",
    "exploit_rows",
    "ranking_uncertainty",
    "step_agreement",
    "RunTrace",
    "ValidateConfig",
    "run_optimizer",
    "validate_benchmark",
]

logger = logging.getLogger(__name__)


def _table(final: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str]) -> str:
    """Markdown table of final values (median [IQR]) per optimiser and side, and the true value of the picks."""
    opts = list(next(iter(final.values())).keys())
    extra = "surrogate" in final and "true_value_of_best" in final["surrogate"][opts[0]]
    head = [f"{labels[s]} final (median [IQR])" for s in final]
    if extra:
        head.append(f"true value of {labels['surrogate']}'s pick")
    lines = ["| optimiser | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for opt in opts:
        cells = []
        keys = [(side, "best_train_acc") for side in final] + ([("surrogate", "true_value_of_best")] if extra else [])
        for side, key in keys:
            s = final[side][opt][key]
            cells.append(f"{s['median']:.4f} [{s['q25']:.4f}, {s['q75']:.4f}]")
        lines.append(f"| {opt} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the whole validation ---------------------------------------------------------------------------


def validate_benchmark(
    surrogate: str | os.PathLike[str] | Benchmark,
    truth: str | os.PathLike[str] | Benchmark | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    config: ValidateConfig | None = None,
    *,
    progress: bool = False,
    on_run: Callable[[str, str, int], None] | None = None,
) -> dict[str, Any]:
    """Run every optimiser x seed on the truth and on the surrogate; return (and write) the report.

    ``surrogate``: a registered name (e.g. ``"smm-mini-ps"``), a surrogate directory, or a Benchmark.
    ``truth``: the true objective; default ``surrogate + "-true"`` (names only).
    ``out_dir``: if given, writes ``validate_report.json``, ``trajectories.png`` and
    ``final_values.md`` there. Values are accuracies in [0, 1].
    """
    cfg = config or ValidateConfig()
    benches, labels = resolve_pair(surrogate, truth)
    seeds = list(range(cfg.seed0, cfg.seed0 + cfg.n_seeds))
    traces = run_all(benches, cfg, seeds, progress, on_run)
    final = {side: {o: final_entry(side, runs, benches, cfg) for o, runs in by.items()} for side, by in traces.items()}
    report: dict[str, Any] = {
        "truth": labels["truth"],
        "surrogate": labels["surrogate"],
        "objective": cfg.objective,
        "n_seeds": cfg.n_seeds,
        "seeds": seeds,
        "n_evals": cfg.n_evals,
        "optimizers": list(cfg.optimizers),
        "final": final,
        **ranking_agreement(final, cfg.optimizers),
        **on_truth_trajectories(traces["truth"], benches, cfg),
        "uniform": uniform_fidelity(benches["surrogate"], benches["truth"], cfg.n_uniform, seed=cfg.seed0)
        if cfg.n_uniform
        else None,
        "picks_on_truth": picks_on_truth(final["surrogate"], cfg.optimizers),
        "encoding": (
            "random/TPE: categoricals as categorical; CMA-ES: contiguous integer categoricals as integers (with margin)"
        ),
    }
    curves = {
        side: {o: np.array([r.best_so_far for r in runs]) for o, runs in by_opt.items()}
        for side, by_opt in traces.items()
    }
    report["trajectories_median"] = {
        side: {o: np.median(m, axis=0)[[k - 1 for k in _checkpoints(cfg.n_evals)]].tolist() for o, m in by.items()}
        for side, by in curves.items()
    }
    report["trajectory_checkpoints"] = _checkpoints(cfg.n_evals)
    report["table_markdown"] = _table(final, labels)
    if out_dir is not None:
        _write_report(Path(out_dir), report, curves, labels)
    return report


def _write_report(
    out: Path,
    report: Mapping[str, Any],
    curves: Mapping[str, Mapping[str, np.ndarray]],
    labels: Mapping[str, str],
) -> None:
    """``validate_report.json``, ``final_values.md`` and ``trajectories.png`` in ``out`` (each written atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "validate_report.json", json.dumps(report, indent=1, sort_keys=True))
    atomic_write_text(out / "final_values.md", report["table_markdown"] + "\n")
    title = (
        f"{report['n_seeds']} seeds x {report['n_evals']} evaluations; "
        f"ranking tau = {report['ranking_kendall_tau']:.2f}"
    )
    if can_plot(out / "trajectories.png"):
        trajectories_png(out / "trajectories.png", curves, labels, title)
    logger.info("wrote %s", out)


def _checkpoints(n: int) -> list[int]:
    """Evaluation counts at which the report keeps the median trajectory."""
    pts = sorted({k for k in (1, 10, 25, 50, 100, 200, 300, 400, 500, 1000) if k <= n} | {n})
    return pts
