"""The staff dashboard: figures against a hand-computed fixture, alerts, charts, access."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from course.charts import bar_chart, nice_ceiling

pytestmark = pytest.mark.django_db


def figure(page: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', page)
    assert match, f"no figure {name}"
    return match.group(1).strip()


@pytest.fixture
def frozen_now(monkeypatch):
    now = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def seed_hour(turns, now):
    """20 answered turns in the last hour: latency 100, 200, ... 2000 ms, TTFT a tenth of it;
    two of them degraded; one cancelled; one running; older turns outside the hour."""
    for i in range(1, 21):
        outcome, kind = ("degraded", "overloaded") if i in (7, 14) else ("completed", "")
        turns(
            started=now - timedelta(minutes=i * 2),
            outcome=outcome,
            degraded_kind=kind,
            latency_ms=i * 100,
            ttft_ms=i * 10,
            attempts=2 if i <= 3 else 1,
            input_tokens=100,
            cache_read_tokens=300,
            cache_write_tokens=0,
            output_tokens=20,
            cost_usd=Decimal("0.0100"),
        )
    turns(
        started=now - timedelta(minutes=5),
        outcome="cancelled",
        latency_ms=60_000,
        ttft_ms=None,
        cost_usd=Decimal("0.0020"),
    )
    turns(
        started=now - timedelta(seconds=10),
        outcome="running",
        ttft_ms=None,
        latency_ms=None,
        cost_usd=Decimal("0"),
    )
    turns(started=now - timedelta(hours=3), latency_ms=99_999, cost_usd=Decimal("1.0000"))
    turns(started=now - timedelta(days=2), latency_ms=99_999, cost_usd=Decimal("60.0000"))


def test_hour_figures_match_the_hand_computed_fixture(instructor_client, turns, frozen_now):
    seed_hour(turns, frozen_now)
    page = instructor_client.get("/ops/?window=hour").content.decode()
    assert figure(page, "turns") == "21"  # 20 answered + 1 cancelled
    assert figure(page, "answered") == "20"
    assert figure(page, "error-rate") == "10.0 %"  # 2 / 20
    assert figure(page, "retries") == "3"
    assert figure(page, "cost") == "$0.2020"
    # cache reads 20 x 300; fresh input 20 x 100 plus the cancelled turn's 100
    assert figure(page, "cache-hit") == "74.1 %"  # 6000 / (2100 + 6000)
    assert figure(page, "running") == "1"
    # Nearest rank over 20 latencies: p50 = 10th = 1000 ms, p95 = 19th, p99 = 20th.
    assert figure(page, "latency-p50") == "1.00 s"
    assert figure(page, "latency-p95") == "1.90 s"
    assert figure(page, "latency-p99") == "2.00 s"
    assert figure(page, "ttft-p50") == "0.10 s"
    assert figure(page, "ttft-p95") == "0.19 s"
    assert 'data-kind="overloaded"' in page


def test_wider_windows_take_in_older_turns(instructor_client, turns, frozen_now):
    seed_hour(turns, frozen_now)
    day = instructor_client.get("/ops/?window=day").content.decode()
    week = instructor_client.get("/ops/?window=week").content.decode()
    assert figure(day, "turns") == "22"
    assert figure(day, "latency-p99") == "100.00 s"
    assert figure(week, "turns") == "23"
    assert figure(week, "cost") == "$61.2020"


def test_per_day_table_and_the_budget_line(instructor_client, turns, frozen_now, settings):
    settings.BUDGET_GLOBAL_DAY_USD = 50.0
    seed_hour(turns, frozen_now)
    page = instructor_client.get("/ops/").content.decode()
    rows = re.findall(
        r"<tr><th scope=\"row\">([^<]+)</th>(.*?)</tr>", page.split('id="per-day"')[1]
    )
    by_day = dict(rows)
    assert "$60.0000" in by_day["Sun 8 Mar"] and "over budget" in by_day["Sun 8 Mar"]
    assert "$1.2020" in by_day["Tue 10 Mar"] and "under" in by_day["Tue 10 Mar"]
    assert "Budget $50.00/day" in page
    assert 'fill="url(#hatch-cost)"' in page  # the over-budget bar is hatched, not only coloured


def test_alerts_fire_on_a_fault_run_and_clear_after_it(
    instructor_client, turns, monkeypatch, settings
):
    settings.ALERT_ERROR_RATE_PERCENT = 5.0
    settings.ALERT_MIN_TURNS = 5
    start = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    for i in range(6):
        turns(
            started=start + timedelta(seconds=20 * i),
            outcome="degraded",
            degraded_kind="rate_limited",
            attempts=4,
            ttft_ms=None,
        )
    for i in range(4):
        turns(started=start + timedelta(seconds=10 + 20 * i))

    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=3))
    during = instructor_client.get("/ops/").content.decode()
    assert 'role="alert"' in during
    assert "CoachErrorRateHigh" in during.split('id="alert-rules"')[0]  # in the firing box
    assert "60.0 %" in during

    for i in range(10):
        turns(started=start + timedelta(minutes=10, seconds=10 * i))
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(minutes=13))
    after = instructor_client.get("/ops/").content.decode()
    assert "No alert is firing." in after
    assert 'role="alert"' not in after


def test_only_staff_see_the_dashboard(learner_client, anon_client):
    assert learner_client.get("/ops/").status_code == 403
    response = anon_client.get("/ops/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_unknown_window_falls_back_to_the_day(instructor_client):
    page = instructor_client.get("/ops/?window=fortnight").content.decode()
    assert 'href="?window=day" aria-current="page"' in page


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1.0), (0.3, 0.5), (1, 1), (1.2, 2), (2.2, 2.5), (3, 5), (7, 10), (50, 50), (61, 100)],
)
def test_axis_tops_are_tidy(value, expected):
    assert nice_ceiling(value) == pytest.approx(expected)


def test_bars_above_the_line_are_marked_and_bars_scale_to_the_axis():
    chart = bar_chart(["a", "b"], [10.0, 60.0], ["$10", "$60"], line=50.0)
    assert [bar.over for bar in chart.bars] == [False, True]
    assert chart.bars[1].height == pytest.approx(chart.bars[0].height * 6, rel=0.01)
    assert chart.line_y is not None and chart.bars[1].y < chart.line_y < chart.bars[0].y


def test_drill_turns_are_left_out_of_the_figures_and_alerts_and_shown_apart(
    instructor_client, turns, frozen_now, settings
):
    settings.ALERT_ERROR_RATE_PERCENT = 5.0
    settings.ALERT_MIN_TURNS = 5
    seed_hour(turns, frozen_now)
    for i in range(12):  # a class practising the outage drill: every turn degraded
        turns(
            started=frozen_now - timedelta(minutes=1, seconds=i),
            outcome="degraded",
            degraded_kind="overloaded",
            attempts=4,
            ttft_ms=None,
            cost_usd=Decimal("0.5"),
            drill="outage",
            fault_plan="529*6",
        )
    page = instructor_client.get("/ops/?window=hour").content.decode()
    assert figure(page, "turns") == "21" and figure(page, "error-rate") == "10.0 %"
    assert figure(page, "cost") == "$0.2020"
    assert "Fault drills (learners practising, failing on purpose): 12 turns (12 degraded)" in page
    # Counted, the drills alone would fire the error-rate alert (12 of the window's 14 turns).
    settings.ALERT_ERROR_RATE_PERCENT = 20.0
    page = instructor_client.get("/ops/?window=hour").content.decode()
    assert "CoachErrorRateHigh" not in page.split('id="alert-rules"')[0]
    assert 'role="alert"' not in page
