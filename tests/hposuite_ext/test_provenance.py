"""hposuite's benchmark description carries where the benchmark's files come from."""

from __future__ import annotations

import pytest

pytest.importorskip("hpoglue")

from hposuite_ext import benchmark_description
from smm_plugins import load_benchmark


def test_description_extra_names_the_source(ps_dir) -> None:
    assert benchmark_description("smm-mini-ps").extra["source"].startswith("embedded: smm-plugins merge-lab")
    assert benchmark_description(str(ps_dir)).extra["source"] == load_benchmark(ps_dir).meta["source"]
    assert benchmark_description(str(ps_dir)).extra["source"].startswith("directory: ")
