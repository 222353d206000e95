from __future__ import annotations

import pytest

from resilient.ratelimit_headers import Dimension, parse_ratelimit_headers, parse_rfc3339

NOW = parse_rfc3339("2025-01-15T14:32:00Z")


def _headers(name: str, limit: str, remaining: str, reset: str) -> dict[str, str]:
    p = f"anthropic-ratelimit-{name}-"
    return {p + "limit": limit, p + "remaining": remaining, p + "reset": reset}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-15T14:32:05Z", 1736951525.0),
        ("2025-01-15T14:32:05+00:00", 1736951525.0),
        ("2025-01-15T15:32:05+01:00", 1736951525.0),
        ("2025-01-15T14:32:05", None),  # no zone: ambiguous
        ("soon", None),
    ],
)
def test_it_parses_rfc3339(value, expected):
    assert parse_rfc3339(value) == expected


def test_it_reads_every_dimension():
    headers = {
        **_headers("requests", "600", "599", "2025-01-15T14:32:00.1Z"),
        **_headers("input-tokens", "80000", "79000", "2025-01-15T14:32:01Z"),
        **_headers("output-tokens", "16000", "16000", "2025-01-15T14:32:00Z"),
        **_headers("tokens", "96000", "95000", "2025-01-15T14:32:01Z"),
    }
    snap = parse_ratelimit_headers(headers, NOW)
    assert snap.requests == Dimension(600, 599, pytest.approx(0.1))
    assert snap.input_tokens == Dimension(80000, 79000, 1.0)
    assert snap.output_tokens == Dimension(16000, 16000, 0.0)
    assert snap.tokens is not None and snap.tokens.limit == 96000
    assert not snap.empty


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"anthropic-ratelimit-requests-limit": "600"},  # no remaining: unusable
        _headers("requests", "x", "1", "2025-01-15T14:32:00Z"),
    ],
)
def test_missing_or_broken_headers_give_no_dimension(headers):
    assert parse_ratelimit_headers(headers, NOW).requests is None


def test_reset_in_the_past_or_unparsable_is_not_negative():
    snap = parse_ratelimit_headers(_headers("requests", "10", "0", "2025-01-15T14:31:00Z"), NOW)
    assert snap.requests == Dimension(10, 0, 0.0)
    snap = parse_ratelimit_headers(_headers("requests", "10", "-3", "later"), NOW)
    assert snap.requests == Dimension(10, 0, None)
