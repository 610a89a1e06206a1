"""HPOBench's meta information says where a benchmark's files come from (never "official" for a user's build)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("ConfigSpace")

import hpobench_ext as H


def test_meta_information_names_the_source(tmp_path: Path, ps_dir: Path) -> None:
    assert H.SMMMiniPS.get_meta_information()["source"].startswith("embedded: smm-plugins merge-lab surrogate")
    assert H.SMMMiniPSTrue.get_meta_information()["source"].startswith("exact lab objective (no surrogate)")
    build = tmp_path / "my-build"
    shutil.copytree(ps_dir, build)
    (build / "build_info.json").write_text(json.dumps({"space": "my-build"}))
    meta = H.benchmark_class(str(build)).get_meta_information()
    assert meta["source"] == f"user build: {build} (build-surrogate, build_info.json)"
