"""The fault table, asserted through the real SDK; shared by the transport and ASGI tests.

Each check takes an ``AsyncAnthropic`` and the extra headers that select the plan (empty
when the plan was set on the simulator itself).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anthropic
import httpx2
import pytest

from resilient.errors import NetworkError, ResilientError, TimedOut, classify

MODEL = "claude-sonnet-4-6"
# Twelve stream tokens (one piece per word), so token counts in the plans are easy to read.
REPLY = "one two three four five six seven eight nine ten eleven twelve"
PIECES = ["one"] + [f" {w}" for w in REPLY.split()[1:]]


def reply(_request: Any) -> str:
    return REPLY


async def stream(
    client: anthropic.AsyncAnthropic,
    headers: dict[str, str],
    received: list[str],
    *,
    max_tokens: int = 100,
) -> Any:
    """Stream one message, appending text to ``received``; returns the final message."""
    async with client.messages.stream(
        model=MODEL,
        max_tokens=max_tokens,
        messages=[{"role": "user", "content": "Explain backoff."}],
        extra_headers=headers,
    ) as events:
        async for text in events.text_stream:
            received.append(text)
        return await events.get_final_message()


# (plan, exact SDK class, status, error.type, retry-after header, error_code)
HTTP_FAULTS = [
    ("429:retry_after=2", anthropic.RateLimitError, 429, "rate_limit_error", "2", None),
    ("529", anthropic.OverloadedError, 529, "overloaded_error", None, None),
    ("500", anthropic.InternalServerError, 500, "api_error", None, None),
    ("503", anthropic.ServiceUnavailableError, 503, "api_error", None, None),
    ("408", anthropic.RequestTimeoutError, 408, "timeout_error", None, None),
    ("400", anthropic.BadRequestError, 400, "invalid_request_error", None, None),
    ("401", anthropic.AuthenticationError, 401, "authentication_error", None, None),
    ("403", anthropic.PermissionDeniedError, 403, "permission_error", None, None),
    ("404", anthropic.NotFoundError, 404, "not_found_error", None, None),
    ("413", anthropic.ContentTooLargeError, 413, "request_too_large", None, None),
    # The SDK picks a RateLimitError subclass from the error code.
    (
        "spend_cap",
        anthropic.types.shared.EnforcedSpendLimitReachedError,
        429,
        "rate_limit_error",
        None,
        "enforced_spend_limit_reached",
    ),
]
HTTP_FAULT_IDS = [case[0] for case in HTTP_FAULTS]


async def check_http_fault(
    client: anthropic.AsyncAnthropic, headers: dict[str, str], case: tuple[Any, ...]
) -> None:
    plan, cls, status, error_type, retry_after, error_code = case
    received: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as info:
        await stream(client, headers, received)
    error = info.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.type == error_type
    assert error.response.headers.get("retry-after") == retry_after
    assert error.error_code == error_code
    assert error.request_id is not None and error.request_id.startswith("req_sim_")
    assert received == []


async def check_error_event(client: anthropic.AsyncAnthropic, headers: dict[str, str]) -> None:
    """error@5: a 200 stream that turns into an in-band overloaded error after 5 tokens."""
    received: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as info:
        await stream(client, headers, received)
    assert type(info.value) is anthropic.APIStatusError
    assert info.value.status_code == 200
    assert isinstance(info.value.body, dict)
    assert info.value.body["error"]["type"] == "overloaded_error"
    assert received == PIECES[:5]


def failure_of(exc: BaseException) -> ResilientError:
    """What the resilient client makes of an error the SDK let out of a stream.

    Which class the SDK raises for a failed body depends on its release (anthropic 2.17 wraps
    it as `APIConnectionError` / `APITimeoutError`; earlier releases let httpx2's own error
    escape): the client classifies both the same way, and that is what these checks hold to.
    """
    return classify(exc)


async def check_drop(client: anthropic.AsyncAnthropic, headers: dict[str, str]) -> None:
    """drop@4: four tokens, then the connection is lost: a retriable network failure."""
    received: list[str] = []
    with pytest.raises(Exception) as info:
        await stream(client, headers, received)
    failure = failure_of(info.value)
    assert type(failure) is NetworkError and failure.retriable
    assert received == PIECES[:4]


async def check_eof(client: anthropic.AsyncAnthropic, headers: dict[str, str]) -> None:
    """eof@4: a clean end without message_stop raises nothing; only stop_reason tells."""
    received: list[str] = []
    final = await stream(client, headers, received)
    assert received == PIECES[:4]
    assert final.stop_reason is None
    assert final.content[0].text == "".join(PIECES[:4])


async def check_stall(client: anthropic.AsyncAnthropic, headers: dict[str, str]) -> None:
    """stall@2: two tokens, then silence until the client's read timeout fires."""
    received: list[str] = []
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        await stream(client.with_options(timeout=0.2), headers, received)
    failure = failure_of(info.value)
    assert type(failure) is TimedOut and failure.retriable
    assert received == PIECES[:2]
    assert 0.15 < time.monotonic() - started < 2


