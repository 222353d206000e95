"""Alert rules as data, and their evaluation. Pure functions.

A rule names a signal, a comparison and a threshold. Signals are measured over the last
`window` (the error rate and latency rules) or over the UTC day (cost), from the same turn rows
the dashboard shows. `docs/prometheus-alerts.yml` states the same rules in PromQL, and
`docs/runbook.md` says what to do when each fires (its anchor is `Rule.runbook`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ops.stats import TurnRow, summarize
from resilient.events import OPERATOR_KINDS


@dataclass(frozen=True)
class Thresholds:
    error_rate_percent: float = 5.0
    p95_latency_ms: float = 30_000.0
    p95_ttft_ms: float = 5_000.0
    daily_budget_usd: float = 50.0
    cost_fraction: float = 1.0  # of the daily budget
    window: timedelta = timedelta(minutes=5)
    min_turns: int = 5  # fewer answered turns in the window: too few to judge a rate


@dataclass(frozen=True)
class Signals:
    """What the rules look at. None: not enough data to say."""

    answered_in_window: int
    error_rate_percent: float | None
    p95_latency_ms: float | None
    p95_ttft_ms: float | None
    cost_today_usd: float
    refused_by_api: int = 0  # turns in the window the API refused for an operator's cause


@dataclass(frozen=True)
class Rule:
    name: str  # stable id; also the Prometheus alert name
    title: str
    signal: str  # a Signals field
    threshold: float
    unit: str
    meaning: str
    runbook: str  # anchor in docs/runbook.md


@dataclass(frozen=True)
class AlertState:
    rule: Rule
    value: float | None
    firing: bool


def rules(t: Thresholds) -> tuple[Rule, ...]:
    minutes = int(t.window.total_seconds() // 60)
    return (
        Rule(
            "CoachErrorRateHigh",
            f"Coach error rate above {t.error_rate_percent:g} % over {minutes} min",
            "error_rate_percent",
            t.error_rate_percent,
            "%",
            "Too many coach turns end degraded (the learner got an apology, not an answer).",
            "coach-error-rate-high",
        ),
        Rule(
            "CoachLatencyHigh",
            f"Coach p95 turn latency above {t.p95_latency_ms / 1000:g} s over {minutes} min",
            "p95_latency_ms",
            t.p95_latency_ms,
            "ms",
            "Replies take too long from send to last token.",
            "coach-latency-high",
        ),
        Rule(
            "CoachFirstTokenSlow",
            f"Coach p95 time to first token above {t.p95_ttft_ms / 1000:g} s over {minutes} min",
            "p95_ttft_ms",
            t.p95_ttft_ms,
            "ms",
            "Learners wait too long before the reply starts to appear.",
            "coach-first-token-slow",
        ),
        Rule(
            "CoachDailyCostOverBudget",
            f"Coach cost today at or above {t.cost_fraction:.0%} of the daily budget "
            f"(${t.daily_budget_usd * t.cost_fraction:,.2f})",
            "cost_today_usd",
            t.daily_budget_usd * t.cost_fraction,
            "USD",
            "Today's spend reached the budget; new turns are refused until midnight UTC.",
            "coach-daily-cost-over-budget",
        ),
        Rule(
            "CoachRefusedByApi",
            "The API refuses the course's account (key, permission, model or spend cap) "
            f"in the last {minutes} min",
            "refused_by_api",
            0,
            "turns",
            "Every turn fails the same way until an operator fixes the key, the model or the "
            "spend cap; learners are told to ask their instructor.",
            "coach-refused-by-api",
        ),
    )


def signals(rows: Iterable[TurnRow], now: datetime, day_start: datetime, t: Thresholds) -> Signals:
    rows = list(rows)
    recent = summarize(rows, now - t.window, now + timedelta(microseconds=1))
    today = summarize(rows, day_start, now + timedelta(microseconds=1))
    enough = recent.answered >= t.min_turns
    rate = recent.error_rate
    start = now - t.window
    refused = sum(1 for r in rows if r.started >= start and r.degraded_kind in OPERATOR_KINDS)
    return Signals(
        answered_in_window=recent.answered,
        error_rate_percent=(rate * 100) if enough and rate is not None else None,
        p95_latency_ms=recent.latency_ms[95] if enough else None,
        p95_ttft_ms=recent.ttft_ms[95] if enough else None,
        cost_today_usd=float(today.cost_usd),
        refused_by_api=refused,
    )


def evaluate(rule_set: Sequence[Rule], s: Signals) -> list[AlertState]:
    """Each rule with its current value; a rule fires when the value exceeds its threshold
    (cost: reaches it). A rule without a value does not fire."""
    states = []
    for rule in rule_set:
        value = getattr(s, rule.signal)
        if value is None:
            states.append(AlertState(rule, None, False))
            continue
        value = float(value) if isinstance(value, Decimal) else value
        firing = (
            value >= rule.threshold if rule.signal == "cost_today_usd" else (value > rule.threshold)
        )
        states.append(AlertState(rule, value, firing))
    return states
