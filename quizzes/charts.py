"""Geometry for the server-rendered SVG charts; templates only draw what these return.

Both charts are readable without colour: passing and failing results differ by marker shape or
bar pattern as well as colour, every point or bar carries its number as a text label, and each
chart comes with a data table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 20, 52
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    passed: bool
    label: str  # "12/15"
    date: str  # "3 Jan"
    number: int


@dataclass(frozen=True)
class ScoreChart:
    markers: tuple[Marker, ...]
    line: str  # SVG polyline points
    pass_y: float
    ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: float = TOP + PLOT_H


@dataclass(frozen=True)
class ScorePoint:
    when: datetime
    score: int
    total: int
    passed: bool


def _y_for_percent(percent: float) -> float:
    return round(TOP + PLOT_H * (1 - percent / 100), 1)


def _percent_ticks() -> tuple[Tick, ...]:
    return tuple(Tick(_y_for_percent(p), f"{p} %") for p in range(0, 101, 20))


def score_chart(points: Sequence[ScorePoint], pass_mark: int) -> ScoreChart:
    """Test scores (percent) in the order taken, evenly spaced so close attempts stay legible."""
    count = len(points)
    step = PLOT_W / count if count else 0
    markers = []
    for index, point in enumerate(points):
        percent = point.score * 100 / point.total if point.total else 0
        markers.append(
            Marker(
                x=round(LEFT + step * (index + 0.5), 1),
                y=_y_for_percent(percent),
                passed=point.passed,
                label=f"{point.score}/{point.total}",
                date=f"{point.when.day} {point.when:%b}",
                number=index + 1,
            )
        )
    line = " ".join(f"{m.x},{m.y}" for m in markers)
    return ScoreChart(tuple(markers), line, _y_for_percent(pass_mark), _percent_ticks())


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    score: int
    count: int
    passing: bool


@dataclass(frozen=True)
class Histogram:
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    pass_x: float  # left edge of the first passing bar
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: float = TOP + PLOT_H


def histogram_chart(counts: Sequence[int], pass_score: int) -> Histogram:
    """Bars for scores 0..len(counts)-1; bars at or above `pass_score` are the passing ones."""
    slots = max(len(counts), 1)
    slot = PLOT_W / slots
    top = max(max(counts, default=0), 1)
    bars = []
    for score, count in enumerate(counts):
        height = round(PLOT_H * count / top, 1)
        bars.append(
            Bar(
                x=round(LEFT + slot * score + slot * 0.1, 1),
                y=round(TOP + PLOT_H - height, 1),
                width=round(slot * 0.8, 1),
                height=height,
                score=score,
                count=count,
                passing=score >= pass_score,
            )
        )
    steps = sorted({round(top * fraction) for fraction in (0, 0.25, 0.5, 0.75, 1)})
    ticks = tuple(Tick(round(TOP + PLOT_H * (1 - value / top), 1), str(value)) for value in steps)
    return Histogram(tuple(bars), ticks, round(LEFT + slot * pass_score, 1))
