"""Syne Tune adapter fixtures: a registered name whose benchmark uses the real-merge cost model."""

from __future__ import annotations

import copy

import pytest

pytest.importorskip("syne_tune")
pytest.importorskip("huggingface_hub")


@pytest.fixture(scope="session")
def mini_ps_7b() -> str:
    """``smm-mini-ps`` with the 7B merge-and-evaluate cost model, registered under its own name.

    The simulated-time tests check the simulator against the cost model the benchmark reports, so they pin
    the realistic one (minutes per full evaluation) instead of whichever the embedded benchmark defaults to.
    """
    import synetune_ext
    from smm_plugins.cost import OfficialCostModel
    from smm_plugins.registry import load_benchmark

    bench = copy.copy(load_benchmark("smm-mini-ps"))  # a copy: the registry's cached instance stays as it is
    bench.cost_model = OfficialCostModel()
    return synetune_ext.register_blackbox(bench, name="smm-mini-ps-7b-test")
