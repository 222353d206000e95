"""Token buckets for the simulated per-minute limits (RPM, input TPM, output TPM).

The Messages API meters with token buckets: capacity is the per-minute limit and it
refills continuously at limit/60 per second, so an idle client may burst up to the
limit. The bucket functions are pure over an explicit ``now`` (epoch seconds);
:class:`RateLimiter` holds the three buckets and reads an injected clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Bucket:
    capacity: float
    per_second: float
    level: float
    updated: float

    @classmethod
    def per_minute(cls, limit: int, now: float) -> Bucket:
        """A full bucket for a per-minute limit."""
        return cls(capacity=float(limit), per_second=limit / 60.0, level=float(limit), updated=now)


def refill(bucket: Bucket, now: float) -> Bucket:
    """The bucket as it stands at ``now`` (time never runs backwards here)."""
    elapsed = max(0.0, now - bucket.updated)
    level = min(bucket.capacity, bucket.level + elapsed * bucket.per_second)
    return replace(bucket, level=level, updated=max(now, bucket.updated))


def wait_for(bucket: Bucket, amount: float, now: float) -> float:
    """Seconds until ``amount`` can be taken; 0 when it can be taken now.

    A request larger than the whole bucket waits for a full bucket rather than forever.
    """
    level = refill(bucket, now).level
    needed = min(amount, bucket.capacity)
    if level >= needed:
        return 0.0
    return (needed - level) / bucket.per_second


def take(bucket: Bucket, amount: float, now: float) -> Bucket:
    """Remove ``amount`` (may leave a debt: output is charged after it is produced)."""
    current = refill(bucket, now)
    return replace(current, level=current.level - amount)


def give_back(bucket: Bucket, amount: float, now: float) -> Bucket:
    """Return an unused reservation, never above capacity."""
    current = refill(bucket, now)
    return replace(current, level=min(current.capacity, current.level + amount))


def seconds_to_full(bucket: Bucket, now: float) -> float:
    level = refill(bucket, now).level
    return (bucket.capacity - level) / bucket.per_second


@dataclass(frozen=True)
class LimitSnapshot:
    """One limit as the response headers report it."""

    name: str  # "requests" | "input-tokens" | "output-tokens"
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the bucket is full again


@dataclass(frozen=True)
class Admission:
    allowed: bool
    retry_after: float = 0.0
    limited_by: str | None = None
    limit: int | None = None


class RateLimiter:
    """Requests, input tokens and output tokens per minute; ``None`` means unlimited.

    Output tokens are reserved from ``max_tokens`` when a request is admitted and
    settled to the real count when it ends, as the Messages API estimates them.
    """

    def __init__(
        self,
        *,
        rpm: int | None,
        itpm: int | None,
        otpm: int | None,
        clock: Callable[[], float],
    ) -> None:
        now = clock()
        self._clock = clock
        self._buckets: dict[str, Bucket] = {
            name: Bucket.per_minute(limit, now)
            for name, limit in (("requests", rpm), ("input-tokens", itpm), ("output-tokens", otpm))
            if limit is not None
        }

    def admit(self, input_tokens: int, max_tokens: int) -> tuple[Admission, int]:
        """Admit one request or say how long to wait; returns the output reservation."""
        now = self._clock()
        wanted = {"requests": 1, "input-tokens": input_tokens, "output-tokens": max_tokens}
        for name, bucket in self._buckets.items():
            wait = wait_for(bucket, wanted[name], now)
            if wait > 0:
                return Admission(False, wait, name, int(bucket.capacity)), 0
        reserved = 0
        for name, bucket in self._buckets.items():
            amount = min(wanted[name], bucket.capacity)
            if name == "output-tokens":
                reserved = int(amount)
            self._buckets[name] = take(bucket, amount, now)
        return Admission(True), reserved

    def settle_output(self, reserved: int, actual: int) -> None:
        bucket = self._buckets.get("output-tokens")
        if bucket is None:
            return
        now = self._clock()
        if actual <= reserved:
            self._buckets["output-tokens"] = give_back(bucket, reserved - actual, now)
        else:
            self._buckets["output-tokens"] = take(bucket, actual - reserved, now)

    def snapshot(self) -> list[LimitSnapshot]:
        now = self._clock()
        return [
            LimitSnapshot(
                name=name,
                limit=int(bucket.capacity),
                remaining=max(0, math.floor(refill(bucket, now).level)),
                reset_at=now + seconds_to_full(bucket, now),
            )
            for name, bucket in self._buckets.items()
        ]
