"""Where each benchmark of a report comes from: the one-line ``meta["source"]`` of the loaded benchmark."""

from __future__ import annotations

import logging

__all__ = ["benchmark_sources", "markdown_sources"]

logger = logging.getLogger(__name__)


def benchmark_sources(specs: dict[str, str]) -> dict[str, str]:
    """``{label: source}`` of the benchmarks (``{label: spec}``) whose ``meta`` has a ``"source"`` line.

    A benchmark that cannot be loaded here is left out (the reference lines already warn about it).
    """
    from smm_plugins.registry import load_benchmark

    out = {}
    for label, spec in specs.items():
        try:
            meta = getattr(load_benchmark(spec), "meta", None) or {}
        except Exception as exc:  # noqa: BLE001 - provenance is optional in a report
            logger.debug("no provenance for benchmark %r: %s", label, exc)
            continue
        if meta.get("source"):
            out[label] = str(meta["source"])
    return out


def markdown_sources(specs: dict[str, str]) -> list[str]:
    """One Markdown line per benchmark with a known source (``[]`` if none has one)."""
    return [f"Benchmark `{label}`: {source}." for label, source in benchmark_sources(specs).items()]