async def check_slow_ttft(client: anthropic.AsyncAnthropic, headers: dict[str, str]) -> None:
    """slow_ttft=0.3: the whole reply, but the first token only after 0.3 s."""
    started = time.monotonic()
    first: list[float] = []
    async with client.messages.stream(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers=headers,
    ) as events:
        async for _text in events.text_stream:
            first.append(time.monotonic() - started)
        final = await events.get_final_message()
    assert first[0] >= 0.3
    assert final.stop_reason == "end_turn"
    assert final.content[0].text == REPLY


async def check_max_tokens(client: anthropic.AsyncAnthropic, headers: dict[str, str]) -> None:
    """max_tokens: the reply stops early with stop_reason "max_tokens"."""
    received: list[str] = []
    final = await stream(client, headers, received)
    assert final.stop_reason == "max_tokens"
    assert 0 < len(received) < len(PIECES)
    assert final.usage.output_tokens == len(received)


async def check_real_truncation(client: anthropic.AsyncAnthropic, headers: dict[str, str]) -> None:
    """No fault at all: a reply longer than max_tokens is cut there, as the API does."""
    received: list[str] = []
    final = await stream(client, headers, received, max_tokens=3)
    assert (received, final.stop_reason, final.usage.output_tokens) == (PIECES[:3], "max_tokens", 3)


Check = Callable[[anthropic.AsyncAnthropic, dict[str, str]], Awaitable[None]]

STREAM_FAULTS: list[tuple[str, Check]] = [
    ("error@5", check_error_event),
    ("drop@4", check_drop),
    ("eof@4", check_eof),
    ("stall@2", check_stall),
    ("slow_ttft=0.3", check_slow_ttft),
    ("max_tokens", check_max_tokens),
    ("ok", check_real_truncation),
]
STREAM_FAULT_IDS = [case[0] for case in STREAM_FAULTS]


async def raw_events(http: httpx2.AsyncClient, headers: dict[str, str]) -> list[tuple[float, str]]:
    """(seconds since the request, event name) for every SSE event of one stream."""
    body = {
        "model": MODEL,
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    started = time.monotonic()
    seen: list[tuple[float, str]] = []
    async with http.stream("POST", "/v1/messages", json=body, headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                seen.append((time.monotonic() - started, line.removeprefix("event: ")))
    return seen


async def check_pings_before_first_token(http: httpx2.AsyncClient, headers: dict[str, str]) -> None:
    """slow_ttft=0.3 with pings every 0.05 s: pings keep the connection busy meanwhile."""
    seen = await raw_events(http, headers)
    names = [name for _t, name in seen]
    first_delta = names.index("content_block_delta")
    assert names[0] == "message_start"
    assert names[1] == "ping"  # one right after message_start
    assert names[:first_delta].count("ping") >= 4
    assert seen[first_delta][0] >= 0.3
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
