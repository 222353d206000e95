"""Coach-turn metrics computed from the `CoachTurn` table at scrape time.

Why from the database: every worker (and every host) writes its turns to the same table, so
whichever worker answers `/metrics` reports the same totals, and restarts lose nothing. Rows
deleted by `prune_telemetry` are first added to `TelemetryCarry` (fault-drill turns to
`DrillCarry`), so the counters never go down. Cost: one grouped query over the retained rows
per scrape (see docs/runbook.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

LABELS = ("model", "lab", "backend", "outcome", "degraded_kind")
TTFT_BUCKETS_MS = (100, 250, 500, 1000, 2000, 3000, 5000, 10_000, 20_000, 60_000)
LATENCY_BUCKETS_MS = (500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000)
# A running row older than this belongs to a worker that died mid-turn.
STALE_RUNNING = timedelta(minutes=10)

Labels = tuple[str, str, str, str, str]
DrillLabels = tuple[str, str]  # (drill, outcome)


@dataclass
class Totals:
    turns: int = 0
    retries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: Decimal = field(default_factory=lambda: Decimal("0"))
    ttft_buckets: dict[str, int] = field(default_factory=dict)
    ttft_sum_ms: int = 0
    ttft_count: int = 0
    latency_buckets: dict[str, int] = field(default_factory=dict)
    latency_sum_ms: int = 0
    latency_count: int = 0

    def add(self, other: Totals) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, dict):
                for key, count in theirs.items():
                    mine[key] = mine.get(key, 0) + count
            else:
                setattr(self, f.name, mine + theirs)


def _aggregates() -> dict[str, Any]:
    aggs: dict[str, Any] = {
        "turns": Count("id"),
        "attempts_sum": Sum("attempts"),
        "attempted": Count("id", filter=Q(attempts__gt=0)),
        "input_tokens": Sum("input_tokens"),
        "output_tokens": Sum("output_tokens"),
        "cache_read_tokens": Sum("cache_read_tokens"),
        "cache_write_tokens": Sum("cache_write_tokens"),
        "cost_usd": Sum("cost_usd"),
        "ttft_sum_ms": Sum("ttft_ms"),
        "ttft_count": Count("ttft_ms"),
        "latency_sum_ms": Sum("latency_ms"),
        "latency_count": Count("latency_ms"),
    }
    for b in TTFT_BUCKETS_MS:
        aggs[f"ttft_le_{b}"] = Count("id", filter=Q(ttft_ms__lte=b))
    for b in LATENCY_BUCKETS_MS:
        aggs[f"latency_le_{b}"] = Count("id", filter=Q(latency_ms__lte=b))
    return aggs


def aggregate(turns: QuerySet[Any]) -> dict[Labels, Totals]:
    """Totals per label set over finished turns of the queryset."""
    rows = turns.exclude(outcome="running").order_by().values(*LABELS).annotate(**_aggregates())
    out: dict[Labels, Totals] = {}
    for row in rows:
        key: Labels = tuple(row[name] or "" for name in LABELS)  # type: ignore[assignment]
        out[key] = Totals(
            turns=row["turns"],
            retries=(row["attempts_sum"] or 0) - row["attempted"],
            input_tokens=row["input_tokens"] or 0,
            output_tokens=row["output_tokens"] or 0,
            cache_read_tokens=row["cache_read_tokens"] or 0,
            cache_write_tokens=row["cache_write_tokens"] or 0,
            cost_usd=row["cost_usd"] or Decimal("0"),
            ttft_buckets={str(b): row[f"ttft_le_{b}"] for b in TTFT_BUCKETS_MS},
            ttft_sum_ms=row["ttft_sum_ms"] or 0,
            ttft_count=row["ttft_count"],
            latency_buckets={str(b): row[f"latency_le_{b}"] for b in LATENCY_BUCKETS_MS},
            latency_sum_ms=row["latency_sum_ms"] or 0,
            latency_count=row["latency_count"],
        )
    return out


def carried() -> dict[Labels, Totals]:
    from ops.models import TelemetryCarry

    out: dict[Labels, Totals] = {}
    for c in TelemetryCarry.objects.all():
        key: Labels = (c.model, c.lab, c.backend, c.outcome, c.degraded_kind)
        out[key] = Totals(**{f.name: getattr(c, f.name) for f in fields(Totals)})
    return out


def totals() -> dict[Labels, Totals]:
    """Everything ever recorded: live rows plus what pruning carried over."""
    from labs.models import CoachTurn

    merged = carried()
    for key, live in aggregate(CoachTurn.objects.filter(drill="")).items():
        merged.setdefault(key, Totals()).add(live)
    return merged


def _le(bound_ms: int) -> str:
    """The `le` label Prometheus clients write for a bound in seconds ("0.25", "2.0")."""
    return str(floatToGoString(bound_ms / 1000))  # type: ignore[no-untyped-call]


def _histogram(
    name: str, doc: str, by: dict[tuple[str, str], Totals], prefix: str, bounds: Iterable[int]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=["model", "lab"])
    for (model, lab), t in sorted(by.items()):
        got: dict[str, int] = getattr(t, f"{prefix}_buckets")
        count: int = getattr(t, f"{prefix}_count")
        buckets = [(_le(b), float(got.get(str(b), 0))) for b in bounds]
        buckets.append(("+Inf", float(count)))
        family.add_metric([model, lab], buckets, getattr(t, f"{prefix}_sum_ms") / 1000)
    return family


@dataclass(frozen=True)
class Gauges:
    running: int
    cost_today_usd: float
    budget_day_usd: float
    alerts: dict[str, bool]


class TurnCollector:
    """A prometheus-client collector: builds every series from `totals()` when scraped."""

    def __init__(
        self,
        all_totals: dict[Labels, Totals],
        gauges: Gauges,
        drills: dict[DrillLabels, int] | None = None,
    ) -> None:
        self.all_totals = all_totals
        self.gauges = gauges
        self.drills = drills or {}

    def collect(self) -> Iterator[Metric]:
        turns = CounterMetricFamily(
            "coach_turns",
            "Finished coach turns by model, lab, backend and outcome.",
            labels=["model", "lab", "backend", "outcome"],
        )
        degraded = CounterMetricFamily(
            "coach_degraded_turns",
            "Coach turns that ended degraded, by kind.",
            labels=["model", "lab", "kind"],
        )
        retries = CounterMetricFamily(
            "coach_retries",
            "Attempts beyond the first, summed over finished turns.",
            labels=["model", "lab"],
        )
        tokens = CounterMetricFamily(
            "coach_tokens",
            "Tokens billed, by model, lab and kind (input, output, cache_read, cache_write).",
            labels=["model", "lab", "kind"],
        )
        cost = CounterMetricFamily(
            "coach_cost_usd", "Cost of coach turns in US dollars.", labels=["model", "lab"]
        )
        by_outcome: dict[tuple[str, str, str, str], int] = {}
        by_kind: dict[tuple[str, str, str], int] = {}
        by_model_lab: dict[tuple[str, str], Totals] = {}
        for (model, lab, backend, outcome, kind), t in self.all_totals.items():
            key4 = (model, lab, backend, outcome)
            by_outcome[key4] = by_outcome.get(key4, 0) + t.turns
            if outcome == "degraded":
                key3 = (model, lab, kind or "unknown")
                by_kind[key3] = by_kind.get(key3, 0) + t.turns
            by_model_lab.setdefault((model, lab), Totals()).add(t)
        for k4, n in sorted(by_outcome.items()):
            turns.add_metric(list(k4), n)
        for k3, n in sorted(by_kind.items()):
            degraded.add_metric(list(k3), n)
        for (model, lab), t in sorted(by_model_lab.items()):
            retries.add_metric([model, lab], t.retries)
            for kind in ("input", "output", "cache_read", "cache_write"):
                tokens.add_metric([model, lab, kind], getattr(t, f"{kind}_tokens"))
            cost.add_metric([model, lab], float(t.cost_usd))
        drills = CounterMetricFamily(
            "coach_drill_turns",
            "Finished fault-drill turns (failing on purpose; in no other coach_ series).",
            labels=["drill", "outcome"],
        )
        for (drill, outcome), n in sorted(self.drills.items()):
            drills.add_metric([drill, outcome], n)
        yield from (turns, degraded, retries, tokens, cost, drills)
        yield _histogram(
            "coach_ttft_seconds",
            "Time to first token of answered coach turns.",
            by_model_lab,
            "ttft",
            TTFT_BUCKETS_MS,
        )
        yield _histogram(
            "coach_turn_duration_seconds",
            "Coach turn latency, from send to the last token.",
            by_model_lab,
            "latency",
            LATENCY_BUCKETS_MS,
        )
        g = self.gauges
        yield GaugeMetricFamily("coach_turns_in_progress", "Coach turns running now.", g.running)
        yield GaugeMetricFamily(
            "coach_cost_today_usd", "Coach cost since midnight UTC.", g.cost_today_usd
        )
        yield GaugeMetricFamily(
            "coach_budget_global_day_usd",
            "The daily budget for all coaches (USD).",
            g.budget_day_usd,
        )
        firing = GaugeMetricFamily(
            "ops_alert_firing", "1 when the dashboard's alert rule is firing.", labels=["alert"]
        )
        for name, on in sorted(g.alerts.items()):
            firing.add_metric([name], 1.0 if on else 0.0)
        yield firing


def running_now(now: datetime) -> int:
    from labs.models import CoachTurn

    running = CoachTurn.objects.filter(outcome="running", started__gte=now - STALE_RUNNING)
    return running.filter(drill="").count()


def drill_counts(turns: QuerySet[Any]) -> dict[DrillLabels, int]:
    """Finished fault-drill turns of the queryset by (drill, outcome)."""
    rows = (
        turns.exclude(drill="")
        .exclude(outcome="running")
        .order_by()
        .values_list("drill", "outcome")
        .annotate(n=Count("id"))
    )
    return {(drill, outcome): n for drill, outcome, n in rows}


def drill_totals() -> dict[DrillLabels, int]:
    """Every finished fault-drill turn, exported apart from the real turns: live rows plus what
    pruning carried over."""
    from labs.models import CoachTurn
    from ops.models import DrillCarry

    merged = {(c.drill, c.outcome): c.turns for c in DrillCarry.objects.all()}
    for key, n in drill_counts(CoachTurn.objects.all()).items():
        merged[key] = merged.get(key, 0) + n
    return merged


def exposition(gauges: Gauges) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TurnCollector(totals(), gauges, drill_totals()))
    return generate_latest(registry)
