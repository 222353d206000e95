"""Proactive pacing: wait for capacity *before* sending, instead of collecting 429s.

The API meters requests, input tokens and output tokens with token buckets that refill
continuously (limit/60 per second). The governor keeps a client-side copy of those buckets:
each request debits one request, its estimated input tokens and its `max_tokens` (the API
reserves output by `max_tokens` and settles the difference at the end), waits when a bucket is
short, and corrects itself from the `anthropic-ratelimit-*` headers and the real usage of every
response. A concurrency limit bounds how many requests are in flight at once (lesson 3's
semaphore). With no limits configured, the first request is sent alone and its headers seed
the buckets; an API that sends no rate-limit headers is not paced.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from resilient.ratelimit_headers import Dimension, RateLimitSnapshot

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
# Told each wait (seconds) the governor is about to make a request sit through.
OnWait = Callable[[float], None]


class WaitTooLong(Exception):
    """The governor would hold the request longer than its caller allows (`max_wait`)."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the rate limit would hold this request for {wait:.1f}s")
        self.wait = wait


DIMENSIONS = ("requests", "input_tokens", "output_tokens")

# Token "remaining" headers are rounded to the nearest thousand: the true value is at most this
# much above the header, so correcting down to header + slack never undercounts what is left.
TOKEN_ROUNDING_SLACK = 500.0


@dataclass(frozen=True, slots=True)
class BucketLimit:
    capacity: float
    refill_per_second: float

    @classmethod
    def per_minute(cls, limit: float) -> BucketLimit:
        return cls(capacity=limit, refill_per_second=limit / 60.0)


@dataclass(frozen=True, slots=True)
class Limits:
    requests: BucketLimit | None = None
    input_tokens: BucketLimit | None = None
    output_tokens: BucketLimit | None = None

    @classmethod
    def per_minute(
        cls, rpm: float | None = None, itpm: float | None = None, otpm: float | None = None
    ) -> Limits:
        return cls(
            requests=BucketLimit.per_minute(rpm) if rpm else None,
            input_tokens=BucketLimit.per_minute(itpm) if itpm else None,
            output_tokens=BucketLimit.per_minute(otpm) if otpm else None,
        )


@dataclass(frozen=True, slots=True)
class Cost:
    requests: float = 1.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0

    def get(self, dimension: str) -> float:
        return float(getattr(self, dimension))


@dataclass(slots=True)
class Bucket:
    capacity: float
    rate: float
    level: float
    updated: float

    def refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
            self.updated = now

    def wait_for(self, amount: float, headroom: float = 0.0) -> float:
        """Seconds until `amount` fits with `headroom` seconds of refill to spare (an amount
        above capacity waits for a full bucket)."""
        need = min(amount + headroom * self.rate, self.capacity) - self.level
        if need <= 0:
            return 0.0
        return need / self.rate if self.rate > 0 else float("inf")


def header_dimensions(snapshot: RateLimitSnapshot) -> dict[str, Dimension]:
    found = {
        "requests": snapshot.requests,
        "input_tokens": snapshot.input_tokens,
        "output_tokens": snapshot.output_tokens,
    }
    return {name: dim for name, dim in found.items() if dim is not None}


def corrected_level(dimension: str, remaining: int) -> float:
    return remaining + (TOKEN_ROUNDING_SLACK if dimension != "requests" else 0.0)


class RateGovernor(Protocol):
    """What the client needs from a governor (in memory or shared through Redis)."""

    waited_total: float

    async def acquire(
        self, cost: Cost, *, max_wait: float | None = None, on_wait: OnWait | None = None
    ) -> float:
        """Wait for a concurrency slot and for capacity, debit `cost`; return seconds waited.

        A wait that would take longer than `max_wait` in all raises `WaitTooLong` at once
        (nothing is debited, no slot kept); `on_wait` hears each wait before it is made.
        """
        ...

    async def release(self) -> None:
        """Give the concurrency slot back (always, also after a failure)."""
        ...

    async def observe(self, snapshot: RateLimitSnapshot) -> None:
        """Learn limits / correct levels from a response's headers."""
        ...

    async def settle(self, reserved: Cost, actual: Cost) -> None:
        """Replace the reservation by what the response really used."""
        ...

    async def penalize(self, delay: float) -> None:
        """A 429 arrived anyway: nobody sends for `delay` seconds."""
        ...


# Our bucket starts refilling when we let the first request go, the API's when that request
# arrives; later requests may arrive faster than the first. Paced at exactly the limit, a
# request sent the moment our bucket holds one token can find the API's bucket a fraction of a
# token short: measured, 1-2 429s per 70-turn burst at 60 RPM over two workers. Keeping this
# much refill in hand absorbs that difference in latency; it costs burst, not throughput.
LATENCY_HEADROOM = 0.5  # seconds
# A wait is announced again only when it would end this much later than the one announced.
ANNOUNCE_SLACK = 0.5  # seconds


