from __future__ import annotations

import asyncio

import pytest

from resilient.governor import BucketLimit, Cost, Governor, Limits, WaitTooLong
from resilient.ratelimit_headers import Dimension, RateLimitSnapshot


class FakeTime:
    """A clock that only moves when someone sleeps: pacing is exact and instant."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def governor(
    t: FakeTime, limits: Limits | None = None, concurrency: int | None = None, headroom=0.0
):
    # No latency headroom by default: the pacing arithmetic below is exact.
    return Governor(
        limits, concurrency=concurrency, clock=t.clock, sleep=t.sleep, headroom_seconds=headroom
    )


async def test_a_burst_is_paced_at_the_refill_rate_after_the_bucket_empties():
    t = FakeTime()
    gov = governor(t, Limits(requests=BucketLimit(capacity=5, refill_per_second=1.0)))
    sent_at = []
    waits = []

    async def one():
        asked = t.now
        waited = await gov.acquire(Cost())
        sent_at.append(t.now)
        waits.append(waited)
        assert waited == pytest.approx(t.now - asked)
        await gov.release()

    await asyncio.gather(*(one() for _ in range(10)))
    assert sent_at == pytest.approx([0, 0, 0, 0, 0, 1, 2, 3, 4, 5])
    assert gov.waited_total == pytest.approx(sum(waits)) and gov.waited_total > 0


async def test_the_tightest_dimension_binds():
    t = FakeTime()
    limits = Limits.per_minute(rpm=600, itpm=6000)  # 100 input tokens per second
    gov = governor(t, limits)
    for _ in range(6):
        await gov.acquire(Cost(1, 1000, 0))
    assert t.now == 0.0  # the full bucket (6000) is a burst allowance
    await gov.acquire(Cost(1, 1000, 0))
    assert t.now == pytest.approx(10.0)


async def test_without_limits_or_headers_nothing_waits():
    t = FakeTime()
    gov = governor(t)
    for _ in range(100):
        assert await gov.acquire(Cost(1, 10_000, 4096)) == 0.0
        await gov.release()
    assert t.now == 0.0


async def test_before_limits_are_known_only_one_probe_is_in_flight():
    t = FakeTime()
    gov = governor(t)
    await gov.acquire(Cost(1, 500, 0))  # the probe
    second = asyncio.create_task(gov.acquire(Cost(1, 500, 0)))
    await asyncio.sleep(0.01)
    assert not second.done()  # sending blind would leave it out of our bucket copy
    await gov.observe(RateLimitSnapshot(input_tokens=Dimension(6000, 5500, 0.0)))
    await asyncio.wait_for(second, 1)
    assert gov.level("input_tokens") == 5000
    await gov.release()
    await gov.release()


async def test_headers_seed_unknown_limits_and_only_ever_lower_the_level():
    t = FakeTime()
    gov = governor(t)
    await gov.observe(RateLimitSnapshot(requests=Dimension(60, 2, 0.0)))
    assert gov.level("requests") == 2
    await gov.acquire(Cost())
    await gov.acquire(Cost())
    await gov.acquire(Cost())  # bucket empty: waits one refill (60/min = 1/s)
    assert t.now == pytest.approx(1.0)
    await gov.observe(RateLimitSnapshot(requests=Dimension(60, 50, 0.0)))  # stale, higher
    assert gov.level("requests") == pytest.approx(0.0)
    # Another process took tokens: the header is lower than our own count.
    t.now += 30
    await gov.observe(RateLimitSnapshot(input_tokens=Dimension(6000, 1000, 0.0)))
    assert gov.level("input_tokens") == 1000  # new bucket starts at the header
    await gov.observe(RateLimitSnapshot(input_tokens=Dimension(6000, 0, 0.0)))
    # Token counts are rounded to the nearest thousand: up to 500 may still be there.
    assert gov.level("input_tokens") == 500


async def test_settle_refunds_unused_output_and_charges_underestimated_input():
    t = FakeTime()
    gov = governor(t, Limits.per_minute(itpm=60_000, otpm=60_000))
    await gov.acquire(Cost(1, 1000, 4000))
    await gov.settle(Cost(1, 1000, 4000), Cost(1, 1500, 300))
    assert gov.level("output_tokens") == pytest.approx(60_000 - 300)
    assert gov.level("input_tokens") == pytest.approx(60_000 - 1500)


async def test_a_429_blocks_everyone_for_its_retry_after():
    t = FakeTime()
    gov = governor(t)
    await gov.penalize(3.0)
    waited = await gov.acquire(Cost())
    assert waited == pytest.approx(3.0)


async def test_the_concurrency_limit_holds_requests_in_flight():
    t = FakeTime()
    gov = governor(t, Limits.per_minute(rpm=600), concurrency=2)
    await gov.acquire(Cost())
    await gov.acquire(Cost())
    third = asyncio.create_task(gov.acquire(Cost()))
    await asyncio.sleep(0)
    assert not third.done()
    await gov.release()
    await asyncio.wait_for(third, 1)


async def test_a_cancelled_waiter_gives_its_slot_back():
    t = FakeTime()
    gov = Governor(Limits(requests=BucketLimit(1, 0.001)), concurrency=1, clock=t.clock)
    await gov.acquire(Cost())
    await gov.release()
    waiter = asyncio.create_task(gov.acquire(Cost()))  # real sleep of ~1000 s
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gov2_slot = asyncio.create_task(gov._semaphore.acquire())
    await asyncio.wait_for(gov2_slot, 1)


async def test_headroom_keeps_refill_in_hand_so_latency_differences_do_not_earn_429s():
    t = FakeTime()
    limits = Limits(requests=BucketLimit(capacity=5, refill_per_second=1.0))
    gov = governor(t, limits, headroom=0.5)
    sent_at = []

    async def one():
        await gov.acquire(Cost())
        sent_at.append(t.now)
        await gov.release()

    await asyncio.gather(*(one() for _ in range(8)))
    # The burst is half a second of refill smaller; after it, the rate is the same.
    assert sent_at == pytest.approx([0, 0, 0, 0, 0.5, 1.5, 2.5, 3.5])


# A `retry-after` blocks every request of the process; a caller says how long it may wait.


async def test_a_wait_longer_than_the_caller_allows_is_refused_at_once():
    t = FakeTime()
    gov = governor(t)
    await gov.penalize(75)
    with pytest.raises(WaitTooLong) as refused:
        await gov.acquire(Cost(), max_wait=10)
    assert refused.value.wait == pytest.approx(75)
    assert t.now == 0.0  # not a moment spent waiting
    # Nothing was taken: a caller allowed to wait still gets through, after the block.
    assert await gov.acquire(Cost()) == pytest.approx(75)


async def test_a_wait_within_the_limit_is_announced_then_made():
    t = FakeTime()
    gov = governor(t)
    await gov.penalize(4)
    announced = []
    waited = await gov.acquire(Cost(), max_wait=10, on_wait=announced.append)
    assert announced == [pytest.approx(4)] and waited == pytest.approx(4)


async def test_pacing_that_would_pass_the_limit_is_refused_without_taking_anything():
    t = FakeTime()
    gov = governor(t, Limits(requests=BucketLimit(capacity=1, refill_per_second=0.05)))
    await gov.acquire(Cost())  # the bucket is empty now: the next request waits 20 s
    with pytest.raises(WaitTooLong) as refused:
        await gov.acquire(Cost(), max_wait=5)
    assert refused.value.wait == pytest.approx(20)
    assert gov.level("requests") == pytest.approx(0.0)


async def test_a_caller_queued_behind_a_slot_gives_up_when_its_limit_passes():
    gov = Governor(concurrency=1)
    await gov.acquire(Cost())  # holds the only slot
    started = asyncio.get_running_loop().time()
    with pytest.raises(WaitTooLong):
        await gov.acquire(Cost(), max_wait=0.05)
    assert asyncio.get_running_loop().time() - started < 1
    await gov.release()
    await gov.acquire(Cost(), max_wait=0.05)  # the slot it did not take is free


async def test_a_probe_that_gives_up_lets_the_next_request_probe():
    t = FakeTime()
    gov = governor(t)  # no limits known: the first request is the probe
    await gov.penalize(30)
    with pytest.raises(WaitTooLong):
        await gov.acquire(Cost(), max_wait=1)
    # Had the refused probe kept its lock, this would wait for headers that never come.
    assert await asyncio.wait_for(gov.acquire(Cost()), 1) == pytest.approx(30)
