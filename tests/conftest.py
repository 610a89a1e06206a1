"""Session fixtures: tiny surrogate directories in the official SMM-Bench file format."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from smm_plugins.space import dfs_space, ps_space  # noqa: E402
from smm_plugins.testing import write_cv_booster_dir  # noqa: E402


@pytest.fixture(scope="session")
def ps_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PS directory: 3 fold boosters x 30 trees per objective, 64 features, label.json."""
    return write_cv_booster_dir(tmp_path_factory.mktemp("bench") / "smm-bench-ps", ps_space(), seed=1)


@pytest.fixture(scope="session")
def dfs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DFS directory whose boosters treat the 32 layer choices as numbers (numerical splits only)."""
    return write_cv_booster_dir(tmp_path_factory.mktemp("bench") / "smm-bench-dfs", dfs_space(), seed=2)


@pytest.fixture(scope="session")
def dfs_cat_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DFS directory with LightGBM categorical splits and learned missing-value directions."""
    return write_cv_booster_dir(
        tmp_path_factory.mktemp("bench") / "smm-bench-dfs",
        dfs_space(),
        seed=3,
        categorical=True,
        missing_fraction=0.05,
    )


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory set through SMM_BENCH_DATA_DIR (and a clean benchmark cache)."""
    from smm_plugins.registry import clear_cache

    d = tmp_path / "smm-data"
    monkeypatch.setenv("SMM_BENCH_DATA_DIR", str(d))
    clear_cache()
    yield d
    clear_cache()
