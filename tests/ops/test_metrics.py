"""`/metrics`: who may read it, and that its series match the stored turns."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from ops import process_metrics
from ops.prune import prune
from resilient.telemetry import AttemptRecord
from tests.conftest import REPO


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


@pytest.mark.django_db
def test_anonymous_visitors_are_refused(anon_client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    response = anon_client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"coach_turns" not in response.content


@pytest.mark.django_db
def test_learners_are_refused_and_a_wrong_token_is_refused(learner_client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert learner_client.get("/metrics").status_code == 403
    wrong = Client().get("/metrics", headers={"Authorization": "Bearer guessed"})
    assert wrong.status_code == 401


@pytest.mark.django_db
def test_no_token_configured_means_no_token_works(settings):
    settings.METRICS_TOKEN = None
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401


@pytest.mark.django_db
def test_staff_and_the_bearer_token_may_scrape(instructor_client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert instructor_client.get("/metrics").status_code == 200
    scraper = Client().get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert scraper.status_code == 200
    assert scraper["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_turn_series_match_the_stored_rows(instructor_client, turns):
    now = timezone.now()
    turns(
        started=now - timedelta(minutes=3),
        ttft_ms=200,
        latency_ms=1500,
        attempts=1,
        input_tokens=100,
        output_tokens=40,
        cache_read_tokens=900,
        cache_write_tokens=0,
        cost_usd=Decimal("0.0100"),
    )
    turns(
        started=now - timedelta(minutes=2),
        ttft_ms=2500,
        latency_ms=12_000,
        attempts=3,
        input_tokens=100,
        output_tokens=60,
        cache_read_tokens=0,
        cache_write_tokens=900,
        cost_usd=Decimal("0.0250"),
    )
    turns(
        started=now - timedelta(minutes=1),
        outcome="degraded",
        degraded_kind="rate_limited",
        attempts=4,
        ttft_ms=None,
        latency_ms=9000,
        input_tokens=0,
        output_tokens=0,
        cost_usd=Decimal("0"),
    )
    turns(
        started=now,
        outcome="running",
        ttft_ms=None,
        latency_ms=None,
        finished=None,
        cost_usd=Decimal("0"),
    )
    turns(
        started=now,
        lab="budget-lab",
        model="claude-haiku-4-5",
        backend="offline",
        cost_usd=Decimal("0.5"),
    )

    found = samples(instructor_client.get("/metrics").content)
    lab = {"model": "claude-sonnet-4-6", "lab": "retry-lab"}
    assert value(found, "coach_turns_total", backend="api", outcome="completed", **lab) == 2
    assert value(found, "coach_turns_total", backend="api", outcome="degraded", **lab) == 1
    assert (
        "coach_turns_total",
        (
            ("backend", "api"),
            ("lab", "retry-lab"),
            ("model", "claude-sonnet-4-6"),
            ("outcome", "running"),
        ),
    ) not in found
    assert value(found, "coach_turns_in_progress") == 1
    assert value(found, "coach_degraded_turns_total", kind="rate_limited", **lab) == 1
    assert value(found, "coach_retries_total", **lab) == 0 + 2 + 3
    assert value(found, "coach_tokens_total", kind="input", **lab) == 200
    assert value(found, "coach_tokens_total", kind="output", **lab) == 100
    assert value(found, "coach_tokens_total", kind="cache_read", **lab) == 900
    assert value(found, "coach_tokens_total", kind="cache_write", **lab) == 900
    assert value(found, "coach_cost_usd_total", **lab) == pytest.approx(0.035)
    assert value(found, "coach_cost_usd_total", model="claude-haiku-4-5", lab="budget-lab") == 0.5
    # TTFT 0.2 s and 2.5 s; latency 1.5 s, 12 s and 9 s.
    assert value(found, "coach_ttft_seconds_bucket", le="0.25", **lab) == 1
    assert value(found, "coach_ttft_seconds_bucket", le="2.0", **lab) == 1
    assert value(found, "coach_ttft_seconds_bucket", le="3.0", **lab) == 2
    assert value(found, "coach_ttft_seconds_count", **lab) == 2
    assert value(found, "coach_ttft_seconds_sum", **lab) == pytest.approx(2.7)
    assert value(found, "coach_turn_duration_seconds_bucket", le="10.0", **lab) == 2
    assert value(found, "coach_turn_duration_seconds_bucket", le="+Inf", **lab) == 3
    assert value(found, "coach_cost_today_usd") == pytest.approx(0.535)
    assert value(found, "coach_budget_global_day_usd") == 50.0
    assert value(found, "ops_alert_firing", alert="CoachErrorRateHigh") == 0


@pytest.mark.django_db
def test_page_requests_websockets_retries_and_governor_waits_are_exposed(instructor_client):
    instructor_client.get("/")
    process_metrics.observe_record(
        AttemptRecord(
            "c1",
            "claude-haiku-4-5",
            1,
            "rate_limited",
            status=429,
            governor_wait=0.3,
            wait_chosen=2.0,
        )
    )
    process_metrics.observe_record(AttemptRecord("c1", "claude-haiku-4-5", 2, "ok"))
    found = samples(instructor_client.get("/metrics").content)
    assert value(found, "http_requests_total", view="home", method="GET", status="200") >= 1
    assert value(found, "http_request_duration_seconds_count", view="home", method="GET") >= 1
    assert ("websocket_connections_open", ()) in found
    assert (
        value(found, "coach_api_retries_total", model="claude-haiku-4-5", kind="rate_limited") >= 1
    )
    assert value(found, "coach_api_attempts_total", model="claude-haiku-4-5", outcome="ok") >= 1
    assert value(found, "coach_governor_wait_seconds_count", model="claude-haiku-4-5") >= 2
    assert (
        value(found, "coach_governor_wait_seconds_bucket", model="claude-haiku-4-5", le="0.25") >= 1
    )


@pytest.mark.django_db
def test_pruning_old_rows_never_lowers_a_counter(instructor_client, turns):
    now = timezone.now()
    for days in (40, 35, 1):
        turns(started=now - timedelta(days=days), attempts=2, cost_usd=Decimal("0.02"))
    turns(
        started=now - timedelta(days=50),
        outcome="degraded",
        degraded_kind="overloaded",
        ttft_ms=None,
    )
    before = {
        k: v
        for k, v in samples(instructor_client.get("/metrics").content).items()
        if k[0].startswith(
            (
                "coach_turns",
                "coach_tokens",
                "coach_cost_usd",
                "coach_retries",
                "coach_degraded",
                "coach_ttft",
                "coach_turn_duration",
            )
        )
    }
    result = prune(now - timedelta(days=30), batch=2)
    assert result.turns == 3 and result.batches == 2
    after = samples(instructor_client.get("/metrics").content)
    assert {k: after[k] for k in before} == before
    assert (
        value(
            after,
            "coach_turns_total",
            model="claude-sonnet-4-6",
            lab="retry-lab",
            backend="api",
            outcome="completed",
        )
        == 3
    )


_WORKER = """
import sys
from ops import process_metrics as m
m.observe_request("home", "GET", 200, 0.01)
m.websocket_opened()
if sys.argv[1] == "stay":
    print("ready", flush=True)
    sys.stdin.readline()
