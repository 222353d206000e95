"""One streaming attempt: open the stream, yield text, enforce the per-attempt timeouts.

The SDK builds and sends the request (`messages.with_streaming_response.create(stream=True)`:
its headers, auth, its HTTP client, and an `APIStatusError` for a refused request); the
response body is decoded here (`resilient.sse`), which costs a fraction of the SDK's typed
stream per event (`python -m bench.relay` prints both). What this adds:
- a first-token deadline (request sent -> first text), an idle deadline (between events once
  text has started; `ping` events do not count as progress, while they keep the HTTP read
  timeout from firing) and a deadline for the whole attempt, each an `asyncio.timeout` around
  one read only: while the caller handles a piece of text no deadline runs, so a slow consumer
  never times the upstream out and a cancellation never lands in the consumer's code;
- paced reads (`read_interval`): once text has started, the body is read at most that often,
  and what arrived meanwhile leaves as one piece (a socket read returns all that has arrived,
  so one wake-up per interval instead of one per event; the first token is never held back);
- a stream that ends without `message_stop` is an interruption, never a completion; an SSE
  `event: error` is classified by its error type;
- every failure leaves as a classified `ResilientError` (`raise ... from`), and the response
  is always closed, so closing or cancelling the iterator closes the upstream HTTP response.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import anthropic

from resilient.errors import API_ERRORS, NetworkError, TimedOut, classify, stream_error
from resilient.events import Usage
from resilient.policy import Timeouts
from resilient.sse import ServerEvent, SSEDecoder

T = TypeVar("T")

# How long the end of a body may take to follow its `message_stop`.
FINISH_SECONDS = 1.0


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


def sdk_timeout(timeouts: Timeouts) -> anthropic.Timeout:
    # The HTTP read timeout is only a backstop: pings reset it, our own deadlines do the work.
    read = max(timeouts.first_token, timeouts.idle) + 1.0
    return anthropic.Timeout(connect=timeouts.connect, read=read, write=read, pool=read)


async def _by(when: float, label: str, step: Awaitable[T]) -> T:
    """`await step`, or `TimedOut(label)` once the loop's clock passes `when`."""
    timeout = asyncio.timeout_at(when)
    try:
        async with timeout:
            return await step
    except TimeoutError as exc:
        if timeout.expired():
            raise TimedOut(label) from exc
        raise


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
    """
    loop = asyncio.get_running_loop()
    state.started = clock()
    begun = loop.time()
    ends_at = begun + timeouts.total
    total = f"reply not finished within {timeouts.total:g}s"
    first_by = min(begun + timeouts.first_token, ends_at)
    idle = f"stream idle for {timeouts.idle:g}s"
    reply = _Reply()
    try:
        async with contextlib.AsyncExitStack() as stack:
            opening = sdk.messages.with_streaming_response.create(
                **request, stream=True, timeout=sdk_timeout(timeouts)
            )
            no_response = f"no response within {timeouts.first_token:g}s"
            response = await _by(
                first_by,
                total if first_by >= ends_at else no_response,
                stack.enter_async_context(opening),
            )
            state.headers = response.headers
            state.request_id = response.request_id
            if on_headers is not None:
                await on_headers(response.headers)
            chunks = cast(AsyncGenerator[bytes, None], response.iter_bytes())
            stack.push_async_callback(chunks.aclose)
            decoder = SSEDecoder()
            until, label = first_by, f"no first token within {timeouts.first_token:g}s"
            while not reply.stopped:
                if until >= ends_at:
                    until, label = ends_at, total
                chunk = await _by(until, label, anext(chunks, None))
                if chunk is None:
                    break
                pieces, progressed = reply.take(decoder.feed(chunk), state.headers)
                if pieces:
                    read_at = loop.time()
                    if state.first_text_at is None:
                        state.first_text_at = clock()
                    state.text.extend(pieces)
                    # Output so far, so that a failed attempt is still accounted for.
                    state.usage = _with_output(reply.usage, len(state.text))
                    yield pieces[0] if len(pieces) == 1 else "".join(pieces)
                    due = read_at + read_interval - loop.time()
                    if due > 0 and not reply.stopped:
                        await asyncio.sleep(due)
                    until, label = loop.time() + timeouts.idle, idle
                elif progressed and state.first_text_at is not None:
                    until, label = loop.time() + timeouts.idle, idle
            if reply.stopped:
                await _finish_body(chunks)
    except API_ERRORS as exc:
        raise classify(exc) from exc
    if not reply.stopped or reply.stop_reason is None:
        # A clean end of body before `message_stop`: the reply is cut, not complete.
        raise NetworkError("stream ended before message_stop")
    state.usage = reply.usage
    state.stop_reason = reply.stop_reason


async def _finish_body(chunks: AsyncIterator[bytes]) -> None:
    """Read what follows `message_stop` (the body's end, normally already here), briefly.

    A body read to its end leaves its connection to the pool for the next request; one closed
    early is dropped. Whatever happens here, the reply itself is complete.
    """
    with contextlib.suppress(TimeoutError, *API_ERRORS):
        async with asyncio.timeout(FINISH_SECONDS):
            async for _ in chunks:
                pass


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
