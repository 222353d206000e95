"""RedisGovernor: two processes share one limit through Redis at 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
import redis.asyncio

from resilient.governor import BucketLimit, Cost, Limits, WaitTooLong
from resilient.ratelimit_headers import Dimension, RateLimitSnapshot
from resilient.redis_governor import RedisGovernor

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def prefix():
    if not redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis reachable at {REDIS_URL}: start one to run the shared-limit tests")
    key = f"test:governor:{uuid.uuid4().hex}"
    yield key
    client = redis.Redis.from_url(REDIS_URL)
    for name in client.scan_iter(f"{key}:*"):
        client.delete(name)


# 10 requests of burst, 100 per second after that.
LIMITS = "Limits(requests=BucketLimit(capacity=10, refill_per_second=100))"
WORKER = f"""
import asyncio, sys, time
from resilient.governor import BucketLimit, Cost, Limits
from resilient.redis_governor import RedisGovernor

async def main():
    gov = RedisGovernor(sys.argv[1], sys.argv[2], limits={LIMITS})
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.monotonic()
    for _ in range(60):
        await gov.acquire(Cost())
        await gov.release()
    print(time.monotonic() - start, flush=True)
    await gov.aclose()

asyncio.run(main())
"""


def test_two_processes_share_one_limit(prefix):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, REDIS_URL, prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        started = time.monotonic()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=30)[0] for p in procs]
        elapsed = time.monotonic() - started
    finally:
        for p in procs:
            p.kill()
    assert all(p.returncode == 0 for p in procs), outputs
    # 120 requests, 10 of burst, 100/s: one shared bucket needs >= 1.1 s. Two separate
    # buckets would each need only 0.5 s.
    assert elapsed >= 1.0, f"processes did not share the limit ({elapsed:.2f}s)"
    assert elapsed < 10


async def test_headers_lower_the_shared_level_and_settle_refunds(prefix):
    gov = RedisGovernor(REDIS_URL, prefix, limits=Limits(output_tokens=BucketLimit(6000, 100)))
    # Another worker, configured by nobody (no latency headroom: the sums below are exact).
    other = RedisGovernor(REDIS_URL, prefix, headroom_seconds=0)
    try:
        await gov.acquire(Cost(1, 0, 4000))
        await gov.release()
        await other.settle(Cost(1, 0, 4000), Cost(1, 0, 1000))  # 3000 unused, given back
        started = time.monotonic()
        assert await other.acquire(Cost(1, 0, 5000)) < 0.5
        await other.release()
        # Headers say the organisation has nothing left: everyone waits.
        await gov.observe(RateLimitSnapshot(output_tokens=Dimension(6000, 0, 60.0)))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await other.acquire(Cost(1, 0, 2000))
        assert time.monotonic() - started < 5
    finally:
        await gov.aclose()
        await other.aclose()


async def test_a_penalty_blocks_every_process(prefix):
    a = RedisGovernor(REDIS_URL, prefix)
    b = RedisGovernor(REDIS_URL, prefix)
    try:
        await a.penalize(0.3)
        started = time.monotonic()
        await b.acquire(Cost())
        assert time.monotonic() - started >= 0.25
    finally:
        await a.aclose()
        await b.aclose()


async def test_an_unreachable_redis_does_not_block_calls():
    gov = RedisGovernor("redis://127.0.0.1:1/0", "nowhere", socket_timeout=0.2)
    assert await gov.acquire(Cost()) < 1.0
    await gov.release()
    await gov.aclose()


class FirstRoundTripHeld(redis.asyncio.Redis):
    """A client whose first script call waits for `gate`, as a cold connection would."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.held = False

    async def evalsha(self, *args, **kwargs):
        if not self.held:
            self.held = True
            await self.gate.wait()
        return await super().evalsha(*args, **kwargs)


class MustWait(Exception):
    pass


async def refuse_to_wait(delay: float) -> None:
    raise MustWait(delay)


async def test_no_request_passes_while_the_configured_limits_are_still_being_written(prefix):
    client = FirstRoundTripHeld.from_url(REDIS_URL)
    gov = RedisGovernor(
        REDIS_URL,
        prefix,
        # Two requests of burst and (practically) no refill during the test.
        limits=Limits(requests=BucketLimit(capacity=2, refill_per_second=0.001)),
        headroom_seconds=0,
        sleep=refuse_to_wait,
        client=client,
    )
    try:
        burst = [asyncio.create_task(gov.acquire(Cost())) for _ in range(4)]
        # The first acquire writes the limits and is held there; the others must not get
        # through meanwhile on a bucket that does not exist yet.
        await asyncio.wait(burst, timeout=0.3)
        client.gate.set()
        outcomes = await asyncio.gather(*burst, return_exceptions=True)
        granted = [o for o in outcomes if not isinstance(o, BaseException)]
        told_to_wait = [o for o in outcomes if isinstance(o, MustWait)]
        assert (len(granted), len(told_to_wait)) == (2, 2), outcomes
    finally:
        await gov.aclose()


