"""The typed events a resilient call yields, and the degradation kinds a learner can see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from resilient.ratelimit_headers import RateLimitSnapshot

DegradedKind = Literal[
    "rate_limited",
    "overloaded",
    "network",
    "timeout",
    "budget_exhausted",
    "invalid_request",
    "credentials",
    "permission",
    "not_found",
    "spend_cap",
    "not_retriable",
]

# Causes only an operator can remove (the course's key, its permissions, the model it names,
# the organisation's spend cap): every learner gets the same failure until someone does. They
# are logged as errors and raise an alert on the operations page; the learner is told to ask.
OPERATOR_KINDS: Final = frozenset({"credentials", "permission", "not_found", "spend_cap"})

_ASK = "Your message is kept; please tell your instructor, then try again later."

# The sentence a learner reads when a call degrades: what happened and the one thing that
# helps (wait, try again, shorten, ask the instructor), never a raw API error (lesson 4).
DEGRADED_MESSAGES: Final[dict[str, str]] = {
    "rate_limited": (
        "The coach is receiving a lot of requests right now. "
        "Your message is kept; wait a moment and send it again."
    ),
    "overloaded": (
        "The AI service is overloaded at the moment. Your message is kept; try again in a minute."
    ),
    "network": (
        "The connection to the AI service was interrupted. Your message is kept; try again."
    ),
    "timeout": "The AI service took too long to answer. Your message is kept; try again.",
    "budget_exhausted": (
        "The token budget for this conversation or for today is used up. "
        "Start a new conversation or come back tomorrow."
    ),
    "invalid_request": (
        "The AI service could not accept this conversation as it is (it may be too long). "
        "Your message is kept; shorten it, or start a new conversation."
    ),
    "credentials": "The coach is not set up right: the AI service refused its key. " + _ASK,
    "permission": (
        "The coach is not set up right: its AI account may not use this model or feature. " + _ASK
    ),
    "not_found": (
        "The coach is not set up right: the AI service does not know the model it asks for. " + _ASK
    ),
    "spend_cap": (
        "The course's AI account has reached its spending limit, so the coach cannot answer "
        "until it is raised. " + _ASK
    ),
    "not_retriable": (
        "The coach could not answer this message. Your message is kept; try again, "
        "and tell your instructor if it keeps happening."
    ),
}


def rate_limited_message(wait: float | None) -> str:
    """The rate-limit sentence, saying for how long when the service said so and it is long."""
    if wait is None or wait < 2:
        return DEGRADED_MESSAGES["rate_limited"]
    return (
        f"The AI service asked the course to pause for {_duration(wait)} (its rate limit, "
        f"shared by every learner). Your message is kept; send it again after that."
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{round(seconds)} seconds"
    minutes = round(seconds / 60)
    return f"about {minutes} minutes" if minutes > 1 else "about a minute"


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
class Pacing:
    """The next attempt waits `delay` seconds for the rate limit every call shares (not for a
    failure of its own); said before a wait long enough to be noticed."""

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


StreamEvent = TextDelta | Retrying | Pacing | Restart | Completed | Degraded


class DegradedError(Exception):
    """Raised by the non-streaming `create()` when the call ends in a `Degraded` outcome."""

    def __init__(self, degraded: Degraded) -> None:
        super().__init__(f"{degraded.kind}: {degraded.message}")
        self.degraded = degraded
