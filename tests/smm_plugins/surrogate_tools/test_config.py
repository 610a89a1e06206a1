"""Build settings: the name a build gives its space, and names reserved for the official files."""

from __future__ import annotations

import pytest

from smm_plugins.space import dfs_space, ps_space
from smm_plugins.surrogate_tools.config import BuildConfig, built_space_name


def test_built_space_name() -> None:
    assert built_space_name(ps_space(), "/x/runs/my-ps") == "my-ps"
    assert built_space_name(dfs_space(), "/x/dfs-v2", "lab-dfs") == "lab-dfs"
    assert built_space_name(ps_space("three-models", n_layers=2, n_models=3), "/x/out") == "three-models"
    with pytest.raises(ValueError, match="smm-bench-"):
        BuildConfig(space_name="smm-bench-dfs")
