"""The typed events a resilient call yields, and the degradation kinds a learner can see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from resilient.ratelimit_headers import RateLimitSnapshot

DegradedKind = Literal[
    "rate_limited", "overloaded", "network", "timeout", "budget_exhausted", "not_retriable"
]

# The sentence a learner reads when a call degrades. It says what happened and what to do,
# never a raw API error (lesson 4: graceful degradation).
DEGRADED_MESSAGES: Final[dict[str, str]] = {
    "rate_limited": (
        "The coach is receiving a lot of requests right now. "
        "Please wait a moment and send your message again."
    ),
    "overloaded": (
        "The AI service is overloaded at the moment. Your message is kept; try again in a minute."
    ),
    "network": (
        "The connection to the AI service was interrupted. Your message is kept; try again."
    ),
    "timeout": ("The AI service took too long to answer. Your message is kept; try again."),
    "budget_exhausted": (
        "The token budget for this conversation or for today is used up. "
        "Start a new conversation or come back tomorrow."
    ),
    "not_retriable": (
        "The request could not be processed. Try rephrasing or shortening your message."
    ),
}


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    @property
    def total_tokens(self) -> int:
        """Every token billed: input, output, cache writes and cache reads."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )


@dataclass(frozen=True, slots=True)
class Wait:
    """One pause between attempts: after which attempt, how long, and why."""

    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class Span:
    """One stretch of a call, in seconds from the call's start: what a timeline draws.

    `kind`: "governor" (held back by our own pacing), "request" (sent, no text yet), "stream"
    (text arriving), "wait" (between attempts). `note` says why: the error that ended an
    attempt, the reason for a wait (`retry-after`, backoff).
    """

    kind: str
    start: float
    end: float
    attempt: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Retrying:
    """The previous attempt failed before any text was shown; the next one starts after `delay`."""

    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True, slots=True)
class Restart:
    """A stream failed after text was shown: the caller must discard the partial text."""

    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class Completed:
    text: str
    usage: Usage
    stop_reason: str
    truncated: bool
    cost_usd: float
    ttft: float | None
    latency: float
    attempts: int
    waits: tuple[Wait, ...]
    model: str
    request_id: str | None
    correlation_id: str
    timeline: tuple[Span, ...] = ()
    ratelimit: RateLimitSnapshot | None = None  # from the last response's headers


@dataclass(frozen=True, slots=True)
class Degraded:
    kind: str
    message: str
    attempts: int
    waits: tuple[Wait, ...]
    correlation_id: str
    retriable: bool
    reason: str = ""  # why the client stopped, in its own words
    stopped: str = ""  # which rule stopped it (`resilient.policy.STOPPED_*`)
    timeline: tuple[Span, ...] = ()
    ratelimit: RateLimitSnapshot | None = None


StreamEvent = TextDelta | Retrying | Restart | Completed | Degraded


class DegradedError(Exception):
    """Raised by the non-streaming `create()` when the call ends in a `Degraded` outcome."""

    def __init__(self, degraded: Degraded) -> None:
        super().__init__(f"{degraded.kind}: {degraded.message}")
        self.degraded = degraded
