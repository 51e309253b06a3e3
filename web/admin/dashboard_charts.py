"""Server-rendered SVG bar charts for the dashboard's growth series (no JavaScript).

A suppressed month ("fewer than 5") is drawn as a dashed, unfilled bar as tall as 4 could be,
labelled "<5", so the chart never shows more than the table does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from web.admin.dashboard_figures import FEWER

WIDTH, HEIGHT = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 24, 32


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    label_y: float
    month: str
    month_x: float
    title: str
    suppressed: bool


@dataclass(frozen=True)
class Chart:
    key: str
    heading: str
    bars: list[Bar]
    width: int
    height: int
    baseline: float
    summary: str


def chart(key: str, heading: str, months: list[tuple[str, str]], cells: list[str]) -> Chart:
    """Bars for (label, short label) months and their shown values (digits or FEWER)."""
    values = [4 if c == FEWER else int(c.replace(",", "")) for c in cells]
    top = max([5, *values])
    top = math.ceil(top / 5) * 5
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(values), 1)
    bars = []
    for i, ((label, short), value, cell) in enumerate(zip(months, values, cells, strict=True)):
        height = plot * value / top
        x = LEFT + slot * i + slot * 0.15
        y = TOP + plot - height
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(y, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label="<5" if cell == FEWER else cell,
                label_y=round(y - 6, 1),
                month=short,
                month_x=round(x + slot * 0.35, 1),
                title=f"{label}: {cell}",
                suppressed=cell == FEWER,
            )
        )
    summary = "; ".join(
        f"{label}: {cell}" for (label, _short), cell in zip(months, cells, strict=True)
    )
    return Chart(key, heading, bars, WIDTH, HEIGHT, TOP + plot, summary)
