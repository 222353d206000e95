"""Fault plans: a comma-separated list of outcomes, one per attempt.

``parse_plan("429:retry_after=2,529,drop@20,ok")`` gives four :class:`Outcome` values;
attempt *n* gets outcome *n* and attempts beyond the plan are ``ok``. The grammar is
documented with examples in ``README.md`` beside this module.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

OutcomeKind = Literal[
    "ok", "status", "spend_cap", "drop", "error", "eof", "stall", "slow_ttft", "max_tokens"
]

# Statuses a plan may return before any model work starts.
FAULT_STATUSES = frozenset({400, 401, 403, 404, 408, 413, 429, 500, 503, 529})

# `error@N:TYPE` accepts the error types the Messages API documents.
STREAM_ERROR_TYPES = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "billing_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
        "rate_limit_error",
        "timeout_error",
        "api_error",
        "overloaded_error",
    }
)

# A repeat count this large is a typo, and expanding it would eat memory.
MAX_REPEAT = 10_000

GRAMMAR_HINT = (
    "expected one of: ok, 429[:retry_after=S], 529, 500, 503, 408, 400, 401, 403, 404, 413, "
    "drop@N, error@N[:TYPE], eof@N, stall[@N], slow_ttft=S, spend_cap, max_tokens "
    "(each optionally followed by *K to repeat it K times)"
)


@dataclass(frozen=True)
class Outcome:
    """What one attempt gets."""

    kind: OutcomeKind
    status: int = 200
    # Content tokens streamed before a drop / error / eof / stall.
    after: int = 0
    # Seconds for the `retry-after` header (HTTP faults only).
    retry_after: float | None = None
    # `error.type` of a mid-stream `event: error`.
    error_type: str = "overloaded_error"
    # Seconds before the first content token (`slow_ttft`).
    delay: float = 0.0

    def __str__(self) -> str:
        if self.kind == "status":
            suffix = "" if self.retry_after is None else f":retry_after={_num(self.retry_after)}"
            return f"{self.status}{suffix}"
        if self.kind in ("drop", "eof"):
            return f"{self.kind}@{self.after}"
        if self.kind == "error":
            return f"error@{self.after}:{self.error_type}"
        if self.kind == "stall":
            return f"stall@{self.after}"
        if self.kind == "slow_ttft":
            return f"slow_ttft={_num(self.delay)}"
        return self.kind


OK = Outcome("ok")


class PlanError(ValueError):
    """A fault plan that does not parse; the message names the bad item."""

    def __init__(self, item: str, position: int, reason: str) -> None:
        super().__init__(
            f"bad fault plan item {item!r} (item {position}): {reason}; {GRAMMAR_HINT}"
        )
        self.item = item
        self.position = position
        self.reason = reason


def parse_plan(text: str) -> tuple[Outcome, ...]:
    """Parse a whole plan; an empty or blank plan means "no faults"."""
    if not text.strip():
        return ()
    outcomes: list[Outcome] = []
    for position, raw in enumerate(text.split(","), start=1):
        item = raw.strip()
        if not item:
            raise PlanError(raw, position, "empty item (two commas in a row?)")
        outcome, repeat = _parse_item(item, position)
        outcomes.extend([outcome] * repeat)
    return tuple(outcomes)


_REPEAT = re.compile(r"^(?P<body>.+?)\s*\*\s*(?P<count>\d+)$")
_STATUS = re.compile(r"^(?P<status>\d{3})(?::retry_after=(?P<retry>[^,]+))?$")
_AT = re.compile(r"^(?P<kind>drop|error|eof|stall)(?:@(?P<n>[^:]*))?(?::(?P<type>.*))?$")


def _parse_item(item: str, position: int) -> tuple[Outcome, int]:
    repeat = 1
    body = item
    match = _REPEAT.match(item)
    if match:
        body = match["body"].strip()
        repeat = int(match["count"])
        if not 1 <= repeat <= MAX_REPEAT:
            raise PlanError(item, position, f"repeat count must be 1..{MAX_REPEAT}")
    return _parse_outcome(body, item, position), repeat


def _parse_outcome(body: str, item: str, position: int) -> Outcome:
    if body == "ok":
        return OK
    if body == "max_tokens":
        return Outcome("max_tokens")
    if body == "spend_cap":
        return Outcome("spend_cap", status=429)
    if body.startswith("slow_ttft"):
        _, sep, value = body.partition("=")
        if not sep:
            raise PlanError(item, position, "slow_ttft needs seconds, e.g. slow_ttft=3")
        return Outcome("slow_ttft", delay=_seconds(value, item, position, "slow_ttft"))
    match = _STATUS.match(body)
    if match:
        status = int(match["status"])
        if status not in FAULT_STATUSES:
            allowed = ", ".join(str(s) for s in sorted(FAULT_STATUSES))
            raise PlanError(item, position, f"status {status} is not one of {allowed}")
        retry = match["retry"]
        retry_after = _seconds(retry, item, position, "retry_after") if retry else None
        if status == 429 and retry_after is None:
            retry_after = 1.0
        return Outcome("status", status=status, retry_after=retry_after)
    match = _AT.match(body)
    if match:
        return _parse_at(match, item, position)
    raise PlanError(item, position, "unknown outcome")


def _parse_at(match: re.Match[str], item: str, position: int) -> Outcome:
    kind = match["kind"]
    n_text = match["n"]
    if n_text is None:
        if kind != "stall":
            raise PlanError(item, position, f"{kind} needs a token count, e.g. {kind}@20")
        after = 0
    elif not n_text.isdigit():
        raise PlanError(item, position, f"{kind}@N needs a whole number of tokens, e.g. {kind}@5")
    else:
        after = int(n_text)
    error_type = match["type"]
    if error_type is not None and kind != "error":
        raise PlanError(item, position, f"{kind} takes no ':' option")
    if kind == "error":
        chosen = error_type or "overloaded_error"
        if chosen not in STREAM_ERROR_TYPES:
            known = ", ".join(sorted(STREAM_ERROR_TYPES))
            raise PlanError(item, position, f"unknown error type {chosen!r} (known: {known})")
        return Outcome("error", after=after, error_type=chosen)
    if kind == "drop":
        return Outcome("drop", after=after)
    if kind == "eof":
        return Outcome("eof", after=after)
    return Outcome("stall", after=after)


def _seconds(text: str, item: str, position: int, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PlanError(item, position, f"{name} must be a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise PlanError(item, position, f"{name} must be a finite number >= 0")
    return value


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
