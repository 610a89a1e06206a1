"""hposuite's results files with every value a query returned (accuracies, simulated seconds), not only the objective.

hposuite 0.1.3 writes one Parquet file per run holding only the problem's objectives and costs: the test
metric and the values the optimiser was not given are dropped, and so is the configuration. A description
whose ``extra[RESULT_VALUES]`` lists value names gets one more column per name, ``result.values.<name>``
(float64, exactly what the benchmark returned), in the files hposuite writes. hposuite's own readers
(``Run.Report.from_df``, resuming a study) ignore the extra columns.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["RESULT_VALUES", "keep_values_in_results", "value_column"]

logger = logging.getLogger(__name__)

#: Key of ``BenchmarkDescription.extra``: the names of the values to keep in the results files.
RESULT_VALUES = "result_values"


def value_column(name: str) -> str:
    """The column of hposuite's results file that holds the value ``name`` of every evaluation."""
    return f"result.values.{name}"


def keep_values_in_results() -> None:
    """Make hposuite's run reports (and so its results files) keep the values a description lists.

    Wraps ``hposuite.run.Run.Report.df`` once; a no-op until hposuite itself has been imported (hposuite
    loads a benchmark, and so calls this, before it writes the run's file) and for descriptions without
    ``extra[RESULT_VALUES]``.
    """
    run_module = sys.modules.get("hposuite.run")
    report = getattr(getattr(run_module, "Run", None), "Report", None)
    if report is None or getattr(report.df, "_keeps_values", False):
        return
    original = report.df

    @functools.wraps(original)
    def df(self: Any, *args: Any, **kwargs: Any) -> Any:
        frame = original(self, *args, **kwargs)
        names = (self.run.benchmark.extra or {}).get(RESULT_VALUES)
        return _with_values(frame, self.results, names) if names else frame

    df._keeps_values = True  # type: ignore[attr-defined]
    report.df = df
    logger.debug("hposuite's run reports keep the values listed in extra[%r]", RESULT_VALUES)


def _with_values(frame: Any, results: Sequence[Any], names: Sequence[str]) -> Any:
    # hposuite builds the frame from `results` in order and only sorts or drops rows: its index is the
    # position of each row's result.
    rows = frame.index.to_numpy()
    for name in names:
        values = [float(r.values.get(name, float("nan"))) for r in results]
        frame[value_column(name)] = [values[i] for i in rows]
    return frame
