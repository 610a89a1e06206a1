"""One BLAS thread inside the block, the caller's thread counts after it."""

from __future__ import annotations

import numpy  # noqa: F401 - loads the BLAS library whose threads these tests check
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from smm_plugins._blas import one_blas_thread


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.mark.parametrize("outer", [2, 3])
def test_limits_inside_and_restores_after(outer: int) -> None:
    with threadpool_limits(limits=outer, user_api="blas"):
        with one_blas_thread():
            assert _blas_threads() == {1}
        assert _blas_threads() == {outer}


def test_restores_after_an_exception() -> None:
    with threadpool_limits(limits=2, user_api="blas"):
        with pytest.raises(RuntimeError), one_blas_thread():
            raise RuntimeError("boom")
        assert _blas_threads() == {2}
