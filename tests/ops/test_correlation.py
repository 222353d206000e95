"""A correlation id per request: in the response header and on every log record it causes."""

from __future__ import annotations

import logging

import pytest
from django.test import AsyncClient, Client

from ops.correlation import clean
from resilient.telemetry import correlation_id

pytestmark = pytest.mark.urls("tests.ops.probe_urls")


@pytest.mark.parametrize(
    ("header", "trusted", "kept"),
    [
        ("edge-7f3a", True, True),
        ("edge-7f3a", False, False),  # an untrusted client may not choose its log id
        ("3f2b9c1e-7d4a-4e8b-9a51-0c2d6e8f1a2b", True, True),
        ("Root=1-6789;Parent=53995c3f", True, False),
        ("", True, False),
        (None, True, False),
        ("has space", True, False),
        ("line\nbreak", True, False),
        ("x" * 64, True, True),
        ("x" * 65, True, False),  # longer than CoachTurn.correlation_id holds
        ("-leading-dash", True, False),
    ],
)
def test_clean_keeps_only_trusted_well_formed_ids(header, trusted, kept):
    got = clean(header, trusted=trusted)
    if kept:
        assert got == header
    else:
        assert got != header and len(got) == 32


def _check_request_logs(lines, cid):
    assert lines, "the request logged nothing"
    assert all(line.get("correlation_id") == cid for line in lines), lines
    attempts = [line for line in lines if line.get("event") == "resilient.attempt"]
    assert [a["outcome"] for a in attempts] == ["rate_limited", "ok"]
    assert all(a["request_id"].startswith("req_") for a in attempts)  # the upstream's id
    assert any(line.get("event") == "resilient.call" for line in lines)
    assert any(line.get("message") == "probe view called" for line in lines)


@pytest.mark.django_db
def test_it_gives_a_request_an_id_and_puts_it_on_every_log_record(log_lines):
    response = Client().get("/probe/")
    assert response.status_code == 200
    cid = response["X-Request-ID"]
    assert len(cid) == 32
    assert response.json() == {"attempts": 2, "correlation_id": cid}
    _check_request_logs(log_lines(), cid)


@pytest.mark.django_db(transaction=True)
async def test_it_does_the_same_on_the_asgi_path(log_lines):
    response = await AsyncClient().get("/probe/")
    cid = response["X-Request-ID"]
    assert response.json()["correlation_id"] == cid
    _check_request_logs(log_lines(), cid)


@pytest.mark.django_db
def test_it_uses_the_proxy_id_only_when_trusted(settings, log_lines):
    settings.TRUST_X_REQUEST_ID = False
    ignored = Client().get("/probe/", headers={"X-Request-ID": "edge-42"})
    assert ignored["X-Request-ID"] != "edge-42"

    settings.TRUST_X_REQUEST_ID = True
    kept = Client().get("/probe/", headers={"X-Request-ID": "edge-42"})
    assert kept["X-Request-ID"] == "edge-42"
    assert kept.json()["correlation_id"] == "edge-42"
    assert {line["correlation_id"] for line in log_lines()} == {ignored["X-Request-ID"], "edge-42"}


@pytest.mark.django_db
def test_the_id_does_not_outlive_the_request(log_lines):
    first = Client().get("/probe/")["X-Request-ID"]
    second = Client().get("/probe/")["X-Request-ID"]
    assert first != second
    assert correlation_id() is None
    logging.getLogger("tests.ops").warning("after the requests")
    assert "correlation_id" not in log_lines()[-1]


@pytest.mark.django_db
def test_every_page_gets_the_header_even_a_404(log_lines):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    cid = response["X-Request-ID"]
    not_found = [line for line in log_lines() if line["logger"] == "django.request"]
    assert not_found and all(line["correlation_id"] == cid for line in not_found)
