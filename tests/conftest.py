"""Session fixtures: tiny surrogate directories in the official SMM-Bench file format."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
# Compiled ensembles (smm_plugins.engine_cache) go to a folder of the test machine's temp dir, not the
# user's cache; entries are keyed by file and engine hashes, so sessions can share it.
os.environ.setdefault("SMM_BENCH_CACHE_DIR", os.path.join(tempfile.gettempdir(), "smm-bench-test-engine-cache"))


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

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from smm_plugins.benchmark import Benchmark
from smm_plugins.space import dfs_space, ps_space
from smm_plugins.testing import SyntheticBenchmark, write_cv_booster_dir


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


@pytest.fixture(scope="session")
def tiny_ps() -> Benchmark:
    """An in-memory PS benchmark (any Benchmark works with the adapters)."""
    return SyntheticBenchmark(ps_space("tiny-ps"))


@pytest.fixture(scope="session")
def tiny_dfs() -> Benchmark:
    """An in-memory DFS benchmark."""
    return SyntheticBenchmark(dfs_space("tiny-dfs"))


_OUR_PACKAGES = ("smm_plugins", "optuna_ext", "hpobench_ext", "synetune_ext", "carps_ext", "hposuite_ext")


@pytest.fixture(autouse=True)
def _our_loggers_stay_enabled() -> Iterator[None]:
    """Undo a framework's ``logging.config.dictConfig`` (hposuite's SMAC wrapper calls it), which disables
    every logger that exists at that moment, ours included; later tests assert on our warnings."""
    yield
    for name, log in logging.Logger.manager.loggerDict.items():
        if isinstance(log, logging.Logger) and log.disabled and name.split(".")[0] in _OUR_PACKAGES:
            log.disabled = False


@pytest.fixture(scope="session")
def lab_sized():
    """A benchmark of 1000 problems, as the embedded ones: fidelity range [37, 1000]."""
    bench = SyntheticBenchmark(ps_space("lab-sized-ps"))
    bench.n_problems_full = {"train_acc": 1000, "test_acc": 1000}
    return bench


@pytest.fixture(scope="session")
def core_error():
    """The core's fidelity error text for a fidelity on a 1000-problem benchmark: every adapter must give it."""
    from smm_plugins.fidelity import FidelityError, fidelity_to_n_problems

    def text(fidelity) -> str:
        with pytest.raises(FidelityError) as err:
            fidelity_to_n_problems(fidelity, 1000)
        return str(err.value)

    return text


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch):
    """Registrations made in a test do not leak into others."""
    from smm_plugins import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_CACHE", {})
    yield registry
