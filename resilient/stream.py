"""One streaming attempt: open the SDK stream, yield text, enforce the per-attempt timeouts.

What this adds to `sdk.messages.stream()`:
- a first-token timeout (request sent -> first text) and an idle timeout (between content
  events). The SDK drops `ping` events before we see them, so a server that only pings counts
  as idle, while its pings keep the HTTP read timeout from firing;
- a total timeout for the attempt;
- a stream that ends without `message_stop` is an interruption, never a completion;
- every failure leaves as a classified `ResilientError` (`raise ... from`), and the SDK's
  stream context manager is always exited, so closing or cancelling the iterator closes the
  upstream HTTP response.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anthropic
import httpx2

from resilient.errors import NetworkError, TimedOut, classify
from resilient.events import Usage
from resilient.policy import Timeouts

T = TypeVar("T")


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


async def _within(awaitable: Awaitable[T], seconds: float, label: str) -> T:
    if seconds <= 0:
        raise TimedOut(label)
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError as exc:
        raise TimedOut(label) from exc


async def run_attempt(
    sdk: anthropic.AsyncAnthropic,
    request: dict[str, Any],
    timeouts: Timeouts,
    state: AttemptState,
    *,
    clock: Callable[[], float],
    on_headers: Callable[[Mapping[str, str]], Awaitable[None]] | None = None,
) -> AsyncGenerator[str, None]:
    """Yield the text of one attempt; on success `state` holds usage and stop_reason.

    Use it under `contextlib.aclosing` so that closing the consumer closes the upstream now.
    """
    state.started = clock()
    total_deadline = state.started + timeouts.total
    first_token_deadline = state.started + timeouts.first_token
    saw_stop = False
    try:
        async with contextlib.AsyncExitStack() as stack:
            manager = sdk.messages.stream(**request, timeout=sdk_timeout(timeouts))
            stream = await _within(
                stack.enter_async_context(manager),
                min(first_token_deadline, total_deadline) - clock(),
                f"no response within {timeouts.first_token:g}s",
            )
            state.headers = stream.response.headers
            state.request_id = stream.request_id
            if on_headers is not None:
                await on_headers(stream.response.headers)
            while True:
                if state.first_text_at is None:
                    deadline = first_token_deadline
                    label = f"no first token within {timeouts.first_token:g}s"
                else:
                    deadline = clock() + timeouts.idle
                    label = f"stream idle for {timeouts.idle:g}s"
                if total_deadline < deadline:
                    deadline = total_deadline
                    label = f"reply not finished within {timeouts.total:g}s"
                try:
                    event = await _within(stream.__anext__(), deadline - clock(), label)
                except StopAsyncIteration:
                    break
                if event.type == "message_start":
                    state.usage = _usage(event.message.usage)
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    if state.first_text_at is None:
                        state.first_text_at = clock()
                    state.text.append(event.delta.text)
                    # Output so far, so that a failed attempt is still accounted for.
                    state.usage = _with_output(state.usage, len(state.text))
                    yield event.delta.text
                elif event.type == "message_stop":
                    saw_stop = True
                    final = stream.current_message_snapshot
                    state.usage = _usage(final.usage)
                    state.stop_reason = final.stop_reason
    except (anthropic.APIError, httpx2.HTTPError) as exc:
        raise classify(exc) from exc
    if not saw_stop or state.stop_reason is None:
        # A clean end of body before `message_stop`: the reply is cut, not complete.
        raise NetworkError("stream ended before message_stop")


def _usage(usage: Any) -> Usage:
    return Usage(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
        cache_read_input_tokens=usage.cache_read_input_tokens or 0,
    )


def _with_output(usage: Usage, output_tokens: int) -> Usage:
    return Usage(
        usage.input_tokens,
        max(usage.output_tokens, output_tokens),
        usage.cache_creation_input_tokens,
        usage.cache_read_input_tokens,
    )
