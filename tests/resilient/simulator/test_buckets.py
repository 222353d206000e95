from __future__ import annotations

import pytest

from resilient.simulator.buckets import (
    Bucket,
    RateLimiter,
    give_back,
    refill,
    seconds_to_full,
    take,
    wait_for,
)

T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def bucket(level: float, limit: int = 60) -> Bucket:
    return Bucket(capacity=float(limit), per_second=limit / 60, level=level, updated=T0)


@pytest.mark.parametrize(
    ("level", "elapsed", "expected"),
    [
        (0, 0, 0),
        (0, 1, 1),  # 60/min refills one per second
        (10, 30, 40),
        (50, 30, 60),  # never above capacity
        (-5, 2, -3),  # a debt is paid back by the refill
        (10, -5, 10),  # a clock that steps back refills nothing
    ],
)
def test_it_refills_continuously(level, elapsed, expected):
    assert refill(bucket(level), T0 + elapsed).level == pytest.approx(expected)


@pytest.mark.parametrize(
    ("level", "amount", "expected_wait"),
    [
        (60, 1, 0),
        (1, 1, 0),
        (0, 1, 1),
        (0.5, 1, 0.5),
        (0, 3, 3),
        (-2, 1, 3),
        (0, 600, 60),  # larger than the bucket: wait for a full bucket, not forever
    ],
)
def test_it_says_how_long_to_wait(level, amount, expected_wait):
    assert wait_for(bucket(level), amount, T0) == pytest.approx(expected_wait)


@pytest.mark.parametrize(
    ("start", "operation", "amount", "expected"),
    [
        (60, take, 1, 59),
        (1, take, 5, -4),  # output is charged after the fact and may go into debt
        (10, give_back, 5, 15),
        (58, give_back, 5, 60),
    ],
)
def test_it_takes_and_gives_back(start, operation, amount, expected):
    assert operation(bucket(start), amount, T0).level == pytest.approx(expected)


@pytest.mark.parametrize(("level", "expected"), [(60, 0), (59, 1), (0, 60), (30, 30)])
def test_it_knows_when_it_is_full_again(level, expected):
    assert seconds_to_full(bucket(level), T0) == pytest.approx(expected)


def test_the_limiter_admits_until_a_bucket_is_empty_then_names_it():
    clock = FakeClock()
    limiter = RateLimiter(rpm=2, itpm=None, otpm=None, clock=clock)
    assert limiter.admit(10, 10)[0].allowed
    assert limiter.admit(10, 10)[0].allowed
    refused, reserved = limiter.admit(10, 10)
    assert (refused.allowed, refused.limited_by, refused.limit, reserved) == (
        False,
        "requests",
        2,
        0,
    )
    assert refused.retry_after == pytest.approx(30)  # 2/min refills one every 30 s
    clock.now += 30
    assert limiter.admit(10, 10)[0].allowed


def test_the_limiter_reserves_max_tokens_and_settles_to_the_real_output():
    clock = FakeClock()
    limiter = RateLimiter(rpm=None, itpm=None, otpm=600, clock=clock)
    admission, reserved = limiter.admit(0, 500)
    assert (admission.allowed, reserved) == (True, 500)
    assert limiter.snapshot()[0].remaining == 100
    limiter.settle_output(reserved, 40)
    assert limiter.snapshot()[0].remaining == 560
    refused, _ = limiter.admit(0, 600)
    assert not refused.allowed and refused.limited_by == "output-tokens"
    assert refused.retry_after == pytest.approx(4)  # 40 tokens at 10 per second


def test_a_refused_request_takes_nothing_from_the_other_buckets():
    clock = FakeClock()
    limiter = RateLimiter(rpm=10, itpm=100, otpm=None, clock=clock)
    assert limiter.admit(60, 1)[0].allowed
    refused, _ = limiter.admit(60, 1)
    assert refused.limited_by == "input-tokens"
    remaining = {snap.name: snap.remaining for snap in limiter.snapshot()}
    assert remaining == {"requests": 9, "input-tokens": 40}


def test_an_unlimited_limiter_reports_nothing():
    limiter = RateLimiter(rpm=None, itpm=None, otpm=None, clock=FakeClock())
    assert limiter.admit(10**9, 10**9)[0].allowed
    assert limiter.snapshot() == []
