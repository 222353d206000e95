from __future__ import annotations

import anthropic
import httpx2
import pytest

from resilient.errors import (
    BudgetExhausted,
    Forbidden,
    InvalidRequest,
    NetworkError,
    NotFound,
    NotRetriable,
    Overloaded,
    RateLimited,
    SpendCapReached,
    TimedOut,
    Unauthorized,
    classify,
)
from resilient.events import DEGRADED_MESSAGES, OPERATOR_KINDS

SDK = anthropic.AsyncAnthropic(api_key="test-key")
REQUEST = httpx2.Request("POST", "https://api.example/v1/messages")
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "api_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


def status_error(status, headers=None, body=None):
    body = body or {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error")}}
    response = httpx2.Response(status, headers=headers or {}, json=body, request=REQUEST)
    return SDK._make_status_error("boom", body=body, response=response)


@pytest.mark.parametrize(
    ("status", "cls", "kind", "retriable"),
    [
        (400, InvalidRequest, "invalid_request", False),
        (401, Unauthorized, "credentials", False),
        (403, Forbidden, "permission", False),
        (404, NotFound, "not_found", False),
        (413, InvalidRequest, "invalid_request", False),
        (418, NotRetriable, "not_retriable", False),
        (408, TimedOut, "timeout", True),
        (409, Overloaded, "overloaded", True),
        (429, RateLimited, "rate_limited", True),
        (500, Overloaded, "overloaded", True),
        (503, Overloaded, "overloaded", True),
        (529, Overloaded, "overloaded", True),
    ],
)
def test_status_classification_table(status, cls, kind, retriable):
    err = classify(status_error(status, {"request-id": "req_1"}))
    assert type(err) is cls
    assert (err.kind, err.retriable, err.status, err.request_id) == (
        kind,
        retriable,
        status,
        "req_1",
    )
    assert err.message == DEGRADED_MESSAGES[kind]


def test_429_carries_retry_after():
    err = classify(status_error(429, {"retry-after": "7"}))
    assert err.retry_after == 7.0


# What a learner is told to do, by cause: the advice must fit what can fix it.
ADVICE = {
    "rate_limited": "wait a moment",
    "overloaded": "try again in a minute",
    "network": "try again",
    "timeout": "try again",
    "budget_exhausted": "Start a new conversation or come back tomorrow",
    "invalid_request": "shorten it",
    "credentials": "tell your instructor",
    "permission": "tell your instructor",
    "not_found": "tell your instructor",
    "spend_cap": "tell your instructor",
    "not_retriable": "try again",
}


@pytest.mark.parametrize(("kind", "advice"), ADVICE.items())
def test_each_cause_gives_the_advice_that_can_help(kind, advice):
    message = DEGRADED_MESSAGES[kind]
    assert advice in message
    # Rephrasing cannot fix an operator's problem, and waiting cannot fix a bad request.
    if kind in OPERATOR_KINDS:
        assert "shorten" not in message and "rephras" not in message.lower()
    if kind != "budget_exhausted":
        assert "Your message is kept" in message


def test_a_long_retry_after_says_for_how_long():
    err = classify(status_error(429, {"retry-after": "75"}))
    assert "pause for 75 seconds" in err.message
    assert "about 3 minutes" in classify(status_error(429, {"retry-after": "170"})).message
    assert err.message != DEGRADED_MESSAGES["rate_limited"]
    assert (
        classify(status_error(429, {"retry-after": "1"})).message
        == (DEGRADED_MESSAGES["rate_limited"])
    )


def test_x_should_retry_overrides_the_status():
    assert classify(status_error(529, {"x-should-retry": "false"})).retriable is False
    assert classify(status_error(400, {"x-should-retry": "true"})).retriable is True


def test_spend_cap_is_budget_exhausted_and_final():
    body = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "spend limit",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
    }
    err = classify(status_error(429, body=body))
    assert isinstance(err, SpendCapReached) and isinstance(err, BudgetExhausted)
    assert err.kind == "spend_cap" and not err.retriable


@pytest.mark.parametrize(
    ("error_type", "cls", "retriable"),
    [
        ("overloaded_error", Overloaded, True),
        ("api_error", Overloaded, True),
        ("rate_limit_error", RateLimited, True),
        ("invalid_request_error", InvalidRequest, False),
        ("authentication_error", Unauthorized, False),
        ("permission_error", Forbidden, False),
        ("not_found_error", NotFound, False),
        ("some_new_error", NotRetriable, False),
    ],
)
def test_mid_stream_error_event_uses_the_body_type(error_type, cls, retriable):
    # An SSE `event: error` arrives after the 200: the SDK raises with status_code 200.
    err = classify(status_error(200, body={"type": "error", "error": {"type": error_type}}))
    assert type(err) is cls
    assert err.retriable is retriable
    assert error_type in err.label


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx2.RemoteProtocolError("peer closed", request=REQUEST), NetworkError),
        (httpx2.ReadError("reset", request=REQUEST), NetworkError),
        (httpx2.ConnectError("refused", request=REQUEST), NetworkError),
        (httpx2.ReadTimeout("stall", request=REQUEST), TimedOut),
        (anthropic.APIConnectionError(request=REQUEST), NetworkError),
        (anthropic.APITimeoutError(request=REQUEST), TimedOut),
        (ValueError("bug"), NotRetriable),
    ],
)
def test_transport_errors_table(exc, cls):
    err = classify(exc)
    assert type(err) is cls
    assert err.retriable is (cls is not NotRetriable)
