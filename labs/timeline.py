"""The picture of one coach turn: what the client did, on a time axis, and the same in words.

Built from the turn's trace (`CoachTurn.trace`: the resilient client's spans, why it stopped,
the rate-limit headroom of the last response) as plain geometry that `labs/lab.html` draws as
inline SVG. Each attempt is a row: held back by our own pacing, sent and waiting for its first
words, text arriving, then the wait before the next attempt and why (`retry-after`, backoff).
The sentences under the picture are its text alternative, step by step.

Across, everything is placed in percent of the plot (the part right of the row labels), never
in a viewBox: the chart takes the width it is given and its text stays at its CSS size, so a
phone shows labels as large as a desktop's, on a shorter axis. Down, it is in CSS pixels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The plot at its widest, in CSS px: the chart's max-width less the row labels' gutter and
# the right margin (labs.css: .timeline-chart, .tl-rows, .tl-plot). Narrower, the page hides
# the bar texts that no longer fit (labs.js).
PLOT = 640 - 84 - 20
ROW = 26
BAR = 16
TOP = 6
AXIS = 30
MIN_BAR = 2.0  # px at the widest: a span too short to see is still drawn
BAR_TEXT_MIN = 64.0  # px at the widest: narrower bars carry no text (the sentences say it)

SHORT = {"governor": "pacing", "request": "waiting", "stream": "text", "wait": "wait"}

# Why the client stopped retrying, in words (keys: `resilient.policy.STOPPED_*`).
STOPPED = {
    "attempts": "it used every attempt a chat reply is allowed",
    "deadline": "another wait would have passed the reply's deadline",
    "long_wait": "the server asked for a longer wait than a chat reply may take",
    "not_retriable": "the error is one that trying again cannot fix",
    "circuit_open": "the circuit breaker is open after repeated overloads, so it did not send",
    "budget": "the token budget cannot afford the reply, so it did not send",
}


@dataclass(frozen=True)
class Bar:
    kind: str
    x: float  # percent of the plot's width, as are `width` and every x below
    y: float
    width: float
    text: str  # drawn inside the bar when it is wide enough
    title: str  # the bar's tooltip
    failed: bool = False  # the attempt ended in this span with an error

    @property
    def height(self) -> int:
        return BAR

    @property
    def text_y(self) -> float:
        return round(self.y + BAR - 4, 1)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Row:
    y: float  # baseline of the row's label
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    y1: float
    y2: float
    label: str


@dataclass(frozen=True)
class Timeline:
    height: int  # CSS px; the chart is as wide as its box
    axis_y: float
    tick_y: float  # where the tick marks end
    label_y: float  # baseline of the tick labels
    rows: tuple[Row, ...]
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    first_words: Marker | None
    end: Marker
    summary: str
    steps: tuple[str, ...]


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _tick_step(total: float) -> float:
    """A round step giving at most about six ticks across `total` seconds."""
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120):
        if total / step <= 6:
            return float(step)
    return float(math.ceil(total / 6))


def _wait_text(note: str) -> str:
    if "retry-after" in note:
        return "retry-after"
    if "backoff" in note:
        return "backoff"
    return "wait"


def _sentence(span: Mapping[str, Any]) -> str:
    kind, note = span["kind"], span.get("note", "")
    start, end, attempt = span["start"], span["end"], span["attempt"]
    length = seconds(end - start)
    if kind == "governor":
        return f"Attempt {attempt} held back {length} by our own pacing (the rate limits)."
    if kind == "request":
        if note:
            return f"Attempt {attempt} sent at {seconds(start)}; after {length} it failed: {note}."
        return f"Attempt {attempt} sent at {seconds(start)}; its first words came {length} later."
    if kind == "stream":
        if note:
            return (
                f"Text arrived for {length}, then the stream broke ({note}): the partial reply "
                "was discarded and the whole reply asked for again."
            )
        return f"Text arrived for {length}, until {seconds(end)}."
    why = note.split("; ", 1)[1] if "; " in note else note
    return f"Waited {length} before the next attempt ({why})."


def outcome_words(outcome: str, trace: Mapping[str, Any], latency_ms: int | None) -> str:
    after = "" if latency_ms is None else f" after {seconds(latency_ms / 1000)}"
    if outcome in ("completed", "truncated"):
        cut = " (cut short at the length limit)" if outcome == "truncated" else ""
        return f"Reply complete{cut}{after}."
    if outcome == "cancelled":
        return f"Cancelled{after}."
    stopped = STOPPED.get(str(trace.get("stopped", "")))
    if stopped:
        return f"The client stopped{after}: {stopped}."
    return f"The reply failed{after}."


def build(
    trace: Mapping[str, Any],
    *,
    outcome: str,
    ttft_ms: int | None,
    latency_ms: int | None,
) -> Timeline | None:
    """The turn's picture; None when the trace has no spans (a turn from before traces)."""
    spans: Sequence[Mapping[str, Any]] = trace.get("spans") or ()
    if not spans:
        return None
    attempts = sorted({int(span["attempt"]) for span in spans})
    rows = {attempt: index for index, attempt in enumerate(attempts)}
    last_end = max(float(span["end"]) for span in spans)
    total = max(last_end, (latency_ms or 0) / 1000, 0.001)

    def x_of(moment: float) -> float:
        return round(100 * max(0.0, moment) / total, 2)

    def row_top(attempt: int) -> float:
        return TOP + rows[attempt] * ROW

    bars = []
    for span in spans:
        x1, x2 = x_of(float(span["start"])), x_of(float(span["end"]))
        width = max(100 * MIN_BAR / PLOT, round(x2 - x1, 2))
        kind = str(span["kind"])
        text = _wait_text(span.get("note", "")) if kind == "wait" else SHORT.get(kind, kind)
        bars.append(
            Bar(
                kind=kind,
                x=x1,
                y=row_top(int(span["attempt"])) + (ROW - BAR) / 2,
                width=width,
                text=text if width * PLOT / 100 >= BAR_TEXT_MIN else "",
                title=_sentence(span),
                failed=kind in ("request", "stream") and bool(span.get("note")),
            )
        )
    axis_y = TOP + len(attempts) * ROW + 4
    step = _tick_step(total)
    ticks = tuple(
        Tick(x_of(i * step), f"{i * step:g} s") for i in range(int(total / step + 1e-9) + 1)
    )
    first_words = None
    if ttft_ms is not None and outcome in ("completed", "truncated"):
        first_words = Marker(
            x_of(ttft_ms / 1000), TOP, axis_y, f"first words at {seconds(ttft_ms / 1000)}"
        )
    ending = outcome_words(outcome, trace, latency_ms)
    end = Marker(x_of(total), TOP, axis_y, ending)
    steps = [_sentence(span) for span in spans]
    if first_words is not None:
        steps.append(f"Time to first token: {seconds(ttft_ms / 1000)}.")  # type: ignore[operator]
    steps.append(ending)
    waits = [span for span in spans if span["kind"] == "wait"]
    summary = (
        f"Timeline of the reply: {len(attempts)} attempt{'s' if len(attempts) != 1 else ''}, "
        f"{len(waits)} wait{'s' if len(waits) != 1 else ''}. {ending}"
    )
    return Timeline(
        height=int(axis_y + AXIS),
        axis_y=axis_y,
        tick_y=round(axis_y + 4, 1),
        label_y=round(axis_y + 17, 1),
        rows=tuple(
            Row(row_top(attempt) + ROW / 2 + 4, f"Attempt {attempt}") for attempt in attempts
        ),
        bars=tuple(bars),
        ticks=ticks,
        first_words=first_words,
        end=end,
        summary=summary,
        steps=tuple(steps),
    )


def headroom_lines(headroom: Mapping[str, Any] | None) -> list[str]:
    """The rate limits left after the last response, one line per dimension."""
    if not headroom:
        return []
    names = {
        "requests": "requests",
        "input_tokens": "input tokens",
        "output_tokens": "output tokens",
        "tokens": "tokens",
    }
    lines = []
    for key, name in names.items():
        dimension = headroom.get(key)
        if not dimension:
            continue
        line = f"{dimension['remaining']:,} of {dimension['limit']:,} {name} left this minute"
        if dimension.get("reset_in") is not None:
            line += f" (full again in {seconds(float(dimension['reset_in']))})"
        lines.append(line)
    return lines
