"""Geometry for the server-rendered SVG charts; templates only draw what these return.

Every chart is readable without colour: passing and failing results (or bars over the daily
budget) differ by marker shape or bar pattern as well as colour, every point or bar carries its
number as a text label, reference lines are dashed and labelled, and each chart comes with a
data table in its template.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Frame:
    """A chart's canvas and the plot area inside its margins."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def right_edge(self) -> int:
        return self.width - self.right

    @property
    def baseline(self) -> int:
        return self.top + self.plot_height

    @property
    def tick_x(self) -> int:
        return self.left - 6

    def y(self, value: float, top: float) -> float:
        """Where `value` sits on an axis running from 0 (the baseline) to `top`."""
        return round(self.top + self.plot_height * (1 - value / top), 1)

    def slot(self, index: int, count: int, fill: float) -> tuple[float, float]:
        """(x, width) of the bar in slot `index` of `count`, `fill` of the slot wide, centred."""
        slot = self.plot_width / max(count, 1)
        return round(self.left + slot * index + slot * (1 - fill) / 2, 1), round(slot * fill, 1)


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is >= value (a tidy axis top)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-12:
            return step * power
    return 10 * power


# --- The operations dashboard's daily bars, against a reference line (the daily budget) -----

DASHBOARD = Frame(width=640, height=240, left=64, right=16, top=24, bottom=44)


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
class BarChart:
    frame: Frame
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    line_y: float | None
    line_label: str


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
    frame = DASHBOARD
    top = nice_ceiling(max([*values, line or 0.0, 0.0]))
    bars = []
    for i, (label, value, text) in enumerate(zip(labels, values, value_labels, strict=True)):
        x, width = frame.slot(i, len(values), 0.6)
        y = frame.y(value, top)
        bars.append(
            Bar(
                x=x,
                y=y,
                width=width,
                height=round(frame.baseline - y, 1),
                label=label,
                value_label=text,
                over=line is not None and value > line,
                centre=round(x + width / 2, 1),
            )
        )
    tick_marks = tuple(
        Tick(frame.y(top * i / ticks, top), tick_format.format(top * i / ticks))
        for i in range(ticks + 1)
    )
    line_y = None if line is None else frame.y(line, top)
    return BarChart(frame, tuple(bars), tick_marks, line_y, line_label)


# --- A learner's test scores, and the instructors' score histogram ---------------------------

SCORES = Frame(width=640, height=260, left=48, right=16, top=20, bottom=52)


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
    frame: Frame
    markers: tuple[Marker, ...]
    line: str  # SVG polyline points
    pass_y: float
    ticks: tuple[Tick, ...]


@dataclass(frozen=True)
class ScorePoint:
    when: datetime
    score: int
    total: int
    passed: bool


def score_chart(points: Sequence[ScorePoint], pass_mark: int) -> ScoreChart:
    """Test scores (percent) in the order taken, evenly spaced so close attempts stay legible."""
    frame = SCORES
    count = len(points)
    step = frame.plot_width / count if count else 0
    markers = []
    for index, point in enumerate(points):
        percent = point.score * 100 / point.total if point.total else 0
        markers.append(
            Marker(
                x=round(frame.left + step * (index + 0.5), 1),
                y=frame.y(percent, 100),
                passed=point.passed,
                label=f"{point.score}/{point.total}",
                date=f"{point.when.day} {point.when:%b}",
                number=index + 1,
            )
        )
    line = " ".join(f"{m.x},{m.y}" for m in markers)
    ticks = tuple(Tick(frame.y(p, 100), f"{p} %") for p in range(0, 101, 20))
    return ScoreChart(frame, tuple(markers), line, frame.y(pass_mark, 100), ticks)


@dataclass(frozen=True)
class ScoreBar:
    x: float
    y: float
    width: float
    height: float
    score: int
    count: int
    passing: bool


# The histogram keeps a row above its plot for the "Pass" label, so the count printed over the
# tallest bar never runs into it (not even in the larger text a phone gets).
HISTOGRAM = Frame(width=640, height=260, left=48, right=16, top=50, bottom=52)
PASS_LABEL_Y = 20


@dataclass(frozen=True)
class Histogram:
    frame: Frame
    bars: tuple[ScoreBar, ...]
    ticks: tuple[Tick, ...]
    pass_x: float  # left edge of the first passing bar
    pass_label_y: int = PASS_LABEL_Y

    @property
    def plot_top(self) -> int:
        return self.frame.top

    @property
    def pass_label_end(self) -> bool:
        """Near the right edge the "Pass" label sits left of its line, so it is not cut off."""
        return self.pass_x > self.frame.width * 0.6


def count_ticks(tallest: int) -> tuple[int, list[int]]:
    """Whole-number gridlines at an even step, at most five: (top of the scale, tick values)."""
    step = max(1, math.ceil(tallest / 4))
    top = step * max(1, math.ceil(tallest / step))
    return top, list(range(0, top + 1, step))


def histogram_chart(counts: Sequence[int], pass_score: int) -> Histogram:
    """Bars for scores 0..len(counts)-1; bars at or above `pass_score` are the passing ones."""
    frame = HISTOGRAM
    top, values = count_ticks(max(counts, default=0))
    bars = []
    for score, count in enumerate(counts):
        x, width = frame.slot(score, len(counts), 0.8)
        y = frame.y(count, top)
        bars.append(
            ScoreBar(
                x=x,
                y=y,
                width=width,
                height=round(frame.baseline - y, 1),
                score=score,
                count=count,
                passing=score >= pass_score,
            )
        )
    ticks = tuple(Tick(frame.y(value, top), str(value)) for value in values)
    pass_x = round(frame.left + frame.plot_width / max(len(counts), 1) * pass_score, 1)
    return Histogram(frame, tuple(bars), ticks, pass_x)
