"""smm_plugins.compare.experiment: experiment files (TOML/YAML) round trip, errors, the demo preset."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from smm_plugins.compare.experiment import (
    Experiment,
    load_experiment,
    preset,
    read_saved_experiment,
    save_experiment,
    toml_dumps,
)
from smm_plugins.compare.optimizers import get_optimizer


def test_experiment_file_round_trip(tmp_path: Path) -> None:
    toml_text = textwrap.dedent(
        """
        name = "rt"
        benchmarks = ["smm-mini-ps", "smm-mini-dfs"]
        optimizers = ["random", "tpe", "de"]
        seeds = 3
        budget = 40
        base_seed = 7
        workers = 2
        ray_address = "auto"
        plugins = ["my.plugin"]

        [options.de]
        population_size = 12
        mutation = [0.4, 0.9]
        """
    )
    (tmp_path / "e.toml").write_text(toml_text)
    yaml = pytest.importorskip("yaml")
    exp = load_experiment(tmp_path / "e.toml")
    assert exp.seeds == [0, 1, 2] and exp.options == {"de": {"population_size": 12, "mutation": [0.4, 0.9]}}
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(exp.to_dict()))
    assert load_experiment(tmp_path / "e.yaml") == exp
    save_experiment(exp, tmp_path / "out")
    back, meta = read_saved_experiment(tmp_path / "out")
    assert back == exp
    from smm_plugins import __version__

    assert meta["smm_plugins_version"] == __version__
    assert load_experiment(tmp_path / "out" / "experiment.toml") == exp


def test_experiment_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        'benchmarks = ["a"]\noptimizers = ["random"]\nseeds = 2\nbudget = 5\nbugdet = 3\n'
    )
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['bugdet'\]"):
        load_experiment(tmp_path / "bad.toml")
    with pytest.raises(ValueError, match="budget = 0"):
        Experiment(benchmarks=["a"], optimizers=["random"], seeds=1, budget=0)
    with pytest.raises(ValueError, match="seeds"):
        Experiment(benchmarks=["a"], optimizers=["random"], seeds=[1, 1], budget=3)
    with pytest.raises(ValueError, match="unknown preset 'nope'; known: demo"):
        preset("nope")
    with pytest.raises(ValueError, match="extension"):
        (tmp_path / "e.ini").write_text("x")
        load_experiment(tmp_path / "e.ini")


def test_demo_preset_is_the_readme_promise() -> None:
    demo = preset("demo")
    assert set(demo.benchmarks) == {"smm-mini-ps", "smm-mini-dfs"}
    assert len(demo.optimizers) >= 4 and len(demo.seeds) >= 10 and demo.budget >= 200
    # Every demo optimiser must run with what `make demo` installs (no optional extra missing).
    assert all(get_optimizer(o).available for o in demo.optimizers)


def test_toml_writer_quotes_and_nests() -> None:
    from smm_plugins.compare.experiment import _toml_loads

    data = {"a": 'quote " and \\ back', "b": [1, 2.5, True], "t": {"x": {"y": 1}, "z": "w"}}
    assert _toml_loads(toml_dumps(data)) == data