"""


def _worker(env, mode):
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, mode],
        cwd=REPO,
        env=env,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )


def test_several_worker_processes_are_summed_in_multiprocess_mode(tmp_path):
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    staying = _worker(env, "stay")
    try:
        assert staying.stdout.readline().strip() == "ready"
        leaving = _worker(env, "leave")
        assert leaving.wait(timeout=30) == 0
        found = samples(process_metrics.exposition(str(tmp_path)))
        assert value(found, "http_requests_total", view="home", method="GET", status="200") == 2
        # The exited worker's sockets closed with it; only the live worker's one remains.
        assert value(found, "websocket_connections_open") == 1
    finally:
        staying.communicate("\n", timeout=30)
    found = samples(process_metrics.exposition(str(tmp_path)))
    assert value(found, "http_requests_total", view="home", method="GET", status="200") == 2
    assert found.get(("websocket_connections_open", ()), 0) == 0


def test_drill_turns_are_counted_apart_from_the_coach_series(instructor_client, turns):
    turns(outcome="completed", cost_usd=Decimal("0.01"))
    turns(outcome="degraded", degraded_kind="overloaded", drill="outage", cost_usd=Decimal("1"))
    body = instructor_client.get("/metrics").content.decode()
    assert 'coach_drill_turns_total{drill="outage",outcome="degraded"} 1.0' in body
    assert "coach_degraded_turns_total{" not in body
    assert 'outcome="degraded"' not in body.split("coach_drill_turns")[0]


def _counters(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every `_total` sample a scrape of /metrics shows."""
    return {
        k: v for k, v in samples(client.get("/metrics").content).items() if k[0].endswith("_total")
    }


def test_pruning_keeps_every_total_and_the_drill_count_exactly(instructor_client, turns):
    now = timezone.now()
    for days in (40, 1):
        turns(started=now - timedelta(days=days), attempts=2, cost_usd=Decimal("0.02"))
        turns(
            started=now - timedelta(days=days),
            outcome="degraded",
            degraded_kind="overloaded",
            drill="outage",
            attempts=3,
            cost_usd=Decimal("0"),
        )
    turns(started=now - timedelta(days=45), outcome="completed", drill="storm")
    turns(started=now - timedelta(days=45), outcome="running", drill="storm", finished=None)
    before = _counters(instructor_client)
    assert value(before, "coach_drill_turns_total", drill="outage", outcome="degraded") == 2
    assert value(before, "coach_drill_turns_total", drill="storm", outcome="completed") == 1

    assert prune(now - timedelta(days=30), batch=2).turns == 4

    after = _counters(instructor_client)
    lowered = {k: (v, after.get(k)) for k, v in before.items() if after.get(k, 0) < v}
    assert lowered == {}
    drills = {k: v for k, v in before.items() if k[0] == "coach_drill_turns_total"}
    assert {k: after[k] for k in drills} == drills
    assert {k for k in after if k[0] == "coach_drill_turns_total"} == set(drills)


def test_drill_turns_after_pruning_keep_counting_up(instructor_client, turns):
    now = timezone.now()
    outage = {"drill": "outage", "outcome": "degraded"}
    turns(started=now - timedelta(days=40), degraded_kind="overloaded", **outage)
    prune(now - timedelta(days=30))
    assert value(_counters(instructor_client), "coach_drill_turns_total", **outage) == 1
    turns(started=now, degraded_kind="overloaded", **outage)
    assert value(_counters(instructor_client), "coach_drill_turns_total", **outage) == 2
    prune(now + timedelta(minutes=1))
    turns(started=now + timedelta(minutes=2), degraded_kind="overloaded", **outage)
    assert value(_counters(instructor_client), "coach_drill_turns_total", **outage) == 3
