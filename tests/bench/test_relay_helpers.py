"""The relay benchmark's own arithmetic: reading the page's frames, percentiles."""

from __future__ import annotations

import json
import math

import pytest

from bench.relay import percentile
from bench.relay_learners import Turn, read_frame


def frame(**data: object) -> str:
    return json.dumps(data)


def test_it_follows_a_turn_from_accepted_to_final_frame() -> None:
    turn = Turn(sent=10.0)
    accepted = frame(target="#transcript", swap="beforeend", content="", accepted=True, turn=7)
    assert not read_frame(turn, accepted, 10.01)
    assert turn.turn_id == 7 and turn.ttft is None
    text = frame(target="#msg-3-tail", swap="innerHTML swapEmpty:true", content="<p>a</p>")
    assert not read_frame(turn, text, 10.3)
    more = frame(target="#msg-3-tail", swap="innerHTML swapEmpty:true", content="<p>a b</p>")
    assert not read_frame(turn, more, 10.4)
    assert read_frame(turn, frame(target="#msg-3", swap="outerHTML", content="", busy=False), 11)
    assert turn.ttft == pytest.approx(0.3)  # the first text frame, not the later ones
    assert turn.done == 11 and turn.error == ""


def test_it_ends_a_turn_on_a_refusal() -> None:
    turn = Turn(sent=0.0)
    refusal = frame(target="#chat-alert", swap="innerHTML", content="wait", error=True)
    assert read_frame(turn, refusal, 0.1)
    assert turn.error == "refused"
    assert turn.ttft is None


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 0.95, 5.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 0.5, 3.0),
        ([1.0, 2.0], 0.5, 1.5),
        ([4.0, 1.0, 3.0, 2.0], 1.0, 4.0),
        ([10.0, 20.0, 30.0, 40.0, 50.0], 0.95, 48.0),
    ],
)
def test_percentile(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 0.5))
