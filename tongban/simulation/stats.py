"""Summaries of measured durations."""

from __future__ import annotations

import math
import statistics


def percentiles(values: list[float]) -> dict:
    """count, p50, p95, p99 (nearest rank), max and mean of ``values``, rounded to milliseconds."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(p: float) -> float:
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 3)

    return {
        "count": len(ordered),
        "p50": at(50),
        "p95": at(95),
        "p99": at(99),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.mean(ordered), 3),
    }
