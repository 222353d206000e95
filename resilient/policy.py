"""Retry and timeout policy: when to try again, how long to wait, and when to give up.

Everything here is a pure function of its arguments (headers, attempt number, elapsed time, a
random draw), so the rules are tested with parameter tables and no real sleeps. The I/O that
follows a decision lives in `client.py`.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Jitter = Literal["full", "equal", "decorrelated", "none"]

# `time.sleep` and friends raise above a platform limit; the SDK clamps to this value too.
_MAX_SANE_WAIT = 4_294_967.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts, how the wait grows, and the limits after which we give up.

    `deadline` bounds the whole call (every attempt and every wait). `max_single_wait`
    bounds one pause: a server that asks for a longer wait (a long `retry-after`) makes the
    call give up at once and say so, instead of leaving a learner staring at a spinner.
    `retry_after_jitter` spreads clients that received the same `retry-after` so they do not
    return in the same instant (the thundering herd of lesson 1).
    """

    max_attempts: int = 4
    base: float = 0.5
    cap: float = 8.0
    jitter: Jitter = "full"
    deadline: float = 60.0
    max_single_wait: float = 20.0
    retry_after_jitter: float = 0.1


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Per-attempt limits.

    `first_token`: from sending the request to the first text. `idle`: between two content
    events once text flows (`ping` events do not count: the SDK swallows them, so a server that
    only pings is idle). `total`: one attempt from start to `message_stop`.
    """

    connect: float = 5.0
    first_token: float = 15.0
    idle: float = 20.0
    total: float = 60.0


@dataclass(frozen=True, slots=True)
class Policy:
    retry: RetryPolicy
    timeouts: Timeouts


INTERACTIVE = Policy(
    retry=RetryPolicy(max_attempts=4, base=0.5, cap=4.0, deadline=60.0, max_single_wait=10.0),
    timeouts=Timeouts(connect=5.0, first_token=15.0, idle=20.0, total=60.0),
)
BATCH = Policy(
    retry=RetryPolicy(max_attempts=10, base=1.0, cap=60.0, deadline=900.0, max_single_wait=120.0),
    timeouts=Timeouts(connect=10.0, first_token=60.0, idle=60.0, total=600.0),
)


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked us to wait, or None.

    `retry-after-ms` (non-standard, more precise) wins over `retry-after`, which may be seconds
    (floats tolerated) or an HTTP date. `now` is the wall-clock time, injected for tests.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return _clamp(float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return _clamp(float(value))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return _clamp(email.utils.mktime_tz(parsed) - now)


def _clamp(seconds: float) -> float | None:
    if seconds != seconds or seconds < 0:  # NaN or in the past: no usable instruction
        return None
    return min(seconds, _MAX_SANE_WAIT)


def should_retry_header(headers: Mapping[str, str]) -> bool | None:
    """The server's explicit `x-should-retry` verdict, or None when it gave none."""
    value = headers.get("x-should-retry")
    if value == "true":
        return True
    if value == "false":
        return False
    return None


def backoff(policy: RetryPolicy, retry_number: int, previous: float, rand: float) -> float:
    """The exponential wait before retry number `retry_number` (1 = first retry).

    `rand` is a draw from [0, 1). Full jitter spreads over [0, t]; equal jitter keeps half of t
    and spreads the rest; decorrelated grows from the previous wait (AWS architecture blog).
    """
    exp: float = min(policy.cap, policy.base * float(2 ** min(retry_number - 1, 60)))
    if policy.jitter == "full":
        return exp * rand
    if policy.jitter == "equal":
        return exp / 2 + (exp / 2) * rand
    if policy.jitter == "decorrelated":
        low = policy.base
        high = max(low, (previous or policy.base) * 3)
        return min(policy.cap, low + (high - low) * rand)
    return exp


@dataclass(frozen=True, slots=True)
class Failure:
    """What the retry decision needs to know about a failed attempt."""

    label: str  # human readable, e.g. "429 rate limited"
    retriable: bool
    retry_after: float | None = None


# Why a call gave up, in a word a page can explain (`Decision.stopped`).
STOPPED_NOT_RETRIABLE = "not_retriable"
STOPPED_ATTEMPTS = "attempts"  # every attempt the policy allows was used
STOPPED_LONG_WAIT = "long_wait"  # the server asked for a longer wait than one pause may be
STOPPED_DEADLINE = "deadline"  # the next wait would pass the call's deadline
STOPPED_CIRCUIT_OPEN = "circuit_open"  # repeated overloads opened the breaker: not sent
STOPPED_BUDGET = "budget"  # the budget cannot afford the call: not sent


@dataclass(frozen=True, slots=True)
class Decision:
    """`delay` is None when we give up; `reason` says why either way, for the learner and logs;
    `stopped` names the rule that gave up (one of the `STOPPED_*` words), empty on a retry."""

    delay: float | None
    reason: str
    stopped: str = ""


def decide(
    policy: RetryPolicy,
    failure: Failure,
    *,
    attempt: int,
    elapsed: float,
    previous_delay: float,
    rand: float,
) -> Decision:
    """Retry after how long, or give up: the whole retry rule in one pure function.

    `attempt` is the number of the attempt that just failed (1-based); `elapsed` is the time
    spent on the call so far.
    """
    if not failure.retriable:
        return Decision(None, f"{failure.label}; not retriable", STOPPED_NOT_RETRIABLE)
    if attempt >= policy.max_attempts:
        return Decision(
            None, f"{failure.label}; gave up after {attempt} attempts", STOPPED_ATTEMPTS
        )
    if failure.retry_after is not None:
        if failure.retry_after > policy.max_single_wait:
            return Decision(
                None,
                f"{failure.label}; server asked to wait {failure.retry_after:g}s, "
                f"more than the {policy.max_single_wait:g}s this call allows",
                STOPPED_LONG_WAIT,
            )
        delay = failure.retry_after * (1 + policy.retry_after_jitter * rand)
        reason = f"{failure.label}; retry-after {failure.retry_after:g}s"
    else:
        delay = backoff(policy, attempt, previous_delay, rand)
        reason = f"{failure.label}; backoff {delay:.2f}s ({policy.jitter} jitter)"
    if elapsed + delay > policy.deadline:
        return Decision(
            None,
            f"{failure.label}; waiting {delay:.2f}s would pass the {policy.deadline:g}s deadline",
            STOPPED_DEADLINE,
        )
    return Decision(delay, reason)


RandomSource = Callable[[], float]
