"""Benchmarks: figures, not timed tests (see README "Benchmarks")."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank ``share`` quantile of ``values`` (0.5 = median, 0.95 = p95)."""
    ordered = sorted(values)
    position = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[position]
