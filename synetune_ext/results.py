"""The incumbent at full fidelity: what a multi-fidelity run found, judged by the paper's exact accuracy.

Syne Tune's ``ExperimentResult.best_config()`` takes the best row of the results frame, and with a fidelity
ladder most rows are low-fidelity measurements on a few dozen problems: their maximum is a noisy outlier,
not the best configuration. :func:`best_full_fidelity` considers only results at the full split.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from smm_plugins.benchmark import Benchmark
from synetune_ext.blackbox import FIDELITY, SMMBlackbox, registered_blackbox

__all__ = ["best_full_fidelity", "FULL_FIDELITY_ATTR"]

#: Key in ``DataFrame.attrs`` of :func:`~synetune_ext.run_simulated_tuning`'s results: the full problem count.
FULL_FIDELITY_ATTR = "smm_full_fidelity"


def _full_fidelity(results: pd.DataFrame, experiment: Any, benchmark: str | Benchmark | SMMBlackbox | None) -> int:
    if benchmark is not None:
        if isinstance(benchmark, str):  # a Syne Tune blackbox name first, then the core's names and directories
            benchmark = registered_blackbox(benchmark) or benchmark
        if isinstance(benchmark, SMMBlackbox):
            return benchmark.full_fidelity
        return SMMBlackbox(benchmark).full_fidelity
    if FULL_FIDELITY_ATTR in results.attrs:
        return int(results.attrs[FULL_FIDELITY_ATTR])
    blackbox = getattr(getattr(getattr(experiment, "tuner", None), "trial_backend", None), "blackbox", None)
    if isinstance(blackbox, SMMBlackbox):
        return blackbox.full_fidelity
    raise ValueError(
        "benchmark = None, and the results do not say which benchmark they are for; pass benchmark= "
        "(a registered name such as 'smm-mini-ps', a Benchmark or an SMMBlackbox)"
    )


def best_full_fidelity(
    results: Any,
    benchmark: str | Benchmark | SMMBlackbox | None = None,
    *,
    metric: str | None = None,
    mode: str | None = None,
) -> dict[str, Any]:
    """The best reported result at the full split (``n_problems`` = full), as ``ExperimentResult.best_config()``.

    ``results``: a results ``DataFrame`` (:func:`~synetune_ext.run_simulated_tuning`'s,
    ``SimulatorCallback.dataframe()``, ``ExperimentResult.results``) or a Syne Tune ``ExperimentResult``.
    ``benchmark`` names the benchmark when the results do not (a plain frame from your own ``Tuner``).
    ``metric``/``mode`` (``"max"``/``"min"``) default to the experiment's, else ``train_acc``/``"max"``.
    Returns the row as a dict without ``st_*`` fields: ``trial_id``, the objectives, ``n_problems`` and
    ``config_<name>`` per parameter. Raises ``ValueError`` if no trial reached the full split.
    """
    if isinstance(results, pd.DataFrame):
        experiment, frame = None, results
    elif isinstance(getattr(results, "results", None), pd.DataFrame):
        experiment, frame = results, results.results
    else:
        raise ValueError(
            f"results = a {type(results).__name__}; allowed: a pandas DataFrame or an ExperimentResult with results"
        )
    if experiment is not None and experiment.metadata:  # what the experiment's scheduler optimised
        metric, mode = metric or experiment.metric_names()[0], mode or experiment.metric_mode()
    metric, mode = metric or "train_acc", mode or "max"
    if mode not in ("max", "min"):
        raise ValueError(f"mode = {mode!r}; allowed: 'max' or 'min'")
    for column in (metric, FIDELITY):
        if column not in frame.columns:
            raise ValueError(f"results have no column {column!r}; columns: {sorted(map(str, frame.columns))[:12]}")
    full = _full_fidelity(frame, experiment, benchmark)
    at_full = frame[frame[FIDELITY] == full]
    if at_full.empty:
        levels = sorted(int(v) for v in frame[FIDELITY].unique())
        raise ValueError(
            f"no result at the full fidelity {FIDELITY} = {full} (levels reported: {levels}); "
            "run more trials or a larger budget so that some trial is evaluated in full"
        )
    best = at_full[metric].idxmax() if mode == "max" else at_full[metric].idxmin()
    row = at_full.loc[[best]].to_dict(orient="records")[0]  # per-column types, as Python scalars
    return {k: v for k, v in row.items() if not str(k).startswith("st_")}
