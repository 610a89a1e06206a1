"""The exception base of smm-plugins: ``except SMMBenchError`` catches every error the package defines.

Each error class of the package also keeps the built-in base it had before (``FidelityError`` is still a
``ValueError``, ``BenchmarkNotInstalledError`` a ``FileNotFoundError``), so existing ``except`` clauses keep
working.
"""

from __future__ import annotations

__all__ = ["SMMBenchError"]


class SMMBenchError(Exception):
    """Base class of every exception defined by smm-plugins and its adapters."""
