"""The turn's picture: bars on a time axis, and the same story in words."""

from __future__ import annotations

from labs import timeline

STORM = {
    "spans": [
        {"kind": "request", "start": 0.0, "end": 0.02, "attempt": 1, "note": "429 rate limited"},
        {
            "kind": "wait",
            "start": 0.02,
            "end": 1.05,
            "attempt": 1,
            "note": "429 rate limited; retry-after 1s",
        },
        {"kind": "governor", "start": 1.05, "end": 1.3, "attempt": 2, "note": "paced"},
        {"kind": "request", "start": 1.3, "end": 1.7, "attempt": 2, "note": ""},
        {"kind": "stream", "start": 1.7, "end": 4.0, "attempt": 2, "note": ""},
    ]
}


def test_each_attempt_is_a_row_and_time_runs_left_to_right():
    picture = timeline.build(STORM, outcome="completed", ttft_ms=1700, latency_ms=4000)
    assert picture is not None
    assert [row.label for row in picture.rows] == ["Attempt 1", "Attempt 2"]
    xs = [bar.x for bar in picture.bars]
    assert xs == sorted(xs) and xs[0] == 0  # percent of the plot: the page gives the width
    assert picture.bars[-1].x + picture.bars[-1].width == 100
    rows = {bar.kind: bar.y for bar in picture.bars}
    assert rows["request"] > picture.bars[0].y  # the last request is on the second row
    assert picture.bars[1].text == "retry-after" and picture.bars[0].failed
    assert picture.first_words is not None and picture.first_words.x < picture.end.x
    assert [tick.label for tick in picture.ticks][:3] == ["0 s", "1 s", "2 s"]


def test_the_sentences_say_what_the_bars_show():
    picture = timeline.build(STORM, outcome="completed", ttft_ms=1700, latency_ms=4000)
    assert picture is not None
    assert picture.steps == (
        "Attempt 1 sent at 0.00 s; after 0.02 s it failed: 429 rate limited.",
        "Waited 1.03 s before the next attempt (retry-after 1s).",
        "Attempt 2 held back 0.25 s by our own pacing (the rate limits).",
        "Attempt 2 sent at 1.30 s; its first words came 0.40 s later.",
        "Text arrived for 2.30 s, until 4.00 s.",
        "Time to first token: 1.70 s.",
        "Reply complete after 4.00 s.",
    )
    assert picture.summary.startswith("Timeline of the reply: 2 attempts, 1 wait.")


def test_a_call_that_gave_up_says_why():
    trace = {**STORM, "stopped": "deadline", "why": "529 overloaded; waiting 4s would pass"}
    picture = timeline.build(trace, outcome="degraded", ttft_ms=None, latency_ms=4000)
    assert picture is not None and picture.first_words is None
    assert picture.steps[-1] == (
        "The client stopped after 4.00 s: another wait would have passed the reply's deadline."
    )


def test_a_turn_without_spans_has_no_picture():
    assert timeline.build({}, outcome="cancelled", ttft_ms=None, latency_ms=10) is None


def test_headroom_reads_as_what_is_left():
    lines = timeline.headroom_lines(
        {
            "requests": {"limit": 50, "remaining": 48, "reset_in": 2.4},
            "output_tokens": {"limit": 8000, "remaining": 7000, "reset_in": None},
        }
    )
    assert lines == [
        "48 of 50 requests left this minute (full again in 2.40 s)",
        "7,000 of 8,000 output tokens left this minute",
    ]


def test_a_bar_too_narrow_for_its_word_at_the_widest_carries_none():
    picture = timeline.build(STORM, outcome="completed", ttft_ms=1700, latency_ms=4000)
    assert picture is not None
    request, wait, governor, *_ = picture.bars
    assert request.text == "" and request.width * timeline.PLOT / 100 >= timeline.MIN_BAR
    assert wait.text == "retry-after"
    assert governor.text == ""  # 0.25 s of 4 s is 33 px at the widest: too narrow for "pacing"
