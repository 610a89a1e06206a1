"""The merge lab: small real source models, exact merge objectives and data collection.

* :mod:`~smm_plugins.lab.tasks` - synthetic tasks, the "foreign language" rotation, target splits;
* :mod:`~smm_plugins.lab.network` - the network (32 or 16 blocks) and its NumPy forward pass;
* :mod:`~smm_plugins.lab.merge` - PS task arithmetic (2 or more sources) and the DFS inference path;
* :mod:`~smm_plugins.lab.objectives` - the benchmarks ``smm-mini-ps-true`` / ``smm-mini-dfs-true``;
* :mod:`~smm_plugins.lab.suite` - SMM-Mini: eight tasks, each an exact PS and DFS benchmark;
* :mod:`~smm_plugins.lab.relatedness` - rank correlation between tasks sharing a space;
* :mod:`~smm_plugins.lab.manifest` - SHA-256 manifest of the packaged weights;
* :mod:`~smm_plugins.lab.collect` - random + CMA-ES + TPE data collection into Parquet;
* :mod:`~smm_plugins.lab.recipe` / :mod:`~smm_plugins.lab.train` - the training recipe and the training of the
  sources (torch, extra ``lab``; imported on demand).

Nothing here imports torch at package import. See docs/merge-lab.md and docs/suite.md.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smm_plugins.lab.objectives import DFSTrueBenchmark, PSTrueBenchmark

__all__ = ["ps_true_benchmark", "dfs_true_benchmark"]


def ps_true_benchmark(weights: str | os.PathLike[str] | None = None) -> PSTrueBenchmark:
    """The exact PS benchmark ``smm-mini-ps-true`` (see :mod:`smm_plugins.lab.objectives`)."""
    from smm_plugins.lab.objectives import ps_true_benchmark as _f

    return _f(weights)


def dfs_true_benchmark(weights: str | os.PathLike[str] | None = None) -> DFSTrueBenchmark:
    """The exact DFS benchmark ``smm-mini-dfs-true`` (see :mod:`smm_plugins.lab.objectives`)."""
    from smm_plugins.lab.objectives import dfs_true_benchmark as _f

    return _f(weights)
