"""Parse the `anthropic-ratelimit-*` headers every response carries into a snapshot.

The API reports, per dimension, the limit, what remains (token counts rounded to the nearest
thousand) and when the bucket is full again (RFC 3339). Reading them on *every* response, not
only on a 429, is what lets the governor slow down before the wall (lesson 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

DIMENSIONS = ("requests", "tokens", "input-tokens", "output-tokens")


@dataclass(frozen=True, slots=True)
class Dimension:
    limit: int
    remaining: int
    reset_in: float | None  # seconds from the response until the bucket is full again


@dataclass(frozen=True, slots=True)
class RateLimitSnapshot:
    requests: Dimension | None = None
    tokens: Dimension | None = None
    input_tokens: Dimension | None = None
    output_tokens: Dimension | None = None

    @property
    def empty(self) -> bool:
        return not (self.requests or self.tokens or self.input_tokens or self.output_tokens)


def parse_rfc3339(value: str) -> float | None:
    """Epoch seconds for an RFC 3339 timestamp (a trailing `Z` allowed), or None."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def parse_dimension(headers: Mapping[str, str], name: str, now: float) -> Dimension | None:
    prefix = f"anthropic-ratelimit-{name}-"
    limit = _int(headers.get(prefix + "limit"))
    remaining = _int(headers.get(prefix + "remaining"))
    if limit is None or remaining is None:
        return None
    reset_at = parse_rfc3339(headers.get(prefix + "reset") or "")
    reset_in = None if reset_at is None else max(0.0, reset_at - now)
    return Dimension(limit=limit, remaining=max(0, remaining), reset_in=reset_in)


def parse_ratelimit_headers(headers: Mapping[str, str], now: float) -> RateLimitSnapshot:
    """Snapshot of every dimension present; `now` is wall-clock epoch seconds (injected)."""
    return RateLimitSnapshot(
        requests=parse_dimension(headers, "requests", now),
        tokens=parse_dimension(headers, "tokens", now),
        input_tokens=parse_dimension(headers, "input-tokens", now),
        output_tokens=parse_dimension(headers, "output-tokens", now),
    )
