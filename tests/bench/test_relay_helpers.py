"""The relay benchmark's own arithmetic: frame reading, percentiles, profile stages."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.learners import Turn, read_frame
from bench.profile import OTHER_STAGE, stage, summarise
from bench.relay_report import percentile


def frame(**data: object) -> str:
    return json.dumps(data)


def test_it_follows_a_turn_from_accepted_to_final_frame() -> None:
    turn = Turn(sent=10.0)
    accepted = frame(target="#transcript", swap="beforeend", content="", accepted=True, turn=7)
    assert not read_frame(turn, accepted, 10.01)
    text = frame(
        target="#msg-3-tail", swap="innerHTML swapEmpty:true", content="<p>a &lt;b&gt;</p>"
    )
    assert not read_frame(turn, text, 10.3)
    settled = '<hx-partial hx-target="#msg-3-settled" hx-swap="beforeend">a &lt;b&gt;</hx-partial>'
    more = frame(target="#msg-3-tail", swap="innerHTML swapEmpty:true", content=" word" + settled)
    assert not read_frame(turn, more, 10.4)
    assert read_frame(turn, frame(target="#msg-3", swap="outerHTML", content="", busy=False), 11)
    assert turn.turn_id == 7
    assert turn.ttft == pytest.approx(0.3)
    assert turn.text == "a <b> word"
    assert turn.tokens == 3  # "a", " <b>", " word": the simulator's pieces
    assert turn.stream_seconds == pytest.approx(0.7)
    assert turn.error == ""


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


SIM = "Simulator._events (resilient/simulator/engine.py:280)"
SDK = "AsyncStream.__stream__ (anthropic/_streaming.py:50)"
DB = "SQLiteCursorWrapper.execute (django/db/backends/sqlite3/base.py:360)"
BUDGET = "TurnBudgetStore._stored (labs/store.py:200)"
SEND = "LabChatConsumer.to_self (labs/consumers.py:99)"
SELECT = "EpollSelector.select (selectors.py:468)"


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        ([SEND, SDK, SIM], "simulator (absent in production)"),
        ([SDK, BUDGET, DB], "database"),
        ([SEND, SDK], "SDK + resilient client"),
        ([SEND], OTHER_STAGE),
        (["BaseEventLoop.run_forever (asyncio/base_events.py:607)", SELECT], "waiting for events"),
    ],
)
def test_profile_stage(frames: list[str], expected: str) -> None:
    assert stage(frames) == expected


def test_profile_summary_shares(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_text(f"{SEND};{SDK};{SIM} 30\n{SEND};{SDK} 50\n{SEND};{BUDGET};{DB} 20\n")
    lines = summarise(raw)
    assert lines[0].startswith("profile: 100 samples")
    assert "SDK + resilient client 50%" in lines[1]
    assert "simulator (absent in production) 30%" in lines[1]
    assert "database 20%" in lines[1]
