"""Fixtures for the HPOBench adapter tests: small in-memory benchmarks (any Benchmark works)."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

def _import_hpobench_in_a_temporary_home() -> None:
    # Importing hpobench writes its config and creates data/cache folders under the XDG directories
    # (read once, at import): import it here with those pointed at a temporary folder, then restore them
    # so that nothing else in the session (e.g. the per-user data dir) sees a changed environment.
    names = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")
    saved = {n: os.environ.get(n) for n in names}
    home = tempfile.mkdtemp(prefix="smm-plugins-hpobench-")
    os.environ.update({n: os.path.join(home, n.lower()) for n in names})
    try:
        import hpobench.abstract_benchmark  # noqa: F401
    except ImportError:
        pass
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v


_import_hpobench_in_a_temporary_home()

from smm_plugins import Benchmark, dfs_space, ps_space  # noqa: E402
from smm_plugins.testing import synthetic_accuracy  # noqa: E402


class SyntheticBenchmark(Benchmark):
    """A deterministic accuracy landscape over a canonical space (stands in for a surrogate)."""

    def __init__(self, space):
        self.space, self.name = space, space.name

    def _predict(self, X: np.ndarray, objective: str) -> np.ndarray:
        return synthetic_accuracy(self.space, X, objective)


@pytest.fixture(scope="session")
def tiny_ps() -> Benchmark:
    return SyntheticBenchmark(ps_space("tiny-ps"))


@pytest.fixture(scope="session")
def tiny_dfs() -> Benchmark:
    return SyntheticBenchmark(dfs_space("tiny-dfs"))
