"""Evaluation-size fidelity: the geometric ladder of problem counts shared by every adapter."""

from __future__ import annotations

__all__ = ["fidelity_ladder"]


def fidelity_ladder(n_full: int, reduction_factor: int = 3, n_levels: int = 4) -> list[int]:
    """Geometric evaluation sizes ``n_full // reduction_factor**k`` for ``k = n_levels-1 .. 0``, ascending.

    ``n_full`` (>= 1) is the full split's problem count; the last level is always ``n_full``, e.g.
    ``fidelity_ladder(1000) == [37, 111, 333, 1000]``. Sizes never drop below 1 and repeats are removed.
    """
    for name, value, low in (
        ("n_full", n_full, 1),
        ("reduction_factor", reduction_factor, 2),
        ("n_levels", n_levels, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} = {value!r} is not allowed; expected an integer >= {low}")
    return sorted({max(1, n_full // reduction_factor**k) for k in range(n_levels)})
