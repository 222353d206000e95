"""Geometry for the dashboard's server-rendered SVG bar charts; the template only draws it.

Readable without colour: every bar carries its value as text, a bar above the reference line
(the daily budget) is hatched as well as coloured, the line is dashed and labelled, and the
template puts the same figures in a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 24, 44
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the category, e.g. "3 Jan"
    value_label: str  # the value written on the bar
    over: bool  # above the reference line
    centre: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    line_y: float | None
    line_label: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: float = TOP + PLOT_H
    tick_x: int = LEFT - 6


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is >= value (a tidy axis top)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-12:
            return step * power
    return 10 * power


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    value_labels: Sequence[str],
    *,
    line: float | None = None,
    line_label: str = "",
    tick_format: str = "{:g}",
    ticks: int = 4,
) -> BarChart:
    if not (len(labels) == len(values) == len(value_labels)):
        raise ValueError("labels, values and value labels must have the same length")
    top = nice_ceiling(max([*values, line or 0.0, 0.0]))

    def y_of(v: float) -> float:
        return round(TOP + PLOT_H * (1 - v / top), 1)

    slot = PLOT_W / max(len(values), 1)
    width = round(slot * 0.6, 1)
    bars = []
    for i, (label, value, text) in enumerate(zip(labels, values, value_labels, strict=True)):
        x = round(LEFT + slot * i + (slot - width) / 2, 1)
        y = y_of(value)
        bars.append(
            Bar(
                x=x,
                y=y,
                width=width,
                height=round(TOP + PLOT_H - y, 1),
                label=label,
                value_label=text,
                over=line is not None and value > line,
                centre=round(x + width / 2, 1),
            )
        )
    tick_marks = tuple(
        Tick(y_of(top * i / ticks), tick_format.format(top * i / ticks)) for i in range(ticks + 1)
    )
    return BarChart(
        bars=tuple(bars),
        ticks=tick_marks,
        line_y=None if line is None else y_of(line),
        line_label=line_label,
    )
