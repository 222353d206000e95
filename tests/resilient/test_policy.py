from __future__ import annotations

import email.utils

import pytest

from resilient.policy import (
    INTERACTIVE,
    Failure,
    RetryPolicy,
    backoff,
    decide,
    parse_retry_after,
    should_retry_header,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # ms wins
        ({"retry-after-ms": "junk", "retry-after": "3"}, 3.0),
        ({"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"retry-after": email.utils.formatdate(NOW - 30, usegmt=True)}, None),  # in the past
        ({"retry-after": "-1"}, None),
        ({"retry-after": "soon"}, None),
    ],
)
def test_it_parses_retry_after(headers, expected):
    assert parse_retry_after(headers, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("true", True), ("false", False), (None, None), ("maybe", None)]
)
def test_it_reads_x_should_retry(value, expected):
    headers = {} if value is None else {"x-should-retry": value}
    assert should_retry_header(headers) is expected


@pytest.mark.parametrize(
    ("jitter", "retry", "previous", "rand", "expected"),
    [
        ("none", 1, 0.0, 0.7, 0.5),
        ("none", 3, 0.0, 0.7, 2.0),
        ("none", 10, 0.0, 0.7, 8.0),  # capped
        ("full", 3, 0.0, 0.0, 0.0),
        ("full", 3, 0.0, 0.5, 1.0),
        ("equal", 3, 0.0, 0.0, 1.0),
        ("equal", 3, 0.0, 0.99, 1.99),
        ("decorrelated", 1, 0.0, 0.0, 0.5),
        ("decorrelated", 2, 2.0, 1.0, 6.0),  # up to 3x the previous wait
        ("decorrelated", 5, 4.0, 1.0, 8.0),  # but never above the cap
    ],
)
def test_backoff_table(jitter, retry, previous, rand, expected):
    policy = RetryPolicy(base=0.5, cap=8.0, jitter=jitter)
    assert backoff(policy, retry, previous, rand) == pytest.approx(expected)


POLICY = RetryPolicy(
    max_attempts=4,
    base=1.0,
    cap=8.0,
    jitter="none",
    deadline=30.0,
    max_single_wait=10.0,
    retry_after_jitter=0.0,
)


@pytest.mark.parametrize(
    ("failure", "attempt", "elapsed", "delay", "reason_part", "stopped"),
    [
        (Failure("529 overloaded", True), 1, 0.0, 1.0, "backoff 1.00s", ""),
        (Failure("529 overloaded", True), 3, 0.0, 4.0, "backoff 4.00s", ""),
        (Failure("429 rate limited", True, retry_after=2.0), 1, 0.0, 2.0, "retry-after 2s", ""),
        (Failure("400 invalid request", False), 1, 0.0, None, "not retriable", "not_retriable"),
        (Failure("529 overloaded", True), 4, 0.0, None, "gave up after 4 attempts", "attempts"),
        (
            Failure("429 rate limited", True, retry_after=60.0),
            1,
            0.0,
            None,
            "asked to wait 60s",
            "long_wait",
        ),
        (Failure("529 overloaded", True), 2, 29.5, None, "30s deadline", "deadline"),
    ],
)
def test_decide_table(failure, attempt, elapsed, delay, reason_part, stopped):
    decision = decide(
        POLICY, failure, attempt=attempt, elapsed=elapsed, previous_delay=0.0, rand=0.5
    )
    assert decision.delay == delay
    assert reason_part in decision.reason
    assert failure.label in decision.reason
    assert decision.stopped == stopped


def test_retry_after_is_spread_upwards_only():
    policy = RetryPolicy(retry_after_jitter=0.1, jitter="none")
    failure = Failure("429 rate limited", True, retry_after=2.0)
    delays = [
        decide(policy, failure, attempt=1, elapsed=0, previous_delay=0, rand=r).delay
        for r in (0.0, 0.5, 0.999)
    ]
    assert delays[0] == 2.0
    assert all(2.0 <= d <= 2.2 for d in delays)
    assert len(set(delays)) == 3


def test_interactive_preset_is_short():
    assert INTERACTIVE.retry.max_attempts <= 4
    assert INTERACTIVE.timeouts.first_token <= 15
    assert INTERACTIVE.retry.deadline <= 60
