"""Server-drawn SVG geometry, so the chart needs no JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Bar:
    x: int
    y: float
    height: float
    day: date
    total: int


def running_total_bars(daily: list[tuple[date, int, int]], threshold: int | None) -> list[Bar]:
    """One bar per day, 10 units wide, heights scaled to the larger of goal and total (0–100)."""
    top = max([threshold or 0, *(total for _, _, total in daily), 1])
    bars = []
    for index, (day, _count, total) in enumerate(daily):
        height = round(100 * total / top, 2)
        bars.append(
            Bar(x=index * 10, y=round(100 - height, 2), height=height, day=day, total=total)
        )
    return bars