async def test_a_request_waits_until_headroom_for_latency_is_left(prefix):
    # One request per second, two of burst, half a second of refill kept in hand.
    limits = Limits(requests=BucketLimit(capacity=2, refill_per_second=1.0))
    gov = RedisGovernor(
        REDIS_URL, prefix, limits=limits, headroom_seconds=0.5, sleep=refuse_to_wait
    )
    try:
        await gov.acquire(Cost())  # 2 -> 1 token
        await gov.release()
        # One token is there, but sending now leaves no margin for this request arriving at
        # the API sooner after the previous one than it left here.
        with pytest.raises(MustWait) as waited:
            await gov.acquire(Cost())
        assert 0.4 <= waited.value.args[0] <= 0.55, waited.value.args
    finally:
        await gov.aclose()


async def test_a_request_as_large_as_the_bucket_still_goes_when_it_is_full(prefix):
    limits = Limits(output_tokens=BucketLimit(capacity=1000, refill_per_second=100.0))
    gov = RedisGovernor(
        REDIS_URL, prefix, limits=limits, headroom_seconds=0.5, sleep=refuse_to_wait
    )
    try:
        assert await gov.acquire(Cost(1, 0, 1000)) < 0.5
        await gov.release()
    finally:
        await gov.aclose()


async def test_without_configured_limits_one_probe_goes_first_for_every_process(prefix):
    # Two workers, neither told the limits: the first request anywhere goes alone and the
    # others wait for its headers, which then pace everyone.
    one = RedisGovernor(REDIS_URL, prefix, headroom_seconds=0)
    two = RedisGovernor(REDIS_URL, prefix, headroom_seconds=0)
    try:
        assert await one.acquire(Cost(1, 0, 0)) < 0.5  # the probe
        waiting = asyncio.create_task(two.acquire(Cost(1, 0, 0)))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "another process's request went out before the limits"
        # The probe's response: 2 requests a minute, 1 left after the probe itself.
        await one.observe(RateLimitSnapshot(requests=Dimension(2, 1, 60.0)))
        await one.release()
        assert await asyncio.wait_for(waiting, 2) < 2.0
        await two.release()
        with pytest.raises(TimeoutError):  # the bucket the probe learnt is now empty
            async with asyncio.timeout(0.3):
                await one.acquire(Cost(1, 0, 0))
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_probe_without_rate_limit_headers_stops_everyone_waiting(prefix):
    one = RedisGovernor(REDIS_URL, prefix)
    two = RedisGovernor(REDIS_URL, prefix)
    try:
        await one.acquire(Cost(1, 0, 0))
        waiting = asyncio.create_task(two.acquire(Cost(1, 0, 0)))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await one.release()  # the response carried no limits: the API sends none
        await asyncio.wait_for(waiting, 2)
        await two.release()
        assert await asyncio.wait_for(one.acquire(Cost(1, 0, 0)), 1) < 0.5
        await one.release()
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_shared_block_longer_than_the_caller_allows_is_refused_at_once(prefix):
    """A 429's `retry-after` on one worker blocks every worker; an interactive caller on
    another does not wait past what it allows, and takes nothing from the buckets."""
    one = RedisGovernor(REDIS_URL, prefix, limits=Limits.per_minute(rpm=600))
    other = RedisGovernor(REDIS_URL, prefix, limits=Limits.per_minute(rpm=600))
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    other._sleep = record
    try:
        await one.penalize(75)
        with pytest.raises(WaitTooLong) as refused:
            await other.acquire(Cost(), max_wait=10)
        assert 70 < refused.value.wait < 76 and slept == []
    finally:
        await one.aclose()
        await other.aclose()


async def test_a_shared_block_within_the_callers_limit_is_announced_and_waited(prefix):
    one = RedisGovernor(REDIS_URL, prefix, limits=Limits.per_minute(rpm=600))
    other = RedisGovernor(REDIS_URL, prefix, limits=Limits.per_minute(rpm=600))
    announced: list[float] = []
    try:
        await one.penalize(0.3)
        waited = await other.acquire(Cost(), max_wait=10, on_wait=announced.append)
        assert announced and 0.1 < announced[0] <= 0.3 and waited >= announced[0]
    finally:
        await one.aclose()
        await other.aclose()
