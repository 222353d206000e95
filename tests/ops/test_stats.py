"""Dashboard arithmetic: percentiles and window summaries, checked against hand-worked tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ops.stats import TurnRow, per_day, percentile, summarize

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 95, None),
        ([7], 50, 7),
        ([7], 99, 7),
        ([1, 2, 3, 4], 50, 2),  # rank ceil(2.0) = 2
        ([4, 3, 2, 1], 50, 2),  # order of input does not matter
        ([1, 2, 3, 4, 5], 50, 3),
        (list(range(1, 21)), 95, 19),  # ceil(19.0) = 19
        (list(range(1, 21)), 99, 20),  # ceil(19.8) = 20
        (list(range(1, 101)), 95, 95),
        (list(range(1, 101)), 99, 99),
        (list(range(1, 101)), 100, 100),
        ([10, 10, 10, 1000], 95, 1000),  # one slow turn out of four is the p95
        ([10, 10, 10, 1000], 50, 10),
    ],
)
def test_percentile_is_nearest_rank(values, q, expected):
    assert percentile(values, q) == expected


@pytest.mark.parametrize("q", [0, -5, 101])
def test_percentile_refuses_impossible_ranks(q):
    with pytest.raises(ValueError, match="percentile"):
        percentile([1, 2], q)


def row(minutes_ago: float, outcome: str = "completed", **values) -> TurnRow:
    return TurnRow(started=T0 - timedelta(minutes=minutes_ago), outcome=outcome, **values)


def test_summary_counts_outcomes_errors_tokens_and_cache_share():
    rows = [
        row(
            1,
            ttft_ms=100,
            latency_ms=1000,
            input_tokens=100,
            cache_read_tokens=900,
            output_tokens=10,
            cost_usd=Decimal("0.010"),
        ),
        row(
            2,
            ttft_ms=300,
            latency_ms=3000,
            input_tokens=100,
            cache_write_tokens=900,
            output_tokens=20,
            cost_usd=Decimal("0.020"),
            attempts=3,
        ),
        row(3, "degraded", degraded_kind="rate_limited", attempts=4, latency_ms=9000),
        row(4, "degraded", degraded_kind="overloaded", attempts=2, latency_ms=5000),
        row(5, "degraded", degraded_kind="rate_limited", attempts=4, latency_ms=8000),
        row(
            6,
            "truncated",
            ttft_ms=200,
            latency_ms=4000,
            output_tokens=1024,
            cost_usd=Decimal("0.015"),
        ),
        row(7, "cancelled", latency_ms=99_000, cost_usd=Decimal("0.001")),
        row(8, "running"),
        row(120, ttft_ms=5, latency_ms=5),  # outside the hour
    ]
    s = summarize(rows, T0 - timedelta(hours=1), T0)
    assert s.turns == 7  # finished, running and older rows left out
    assert s.answered == 6  # the cancelled turn is not an answer
    assert s.running == 1
    assert s.by_outcome == {"completed": 2, "truncated": 1, "degraded": 3, "cancelled": 1}
    assert s.errors_by_kind == {"rate_limited": 2, "overloaded": 1}
    assert s.error_rate == pytest.approx(3 / 6)
    assert s.error_share("rate_limited") == pytest.approx(2 / 6)
    assert s.ttft_ms == {50: 200, 95: 300, 99: 300}
    # latencies of answered turns: 1000 3000 4000 5000 8000 9000 (not the cancelled 99 s)
    assert s.latency_ms == {50: 4000, 95: 9000, 99: 9000}
    assert s.retries == 2 + 3 + 1 + 3
    assert s.cost_usd == Decimal("0.046")
    assert (s.input_tokens, s.cache_read_tokens, s.cache_write_tokens) == (200, 900, 900)
    assert s.cache_hit_share == pytest.approx(900 / 2000)


def test_an_empty_window_has_no_rates_rather_than_zero():
    s = summarize([], T0 - timedelta(hours=1), T0)
    assert (s.turns, s.error_rate, s.cache_hit_share) == (0, None, None)
    assert s.latency_ms == {50: None, 95: None, 99: None}


def test_per_day_fills_empty_days_and_counts_cancelled_spend():
    rows = [
        TurnRow(
            datetime(2026, 3, 10, 1, tzinfo=UTC),
            "completed",
            input_tokens=10,
            cost_usd=Decimal("1.5"),
        ),
        TurnRow(
            datetime(2026, 3, 10, 23, 59, tzinfo=UTC),
            "cancelled",
            output_tokens=5,
            cost_usd=Decimal("0.5"),
        ),
        TurnRow(datetime(2026, 3, 8, 12, tzinfo=UTC), "degraded", cost_usd=Decimal("0")),
        TurnRow(datetime(2026, 3, 10, 12, tzinfo=UTC), "running", cost_usd=Decimal("9")),
        TurnRow(datetime(2026, 3, 1, 12, tzinfo=UTC), "completed", cost_usd=Decimal("9")),
    ]
    days = per_day(rows, date(2026, 3, 10), 3)
    assert [d.day for d in days] == [date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)]
    assert [d.turns for d in days] == [1, 0, 2]
    assert [d.cost_usd for d in days] == [Decimal("0"), Decimal("0"), Decimal("2.0")]
    assert days[2].tokens == 15
