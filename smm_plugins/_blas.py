"""BLAS thread limits for code that runs many small matrix products."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

__all__ = ["one_blas_thread"]


@functools.cache
def _controller() -> Any:
    # Finding the loaded BLAS libraries is the slow part (milliseconds); limiting through a controller made
    # once costs about 0.1 ms. The libraries are those loaded at the first call; NumPy's is loaded by then.
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread, then restore the caller's thread counts.

    For products of a few dozen rows, threads add only synchronisation: on a machine whose cores are busy,
    default BLAS threads make such loops several times slower (``benchmarks/bench_lab_objectives.py``).
    The limit is process-wide while the block runs, as every BLAS thread setting is.
    """
    with _controller().limit(limits=1, user_api="blas"):
        yield
