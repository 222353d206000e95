"""One streaming attempt: open the stream, yield text, enforce the per-attempt timeouts.

The SDK builds and sends the request (`messages.with_streaming_response.create(stream=True)`:
its headers, auth, and an `APIStatusError` for a refused request); the response body is
decoded here (`resilient.sse`), which costs a fraction of the SDK's typed stream per event.
What this adds:
- a first-token timeout (request sent -> first text) and an idle timeout (between events once
  text has started; `ping` events do not count as progress, while they keep the HTTP read
  timeout from firing); a total timeout for the attempt (`resilient.watchdog`);
- text that arrived in one read leaves as one piece: each hop through the client and the
  relay costs more than the text it carries (with `resilient.transport`, a read is everything
  that has arrived, and can be paced);
- a stream that ends without `message_stop` is an interruption, never a completion; an SSE
  `event: error` is classified by its error type;
- every failure leaves as a classified `ResilientError` (`raise ... from`), and the response
  is always closed, so closing or cancelling the iterator closes the upstream HTTP response.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2

from resilient.errors import NetworkError, classify, stream_error
from resilient.events import Usage
from resilient.policy import Timeouts
from resilient.sse import ServerEvent, SSEDecoder
from resilient.transport import BodyControl, body_chunks
from resilient.watchdog import Watchdog


@dataclass(slots=True)
class AttemptState:
    """Filled in while an attempt runs; read by the client afterwards, also after a failure."""

    started: float = 0.0
    first_text_at: float | None = None
    text: list[str] = field(default_factory=list)
    headers: Mapping[str, str] | None = None
    request_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    stop_reason: str | None = None

    @property
    def shown_text(self) -> bool:
        return bool(self.text)


def sdk_timeout(timeouts: Timeouts) -> httpx2.Timeout:
    # The HTTP read timeout is only a backstop: pings reset it, our own timers do the real work.
    read = max(timeouts.first_token, timeouts.idle) + 1.0
    return httpx2.Timeout(connect=timeouts.connect, read=read, write=read, pool=read)


async def run_attempt(
    sdk: anthropic.AsyncAnthropic,
    request: dict[str, Any],
    timeouts: Timeouts,
    state: AttemptState,
    *,
    clock: Callable[[], float],
    on_headers: Callable[[Mapping[str, str]], Awaitable[None]] | None = None,
    read_interval: float = 0.0,
) -> AsyncGenerator[str, None]:
    """Yield the text of one attempt; on success `state` holds usage and stop_reason.

    Use it under `contextlib.aclosing` so that closing the consumer closes the upstream now.
    With `read_interval`, once text has started the body is read at most that often, when
    the transport can pace it (`resilient.transport.BodyControl`): the first token is never
    held back, later text waits at most one interval in the socket's buffer.
    """
    state.started = clock()
    watchdog = Watchdog(
        timeouts.total,
        f"reply not finished within {timeouts.total:g}s",
        timeouts.first_token,
        f"no response within {timeouts.first_token:g}s",
    )
    first_token_at = watchdog.deadline
    reply = _Reply()
    try:
        async with (
            watchdog,
            sdk.messages.with_streaming_response.create(
                **request, stream=True, timeout=sdk_timeout(timeouts)
            ) as response,
        ):
            http = response.http_response
            state.headers = http.headers
            state.request_id = http.headers.get("request-id")
            if on_headers is not None:
                await on_headers(http.headers)
            watchdog.until(first_token_at, f"no first token within {timeouts.first_token:g}s")
            idle = f"stream idle for {timeouts.idle:g}s"
            decoder = SSEDecoder()
            control = http.extensions.get("body_control")
            async for chunk in body_chunks(http):
                pieces, progressed = reply.take(decoder.feed(chunk), state.headers)
                if pieces:
                    if state.first_text_at is None:
                        state.first_text_at = clock()
                        if read_interval and isinstance(control, BodyControl):
                            control.interval = read_interval
                    state.text.extend(pieces)
                    # Output so far, so that a failed attempt is still accounted for.
                    state.usage = _with_output(reply.usage, len(state.text))
                    watchdog.pause()
                    yield pieces[0] if len(pieces) == 1 else "".join(pieces)
                    watchdog.within(timeouts.idle, idle)
                elif progressed and state.first_text_at is not None:
                    watchdog.within(timeouts.idle, idle)
                if reply.stopped:
                    if isinstance(control, BodyControl):
                        control.drain = True  # only the body's end is left: keep the connection
                    break
    except (anthropic.APIError, httpx2.HTTPError) as exc:
        raise classify(exc) from exc
    if reply.stopped:
        state.usage = reply.usage
        state.stop_reason = reply.stop_reason
    if not reply.stopped or state.stop_reason is None:
        # A clean end of body before `message_stop`: the reply is cut, not complete.
        raise NetworkError("stream ended before message_stop")


class _Reply:
    """What the events of one response say: text pieces, usage, stop reason, the end."""

    def __init__(self) -> None:
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.stopped = False

    def take(
        self, events: list[ServerEvent], headers: Mapping[str, str] | None
    ) -> tuple[list[str], bool]:
        """(text pieces, whether any event other than `ping` came) of one read's events."""
        pieces: list[str] = []
        progressed = False
        for event in events:
            kind = event.event
            if kind == "ping":
                continue
            progressed = True
            if kind == "content_block_delta":
                delta = _data(event).get("delta") or {}
                if delta.get("type") == "text_delta" and delta.get("text"):
                    pieces.append(delta["text"])
            elif kind == "message_start":
                message = _data(event).get("message") or {}
                self.usage = _usage(message.get("usage") or {}, Usage())
            elif kind == "message_delta":
                data = _data(event)
                self.usage = _usage(data.get("usage") or {}, self.usage)
                self.stop_reason = (data.get("delta") or {}).get("stop_reason")
            elif kind == "message_stop":
                self.stopped = True
                break
            elif kind == "error":
                raise stream_error(_json_or_text(event.data), headers)
        return pieces, progressed


def _data(event: ServerEvent) -> dict[str, Any]:
    """An event's JSON object; anything else means the stream arrived garbled."""
    try:
        data = json.loads(event.data)
    except ValueError as exc:
        raise NetworkError(f"malformed {event.event} event") from exc
    if not isinstance(data, dict):
        raise NetworkError(f"malformed {event.event} event")
    return data


def _json_or_text(data: str) -> object:
    try:
        return json.loads(data)
    except ValueError:
        return data


def _usage(fields: dict[str, Any], before: Usage) -> Usage:
    """`before` with the counts `fields` carries (a `message_delta` may repeat only some)."""
    return Usage(
        input_tokens=fields.get("input_tokens") or before.input_tokens,
        output_tokens=fields.get("output_tokens") or before.output_tokens,
        cache_creation_input_tokens=(
            fields.get("cache_creation_input_tokens") or before.cache_creation_input_tokens
        ),
        cache_read_input_tokens=(
            fields.get("cache_read_input_tokens") or before.cache_read_input_tokens
        ),
    )


def _with_output(usage: Usage, output_tokens: int) -> Usage:
    return Usage(
        usage.input_tokens,
        max(usage.output_tokens, output_tokens),
        usage.cache_creation_input_tokens,
        usage.cache_read_input_tokens,
    )
