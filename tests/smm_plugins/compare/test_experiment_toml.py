"""experiment.toml as the runner writes it (tomli-w) and reads it back (tomllib / tomli)."""

from __future__ import annotations

import math
from importlib import metadata
from pathlib import Path

import pytest

from smm_plugins.compare.experiment import (
    PRESETS,
    Experiment,
    _toml_loads,
    load_experiment,
    preset,
    read_saved_experiment,
    save_experiment,
    toml_dumps,
)

#: Names that need quoting as TOML keys and strings that need escaping.
_AWKWARD = Experiment(
    benchmarks=["smm-mini-ps", "/data/my bench", "my_pkg.benches:make"],
    optimizers=["random", "optuna.samplers:QMCSampler", "optunahub:samplers/sa@/reg/package", "de"],
    seeds=[0, 3, 7],
    budget=25,
    objective="test_acc",
    base_seed=4,
    workers=None,
    ray_address="auto",
    plugins=["my_pkg.opts"],
    options={
        "optuna.samplers:QMCSampler": {"scramble": True, "qmc_type": "sobol"},
        "optunahub:samplers/sa@/reg/package": {"note": 'quote " and \\ back', "nested": {"depth": 2}},
        "de": {"population_size": 12, "mutation": [0.4, 0.9], "tiny": 1e-300, "big": 1e300},
    },
    name="a name with spaces",
)


@pytest.mark.parametrize("exp", [_AWKWARD, *(preset(p) for p in PRESETS)], ids=["awkward", *PRESETS])
def test_saved_experiment_reads_back_the_same(tmp_path: Path, exp: Experiment) -> None:
    path = save_experiment(exp, tmp_path)
    back, meta = read_saved_experiment(tmp_path)
    assert back == exp
    assert load_experiment(path) == exp  # the saved file is also a valid experiment file
    assert meta["smm_plugins_version"] and meta["python"] and meta["saved"]


def test_meta_records_installed_versions_from_metadata(tmp_path: Path) -> None:
    save_experiment(preset("quick"), tmp_path)
    saved = read_saved_experiment(tmp_path)
    assert saved is not None
    meta = saved[1]
    assert meta["scipy_version"] == metadata.version("scipy")
    assert meta["lightgbm_version"] == metadata.version("lightgbm")
    for key in ("optuna", "syne_tune", "ray"):
        try:
            installed = metadata.version(key.replace("_", "-"))
        except metadata.PackageNotFoundError:
            assert f"{key}_version" not in meta  # an absent framework is left out, not an error
        else:
            assert meta[f"{key}_version"] == installed


def test_toml_dumps_leaves_none_out_and_keeps_special_floats() -> None:
    data = {"a": None, "b": 1, "t": {"x": None, "y": {"z": None, "w": "v"}}, "f": [math.inf, -math.inf, 0.1]}
    back = _toml_loads(toml_dumps(data))
    assert back == {"b": 1, "t": {"y": {"w": "v"}}, "f": [math.inf, -math.inf, 0.1]}
    assert math.isnan(_toml_loads(toml_dumps({"n": math.nan}))["n"])
