"""Dashboard figures from coach-turn rows. Pure functions over plain dataclasses.

Percentiles use the nearest-rank method: p95 of n values is the value at rank ceil(0.95 n) in
ascending order, always a value that was really observed (no interpolation), so a figure on the
dashboard can be found in the logs. Prometheus' `histogram_quantile` interpolates inside
buckets instead; the two agree to within a bucket.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from resilient import Usage

FINISHED = ("completed", "truncated", "degraded", "cancelled")
# A cancelled turn is the learner leaving, not a failure; it counts as a turn but not towards
# the error rate or latency.
ANSWERED = ("completed", "truncated", "degraded")
PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class TurnRow:
    started: datetime
    outcome: str
    degraded_kind: str = ""
    model: str = ""
    lab: str = ""
    attempts: int = 1
    ttft_ms: int | None = None
    latency_ms: int | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: Decimal = Decimal("0")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (0 < q <= 100); None for no values."""
    if not values:
        return None
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {q}")
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def percentiles(
    values: Sequence[float], qs: Iterable[int] = PERCENTILES
) -> dict[int, float | None]:
    return {q: percentile(values, q) for q in qs}


def share(part: float, whole: float) -> float | None:
    return None if whole <= 0 else part / whole


@dataclass(frozen=True)
class Summary:
    turns: int  # finished turns (cancelled included)
    answered: int  # completed + truncated + degraded
    by_outcome: dict[str, int]
    errors_by_kind: dict[str, int]  # degraded turns by kind, most frequent first
    error_rate: float | None  # degraded / answered
    ttft_ms: dict[int, float | None]
    latency_ms: dict[int, float | None]
    retries: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: Decimal
    cache_hit_share: float | None  # prompt tokens read from the cache / all prompt tokens
    running: int = 0

    def error_share(self, kind: str) -> float | None:
        return share(self.errors_by_kind.get(kind, 0), self.answered)

    @property
    def outcome_rows(self) -> list[tuple[str, int, float | None]]:
        """(outcome, turns, share of answered turns); cancelled turns have no share."""
        return [
            (o, n, None if o == "cancelled" else share(n, self.answered))
            for o, n in self.by_outcome.items()
        ]

    @property
    def error_rows(self) -> list[tuple[str, int, float | None]]:
        return [(k, n, self.error_share(k)) for k, n in self.errors_by_kind.items()]


def summarize(rows: Iterable[TurnRow], since: datetime, until: datetime) -> Summary:
    """Figures for the turns that started in [since, until)."""
    inside = [r for r in rows if since <= r.started < until]
    finished = [r for r in inside if r.outcome in FINISHED]
    answered = [r for r in finished if r.outcome in ANSWERED]
    outcomes = Counter(r.outcome for r in finished)
    kinds = Counter(r.degraded_kind or "unknown" for r in answered if r.outcome == "degraded")
    inputs = sum(r.input_tokens for r in finished)
    reads = sum(r.cache_read_tokens for r in finished)
    writes = sum(r.cache_write_tokens for r in finished)
    return Summary(
        turns=len(finished),
        answered=len(answered),
        by_outcome={o: outcomes.get(o, 0) for o in FINISHED},
        errors_by_kind=dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
        error_rate=share(outcomes.get("degraded", 0), len(answered)),
        ttft_ms=percentiles([r.ttft_ms for r in answered if r.ttft_ms is not None]),
        latency_ms=percentiles([r.latency_ms for r in answered if r.latency_ms is not None]),
        retries=sum(max(r.attempts - 1, 0) for r in finished),
        input_tokens=inputs,
        output_tokens=sum(r.output_tokens for r in finished),
        cache_read_tokens=reads,
        cache_write_tokens=writes,
        cost_usd=sum((r.cost_usd for r in finished), Decimal("0")),
        cache_hit_share=share(reads, inputs + reads + writes),
        running=sum(1 for r in inside if r.outcome == "running"),
    )


@dataclass(frozen=True)
class Day:
    day: date
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: Decimal = field(default=Decimal("0"))

    @property
    def tokens(self) -> int:
        usage = Usage(
            self.input_tokens, self.output_tokens, self.cache_write_tokens, self.cache_read_tokens
        )
        return usage.total_tokens


def per_day(rows: Iterable[TurnRow], last_day: date, days: int) -> list[Day]:
    """Tokens and cost for each of the `days` UTC days ending with `last_day`, oldest first.

    Cost counts every finished turn, cancelled ones too: their tokens were paid for.
    """
    first = last_day - timedelta(days=days - 1)
    totals: dict[date, list[int]] = {first + timedelta(d): [0, 0, 0, 0, 0] for d in range(days)}
    costs: dict[date, Decimal] = dict.fromkeys(totals, Decimal("0"))
    for r in rows:
        key = r.started.date()
        if key not in totals or r.outcome not in FINISHED:
            continue
        t = totals[key]
        t[0] += 1
        t[1] += r.input_tokens
        t[2] += r.output_tokens
        t[3] += r.cache_read_tokens
        t[4] += r.cache_write_tokens
        costs[key] += r.cost_usd
    return [
        Day(
            d,
            turns=t[0],
            input_tokens=t[1],
            output_tokens=t[2],
            cache_read_tokens=t[3],
            cache_write_tokens=t[4],
            cost_usd=costs[d],
        )
        for d, t in sorted(totals.items())
    ]
