"""Pure rules: frames and coalescing, retrieval, the coach's prompt and messages, limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from course.content import Coach, Lab, Lesson
from labs.coach import api_messages, system_prefix
from labs.frames import Coalescer, clear_text_frame, partial, reply_body, text_frame
from labs.limits import RecentTurns, check_budget, check_rate, check_text
from labs.replies import StreamingReply
from resilient import BudgetLimits, Cap, ScopeSpend, Spend

# --- frames -----------------------------------------------------------------------------


def test_streamed_text_is_sanitised_markdown_replacing_the_last_block():
    update = StreamingReply().add("**Back off** <script>alert('x')</script> & more")
    frame = json.loads(text_frame(7, update))
    assert frame["target"] == "#msg-7-tail" and frame["swap"] == "innerHTML swapEmpty:true"
    assert (
        frame["content"]
        == "<p><strong>Back off</strong> &lt;script&gt;alert('x')&lt;/script&gt; &amp; more</p>\n"
    )


def test_settled_blocks_are_appended_once():
    reply = StreamingReply()
    reply.add("First paragraph.\n\nSecond")
    frame = json.loads(text_frame(7, reply.add(" one grows.\n\n- a list")))
    assert frame["content"].startswith("<p>Second one grows.</p>\n<ul>")
    assert (
        partial("#msg-7-settled", "beforeend swapEmpty:true", "<p>First paragraph.</p>\n")
        in (frame["content"])
    )


def test_a_frame_of_only_spaces_is_still_swapped():
    assert "swapEmpty:true" in json.loads(text_frame(1, StreamingReply().add(" ")))["swap"]


def test_a_restart_clears_the_text_and_carries_its_notice():
    frame = json.loads(clear_text_frame(3, "<p>why</p>"))
    assert frame["target"] == "#msg-3-text" and frame["swap"].startswith("innerHTML")
    assert frame["content"] == reply_body(3) + partial("#msg-3-notice", "innerHTML", "<p>why</p>")


def test_partial_escapes_its_attributes():
    assert partial('#a"b', "innerHTML", "<p>x</p>") == (
        '<hx-partial hx-target="#a&quot;b" hx-swap="innerHTML"><p>x</p></hx-partial>'
    )


@pytest.mark.parametrize(
    ("arrivals", "expected"),
    [
        # (time, text) arrivals -> what goes out at each arrival (None = kept)
        ([(0.0, "a"), (0.01, "b"), (0.02, "c"), (0.05, "d")], ["a", None, None, "bcd"]),
        ([(0.0, "a"), (0.1, "b"), (0.2, "c")], ["a", "b", "c"]),
        # a frame may go a fifth of the interval early, no earlier
        ([(0.0, "a"), (0.031, "b"), (0.032, "c")], ["a", None, "bc"]),
    ],
)
def test_coalescing_sends_at_most_one_frame_per_interval(arrivals, expected):
    coalescer = Coalescer(interval=0.04, max_chars=100)
    assert [coalescer.add(text, now) for now, text in arrivals] == expected


def test_the_pending_buffer_is_bounded():
    coalescer = Coalescer(interval=10.0, max_chars=10)
    coalescer.add("x", 0.0)
    outputs = [coalescer.add("abcd", 0.001 * i) for i in range(1, 4)]
    assert outputs == [None, None, "abcdabcdabcd"]
    assert coalescer.pending_chars == 0


def test_flush_and_reset():
    coalescer = Coalescer(interval=10.0)
    coalescer.add("a", 0.0)
    coalescer.add("b", 0.001)
    assert coalescer.flush(0.002) == "b"
    assert coalescer.flush(0.003) is None
    coalescer.add("c", 0.004)
    coalescer.reset()
    assert coalescer.flush(0.005) is None


# --- shared content -------------------------------------------------------------------

BODY = """A story about a night of 429s and a pager that would not stop.

## Understanding the HTTP 429

A 429 means too many requests. Read the `retry-after` header first and wait that many seconds.

```python
print("a 429 inside code is never quoted")
```

## Prompt caching

Prompt caching reuses a long static prefix at a tenth of the input price for later requests.
"""


LAB = Lab(
    slug="l",
    number=1,
    lesson="retry",
    title="Retries",
    subtitle="",
    mission="Design retries.",
    opener="How?",
    greeting="Hi.",
    coach=Coach(name="C", persona="You are a coach.", questions=("Q one?", "Q two?")),
)


# --- the coach's prompt ----------------------------------------------------------------------


def test_the_system_prefix_is_persona_and_lesson():
    lesson = Lesson("retry", 1, "Retry", "t", "h", BODY, (), "p", 1)
    prefix = system_prefix(LAB, lesson)
    assert prefix.startswith("You are a coach.")
    assert "Lesson 1: Retry" in prefix and "Prompt caching reuses" in prefix


def test_api_messages_alternate_and_start_with_the_learner():
    history = [
        ("assistant", "stray"),
        ("user", "first"),
        ("user", "again, since the reply failed"),
        ("assistant", "answer"),
        ("user", " "),
        ("user", "next"),
    ]
    assert api_messages(history) == [
        {"role": "user", "content": "first\n\nagain, since the reply failed"},
        {"role": "assistant", "content": "answer"},
        {"role": "user", "content": "next"},
    ]


# --- limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("hello", None),
        ("", "Type a message"),
        ("  \n", "Type a message"),
        (None, "Type a message"),
        (["list"], "Type a message"),
        ("x" * 11, "limit is 10"),
        ("x" * 10, None),
    ],
)
def test_check_text(text, problem):
    result = check_text(text, 10)
    assert (result is None) if problem is None else (problem in result)


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ages", "limit", "wait"),
    [
        ([], 2, None),
        ([10], 2, None),
        ([10, 50], 2, "Wait 10 s"),
        ([10, 50, 61], 2, "Wait 10 s"),
        ([59.5, 1], 2, "Wait 1 s"),
    ],
)
def test_check_rate(ages, limit, wait):
    inside = [NOW - timedelta(seconds=age) for age in ages if age < 60]
    result = check_rate(RecentTurns(len(inside), min(inside, default=None)), NOW, limit)
    assert (result is None) if wait is None else (wait in result)


LIMITS = BudgetLimits(Cap(cost_usd=0.5), Cap(cost_usd=2), Cap(cost_usd=50))


@pytest.mark.parametrize(
    ("spent", "problem"),
    [
        ((0.49, 1, 10), None),
        ((0.50, 1, 10), "This conversation has used its budget ($0.50)"),
        ((0.1, 2, 10), "You have used today's coach budget ($2.00)"),
        ((0.1, 1, 50), "for everyone"),
        ((0.5, 2, 50), "This conversation"),  # the narrowest scope is named
    ],
)
def test_check_budget(spent, problem):
    result = check_budget(ScopeSpend(*(Spend(0, cost) for cost in spent)), LIMITS)
    assert (result is None) if problem is None else (problem in result)
