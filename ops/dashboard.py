"""Everything the operations dashboard shows, read from the database in one pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings

from course import charts
from labs.store import day_start
from ops import alerts
from ops.alerts import AlertState
from ops.stats import Day, Summary, TurnRow, per_day, summarize

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
WINDOW_TITLES = {"hour": "Last hour", "day": "Last 24 hours", "week": "Last 7 days"}
DAYS = 7

_FIELDS = (
    "started",
    "outcome",
    "degraded_kind",
    "model",
    "lab",
    "attempts",
    "ttft_ms",
    "latency_ms",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
)


def thresholds() -> alerts.Thresholds:
    return alerts.Thresholds(
        error_rate_percent=settings.ALERT_ERROR_RATE_PERCENT,
        p95_latency_ms=settings.ALERT_P95_LATENCY_MS,
        p95_ttft_ms=settings.ALERT_P95_TTFT_MS,
        daily_budget_usd=settings.BUDGET_GLOBAL_DAY_USD,
        cost_fraction=settings.ALERT_COST_BUDGET_FRACTION,
        window=timedelta(minutes=settings.ALERT_WINDOW_MINUTES),
        min_turns=settings.ALERT_MIN_TURNS,
    )


def load_rows(since: datetime) -> list[TurnRow]:
    """Every real turn since `since`. Drill turns fail on purpose: they are left out of every
    figure and alert, and counted apart (`drill_outcomes`)."""
    from labs.models import CoachTurn

    turns = CoachTurn.objects.filter(started__gte=since, drill="")
    rows = turns.order_by().values_list(*_FIELDS)
    out = []
    for values in rows.iterator(chunk_size=2000):
        data = dict(zip(_FIELDS, values, strict=True))
        data["started"] = data["started"].astimezone(UTC)
        out.append(TurnRow(**data))
    return out


def alert_states(now: datetime, rows: list[TurnRow] | None = None) -> list[AlertState]:
    t = thresholds()
    start = day_start(now)
    if rows is None:
        rows = load_rows(min(start, now - t.window))
    return alerts.evaluate(alerts.rules(t), alerts.signals(rows, now, start, t))


def drill_outcomes(since: datetime) -> dict[str, int]:
    """Fault-drill turns since `since`, by outcome: shown beside the figures, never in them."""
    from django.db.models import Count

    from labs.models import CoachTurn

    rows = (
        CoachTurn.objects.filter(started__gte=since)
        .exclude(drill="")
        .order_by()
        .values_list("outcome")
        .annotate(n=Count("id"))
    )
    return dict(sorted(rows))


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    window: str
    summary: Summary
    days: list[Day]
    alerts: list[AlertState]
    budget_usd: float
    cost_chart: charts.BarChart
    token_chart: charts.BarChart
    drills: dict[str, int]  # fault-drill turns in the window, by outcome

    @property
    def drill_turns(self) -> int:
        return sum(self.drills.values())

    @property
    def firing(self) -> list[AlertState]:
        return [a for a in self.alerts if a.firing]


def build(now: datetime, window: str) -> Dashboard:
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}")
    today = day_start(now)
    first_day = today - timedelta(days=DAYS - 1)
    rows = load_rows(min(first_day, now - WINDOWS["week"]))
    end = now + timedelta(microseconds=1)
    days = per_day(rows, today.date(), DAYS)
    budget = float(settings.BUDGET_GLOBAL_DAY_USD)
    labels = [d.day.strftime("%a %-d %b") for d in days]
    return Dashboard(
        now=now,
        window=window,
        summary=summarize(rows, now - WINDOWS[window], end),
        days=days,
        alerts=alert_states(now, rows),
        budget_usd=budget,
        drills=drill_outcomes(now - WINDOWS[window]),
        cost_chart=charts.bar_chart(
            labels,
            [float(d.cost_usd) for d in days],
            [f"${d.cost_usd:,.2f}" for d in days],
            line=budget,
            line_label=f"Budget ${budget:,.2f}/day",
            tick_format="${:,.2f}",
        ),
        token_chart=charts.bar_chart(
            labels,
            [float(d.tokens) for d in days],
            [_compact(d.tokens) for d in days],
            tick_format="{:,.0f}",
        ),
    )


def _compact(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    return f"{n:,}"


def cost_today(now: datetime) -> Decimal:
    from django.db.models import Sum

    from labs.models import CoachTurn

    today = CoachTurn.objects.filter(started__gte=day_start(now), drill="")
    total = today.aggregate(s=Sum("cost_usd"))["s"]
    return total or Decimal("0")
