"""The progress bar of a grid: runs done / running / failed and an ETA weighted by each run's expected cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smm_plugins.compare.plan import RunSpec

__all__ = ["GridSummary", "RunProgress"]


@dataclass
class GridSummary:
    """What a call of :func:`~smm_plugins.compare.runner.run_experiment` did.

    ``busy``: runs another process on the same folder was running when this one reached them (left to it);
    ``settled_elsewhere``: runs another process finished or failed after this one planned its grid;
    ``set_aside``: run files found unusable (damaged or incomplete), moved to ``runs/damaged/`` and run
    again, one line each (``"<run id>: <why> -> <new path>"``). ``backend``: ``"serial"`` (in this
    process), ``"ray"`` or ``"none"`` (nothing was left to run); ``workers``: the processes that ran runs;
    ``choice``: why the runner chose them, when the caller left the number of workers to it.
    """

    out: Path
    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    seconds: float = 0.0
    workers: int = 1
    backend: str = "serial"
    failures: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    settled_elsewhere: int = 0
    set_aside: list[str] = field(default_factory=list)
    choice: str = ""

    def execution(self) -> str:
        """How the runs were executed, for a summary line: ``"ray, 2 worker(s)"``, ``"serial, in this process"``."""
        if self.backend == "none":
            return "nothing to run"
        how = "serial, in this process" if self.backend == "serial" else f"{self.backend}, {self.workers} worker(s)"
        return f"{how}; {self.choice}" if self.choice else how


class RunProgress:
    """tqdm bar over runs: done / running / failed, and an ETA.

    The bar advances by each run's expected cost (its optimiser's ``cost_hint`` x budget, plus the
    surrogate), not by one per run: runs differ by 100x and Ray starts the slowest first, so counting
    runs would make the ETA swing from far too long to far too short.
    """

    def __init__(self, todo: list[RunSpec], weights: dict[str, float], summary: GridSummary, *, enabled: bool) -> None:
        self.summary = summary
        self.running = 0
        self.n_total = len(todo)
        self._weights = weights
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            total = sum(weights[s.run_id] for s in todo)
            desc = f"runs ({summary.skipped} done before)" if summary.skipped else "runs"
            self._bar = tqdm(
                total=total,
                desc=desc,
                dynamic_ncols=True,
                mininterval=0.5,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]{postfix}",
            )
            self._show()

    def _show(self, refresh: bool = True) -> None:
        if self._bar is not None:
            s = self.summary
            elsewhere = len(s.busy) + s.settled_elsewhere
            done = s.done + s.failed + elsewhere
            text = f"done {done}/{self.n_total}, running {self.running}, failed {s.failed}"
            self._bar.set_postfix_str(
                text + (f", by another process {elsewhere}" if elsewhere else ""), refresh=refresh
            )

    def set_running(self, n: int) -> None:
        if n != self.running:
            self.running = n
            self._show()

    def finished(self, spec: RunSpec) -> None:
        """Advance past ``spec`` (run here, or left to another process)."""
        self._show(refresh=False)
        if self._bar is not None:
            self._bar.update(self._weights[spec.run_id])

    def __enter__(self) -> RunProgress:
        # Log records (e.g. a failed run) go through tqdm.write so that they do not break the bar.
        self._redirect = None
        if self._bar is not None:
            from tqdm.contrib.logging import logging_redirect_tqdm

            self._redirect = logging_redirect_tqdm()
            self._redirect.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._redirect is not None:
            self._redirect.__exit__(*exc)
            self._redirect = None
        self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
