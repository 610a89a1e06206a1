"""Claims on the runs of a comparison directory, so that two processes on one folder never run a run twice.

A process claims a run before it executes it, with an exclusive lock on ``DIR/.claims/<run id>.lock``
(:class:`filelock.FileLock`: ``flock`` on POSIX systems). The operating system releases the lock when
its process ends, also when it is killed, so a claim left by a dead process never blocks a later resume.
A second process on the same folder skips the runs the first one holds and helps with the others.
"""

from __future__ import annotations

import enum
import time
from pathlib import Path

from filelock import FileLock, Timeout

from smm_plugins.compare.plan import RunSpec
from smm_plugins.compare.results import failure_path, run_path

__all__ = ["Claim", "RunClaims"]

#: Folder of the lock files inside an output directory.
CLAIMS_DIR = ".claims"


class Claim(enum.Enum):
    """Outcome of :meth:`RunClaims.claim`."""

    #: This process holds the run and must execute it.
    TAKEN = "taken"
    #: Another live process holds the run.
    BUSY = "busy"
    #: Another process finished (or failed) the run after this one planned its grid.
    SETTLED = "settled"


class RunClaims:
    """The claims this process holds on the runs of ``out``; ``since``: when this process planned its grid."""

    def __init__(self, out: Path, *, since: float | None = None) -> None:
        self.out = Path(out)
        self.since = time.time() if since is None else since
        self._held: dict[str, FileLock] = {}
        (self.out / CLAIMS_DIR).mkdir(parents=True, exist_ok=True)

    def claim(self, spec: RunSpec) -> Claim:
        """Try to claim ``spec`` without waiting."""
        lock = FileLock(self.out / CLAIMS_DIR / f"{spec.run_id}.lock", thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return Claim.BUSY
        # Holding the claim, look again: the run may have been settled by a process that held it meanwhile.
        failed = failure_path(self.out, spec)
        if run_path(self.out, spec).is_file() or (failed.is_file() and failed.stat().st_mtime >= self.since):
            lock.release()
            return Claim.SETTLED
        self._held[spec.run_id] = lock
        return Claim.TAKEN

    def release(self, spec: RunSpec) -> None:
        """Release the claim on ``spec`` (after its result is written)."""
        lock = self._held.pop(spec.run_id, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        """Release every claim this object holds."""
        for lock in self._held.values():
            lock.release()
        self._held.clear()

    def __enter__(self) -> RunClaims:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release_all()