class Governor:
    """In-memory governor for one process. Waiters are served first come, first served."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        concurrency: int | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        headroom_seconds: float = LATENCY_HEADROOM,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._headroom = headroom_seconds
        self._buckets: dict[str, Bucket] = {}
        now = clock()
        for name in DIMENSIONS:
            limit = getattr(limits, name) if limits else None
            if limit is not None:
                self._buckets[name] = Bucket(
                    limit.capacity, limit.refill_per_second, limit.capacity, now
                )
        self._semaphore = asyncio.Semaphore(concurrency) if concurrency else None
        # One waiter at a time takes from the buckets, so a burst is served in arrival order
        # and paced at the refill rate instead of racing.
        self._lock = asyncio.Lock()
        self._blocked_until = 0.0
        self.waited_total = 0.0
        # With no configured limits, the first request goes out alone as a probe and the rest
        # wait for its headers: requests sent blind, before the limits are known, would be
        # missing from our copy of the buckets and earn 429s later.
        self._learned = bool(self._buckets)
        self._probe_lock = asyncio.Lock()
        self._probe_active = False

    def level(self, dimension: str) -> float | None:
        bucket = self._buckets.get(dimension)
        if bucket is None:
            return None
        bucket.refill(self._clock())
        return bucket.level

    def needed_wait(self, cost: Cost, now: float) -> float:
        wait = max(0.0, self._blocked_until - now)
        for name, bucket in self._buckets.items():
            bucket.refill(now)
            wait = max(wait, bucket.wait_for(cost.get(name), self._headroom))
        return wait

    async def acquire(
        self, cost: Cost, *, max_wait: float | None = None, on_wait: OnWait | None = None
    ) -> float:
        start = self._clock()
        limit = math.inf if max_wait is None else max_wait
        ahead = self.needed_wait(cost, start)  # what it would wait now, queue aside
        if ahead > limit:
            raise WaitTooLong(ahead)
        # Announced before queueing: the request ahead may sleep out this wait with the lock.
        told_until = -math.inf
        if ahead > 0 and on_wait is not None:
            on_wait(ahead)
            told_until = start + ahead
        if self._semaphore is not None:
            await self._within(self._semaphore.acquire(), start, limit, cost)
        probing = False
        try:
            probing = await self._within(self._await_limits(), start, limit, cost)
            await self._within(self._lock.acquire(), start, limit, cost)
            try:
                while (wait := self.needed_wait(cost, now := self._clock())) > 0:
                    if now - start + wait > limit:
                        raise WaitTooLong(now - start + wait)
                    if on_wait is not None and now + wait > told_until + ANNOUNCE_SLACK:
                        on_wait(wait)
                        told_until = now + wait
                    await self._sleep(wait)
                for name, bucket in self._buckets.items():
                    bucket.level -= min(cost.get(name), bucket.capacity)
            finally:
                self._lock.release()
        except BaseException:
            if probing:
                # Not sent after all: the next request probes instead (nothing was learnt).
                self._probe_active = False
                self._probe_lock.release()
            if self._semaphore is not None:
                self._semaphore.release()
            raise
        waited = self._clock() - start
        self.waited_total += waited
        return waited

    async def _within(self, step: Awaitable[T], start: float, limit: float, cost: Cost) -> T:
        """Await `step` (a queue: the slots, the probe, the first-come lock) for what is left of
        `limit`; past it, `WaitTooLong` with the best guess of the whole wait."""
        if math.isinf(limit):
            return await step
        left = limit - (self._clock() - start)
        try:
            async with asyncio.timeout(max(left, 0.0)):
                return await step
        except TimeoutError:
            raise WaitTooLong(limit + self.needed_wait(cost, self._clock())) from None

    async def _await_limits(self) -> bool:
        """Return once the limits are known (False), or with this request the probe (True)."""
        if self._learned:
            return False
        await self._probe_lock.acquire()
        if self._learned:
            self._probe_lock.release()
            return False
        self._probe_active = True  # held until the probe's headers arrive or it ends
        return True

    def _end_probe(self) -> None:
        self._learned = True
        if self._probe_active:
            self._probe_active = False
            self._probe_lock.release()

    async def release(self) -> None:
        # A probe that ended without rate-limit headers means the API sends none: stop waiting.
        self._end_probe()
        if self._semaphore is not None:
            self._semaphore.release()

    async def observe(self, snapshot: RateLimitSnapshot) -> None:
        self._end_probe()
        now = self._clock()
        for name, dim in header_dimensions(snapshot).items():
            bucket = self._buckets.get(name)
            if bucket is None or bucket.capacity != dim.limit:
                level = float(dim.remaining) if bucket is None else bucket.level
                bucket = Bucket(float(dim.limit), dim.limit / 60.0, level, now)
                self._buckets[name] = bucket
            bucket.refill(now)
            # Lower only: our own debits are newer than the header, but another process
            # sharing the organisation's limit shows up only here.
            bucket.level = min(bucket.level, corrected_level(name, dim.remaining))

    async def settle(self, reserved: Cost, actual: Cost) -> None:
        now = self._clock()
        for name, bucket in self._buckets.items():
            bucket.refill(now)
            delta = min(reserved.get(name), bucket.capacity) - actual.get(name)
            bucket.level = min(bucket.capacity, bucket.level + delta)

    async def penalize(self, delay: float) -> None:
        self._blocked_until = max(self._blocked_until, self._clock() + delay)
