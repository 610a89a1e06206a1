"""OptunaHub registry entry for SMM-Bench: a thin wrapper; the code and model files ship in ``smm-plugins``."""

from __future__ import annotations

try:
    from optuna_ext import HopsProblem, Problem
except ImportError as exc:  # the registry folder carries no code of its own
    raise ImportError(
        "benchmarks/smm_bench needs smm-plugins (not on PyPI yet): "
        f'pip install "smm-plugins[optuna] @ git+https://github.com/<owner>/smm-plugins" ({exc})'
    ) from None

__all__ = ["HopsProblem", "Problem"]
