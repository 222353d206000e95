"""Alert rules: a table of signals against thresholds, and a fault run that fires and clears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ops.alerts import Signals, Thresholds, evaluate, rules, signals
from ops.stats import TurnRow

T = Thresholds(
    error_rate_percent=5,
    p95_latency_ms=30_000,
    p95_ttft_ms=5_000,
    daily_budget_usd=50,
    cost_fraction=1.0,
    window=timedelta(minutes=5),
    min_turns=5,
)
DAY = datetime(2026, 3, 10, tzinfo=UTC)
NOW = DAY + timedelta(hours=12)


def firing(s: Signals) -> set[str]:
    return {a.rule.name for a in evaluate(rules(T), s) if a.firing}


def sig(**values) -> Signals:
    base = {
        "answered_in_window": 10,
        "error_rate_percent": 0.0,
        "p95_latency_ms": 1000.0,
        "p95_ttft_ms": 300.0,
        "cost_today_usd": 1.0,
    }
    base.update(values)
    return Signals(**base)


@pytest.mark.parametrize(
    ("signals_", "expected"),
    [
        (sig(), set()),
        (sig(error_rate_percent=5.0), set()),  # at the threshold: not above it
        (sig(error_rate_percent=5.1), {"CoachErrorRateHigh"}),
        (sig(error_rate_percent=None), set()),  # too few turns to judge
        (sig(p95_latency_ms=30_001), {"CoachLatencyHigh"}),
        (sig(p95_ttft_ms=5_001), {"CoachFirstTokenSlow"}),
        (sig(cost_today_usd=49.99), set()),
        (sig(cost_today_usd=50.0), {"CoachDailyCostOverBudget"}),  # reaching the budget counts
        (
            sig(error_rate_percent=80, p95_latency_ms=60_000, cost_today_usd=75),
            {"CoachErrorRateHigh", "CoachLatencyHigh", "CoachDailyCostOverBudget"},
        ),
    ],
)
def test_rules_fire_above_their_thresholds(signals_, expected):
    assert firing(signals_) == expected


def test_cost_rule_uses_the_budget_fraction():
    early = Thresholds(daily_budget_usd=50, cost_fraction=0.8)
    states = evaluate(rules(early), sig(cost_today_usd=40.0))
    cost = next(a for a in states if a.rule.name == "CoachDailyCostOverBudget")
    assert cost.firing and cost.rule.threshold == pytest.approx(40.0)


def turn(at: datetime, outcome: str = "completed", **values) -> TurnRow:
    values.setdefault("latency_ms", 2000)
    values.setdefault("ttft_ms", 300)
    return TurnRow(started=at, outcome=outcome, **values)


def test_a_fault_run_fires_the_error_rule_and_it_clears_after_the_run():
    fault_start = NOW - timedelta(minutes=4)
    healthy_before = [turn(NOW - timedelta(minutes=30, seconds=i)) for i in range(20)]
    fault_run = [
        turn(fault_start + timedelta(seconds=10 * i), "degraded", degraded_kind="rate_limited")
        for i in range(6)
    ] + [turn(fault_start + timedelta(seconds=5 + 10 * i)) for i in range(4)]
    rows = healthy_before + fault_run

    during = signals(rows, NOW, DAY, T)
    assert during.answered_in_window == 10
    assert during.error_rate_percent == pytest.approx(60.0)
    assert "CoachErrorRateHigh" in firing(during)

    later = NOW + timedelta(minutes=10)
    recovery = [turn(later - timedelta(seconds=20 * i)) for i in range(8)]
    after = signals(rows + recovery, later, DAY, T)
    assert after.error_rate_percent == 0.0
    assert "CoachErrorRateHigh" not in firing(after)


def test_few_turns_in_the_window_never_fire_the_rate_rules():
    rows = [turn(NOW - timedelta(minutes=1), "degraded", latency_ms=90_000) for _ in range(4)]
    s = signals(rows, NOW, DAY, T)
    assert (s.error_rate_percent, s.p95_latency_ms) == (None, None)
    assert firing(s) == set()


def test_cost_today_counts_from_midnight_utc_only():
    rows = [
        turn(DAY - timedelta(minutes=1), cost_usd=Decimal("40")),
        turn(DAY + timedelta(hours=1), cost_usd=Decimal("30")),
        turn(DAY + timedelta(hours=2), cost_usd=Decimal("25")),
    ]
    s = signals(rows, NOW, DAY, T)
    assert s.cost_today_usd == pytest.approx(55.0)
    assert "CoachDailyCostOverBudget" in firing(s)


@pytest.mark.parametrize("kind", ["credentials", "permission", "not_found", "spend_cap"])
def test_one_turn_the_api_refused_for_an_operators_cause_fires_at_once(kind):
    # A single turn is enough: every learner fails this way until an operator acts.
    rows = [turn(NOW - timedelta(minutes=1), "degraded", degraded_kind=kind)]
    s = signals(rows, NOW, DAY, T)
    assert s.refused_by_api == 1
    assert firing(s) == {"CoachRefusedByApi"}
    later = signals(rows, NOW + timedelta(minutes=10), DAY, T)
    assert "CoachRefusedByApi" not in firing(later)


@pytest.mark.parametrize("kind", ["rate_limited", "overloaded", "invalid_request", "timeout"])
def test_a_learner_side_or_passing_failure_does_not_call_the_operator(kind):
    rows = [turn(NOW - timedelta(minutes=1), "degraded", degraded_kind=kind)]
    assert "CoachRefusedByApi" not in firing(signals(rows, NOW, DAY, T))
