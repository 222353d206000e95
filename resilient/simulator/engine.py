"""The simulator engine: one outcome per attempt, rendered as status, headers and body chunks.

Adapters (the httpx2 transport, the ASGI app) call :meth:`Simulator.handle` and relay
the body chunk by chunk; the engine never touches sockets. A body is produced as it is
read, so a client sees the first token before the last one exists, and closing a body
early stops its producer and counts as ``cancelled``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from resilient.simulator import wire
from resilient.simulator.body import (
    EndState,
    ResponseBody,
    SimResponse,
    SimulatedDrop,
    chunks,
    dropped,
)
from resilient.simulator.buckets import RateLimiter
from resilient.simulator.cache import PromptCache
from resilient.simulator.plan import OK, Outcome, PlanError, parse_plan
from resilient.simulator.reply import Reply, reply_pieces, stream_error_message
from resilient.simulator.request import (
    InvalidRequest,
    Responder,
    messages_request,
    parse_body,
    prompt_blocks,
)
from resilient.simulator.responders import echo_responder

log = logging.getLogger("resilient.simulator")

FAULTS_HEADER = "x-simulator-faults"
FAULT_KEY_HEADER = "x-simulator-fault-key"

# Per-key cursors are kept for this many recent keys (one per coach turn in the labs).
MAX_FAULT_KEYS = 10_000


@dataclass(frozen=True)
class TierLimits:
    rpm: int
    itpm: int
    otpm: int


# The real API always limits an organisation, and says so on every response. When no limits
# are configured the simulator applies the Messages API's published usage tier 4 limits for
# Sonnet-class models, so clients always see `anthropic-ratelimit-*` headers.
DEFAULT_LIMITS = TierLimits(rpm=4_000, itpm=2_000_000, otpm=400_000)


@dataclass
class SimulatorConfig:
    rpm: int | None = None  # None = DEFAULT_LIMITS' value
    itpm: int | None = None
    otpm: int | None = None
    ttft: float = 0.0  # seconds before the first content token
    tokens_per_second: float | None = None  # None = no delay between tokens
    faults: str = ""  # default plan, one outcome per attempt
    ping_interval: float = 5.0  # seconds between `ping` events while the model "thinks"
    cache_min_tokens: int = 1024  # shortest cacheable prefix (Sonnet-class models)
    seed: int = 0  # request and message ids


@dataclass
class SimulatorStats:
    attempts: int = 0  # POST /v1/messages requests received
    by_status: dict[int, int] = field(default_factory=dict)
    rate_limited: int = 0  # 429 responses, whether from the buckets or the plan
    completed: int = 0  # messages delivered to the end (message_stop)
    cancelled: int = 0  # messages whose client went away before the end
    in_flight: int = 0
    output_tokens: int = 0  # content tokens produced so far, over all attempts
    faults: dict[str, int] = field(default_factory=dict)  # injected outcome -> count


@dataclass
class _Exchange:
    """Book-keeping for one admitted message, from admission until its body ends."""

    reserved_output: int
    state: Literal["open"] | EndState = "open"
    delivered: int = 0


class _Cursor:
    def __init__(self, text: str, outcomes: tuple[Outcome, ...]) -> None:
        self.text = text
        self.outcomes = outcomes
        self.index = 0

    def next(self) -> Outcome:
        outcome = self.outcomes[self.index] if self.index < len(self.outcomes) else OK
        self.index += 1
        return outcome


class Simulator:
    """An Anthropic Messages API stand-in with rate limits, prompt caching and fault plans."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        responder: Responder | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.responder: Responder = responder or echo_responder
        self.stats = SimulatorStats()
        self._limiter = RateLimiter(
            rpm=self.config.rpm or DEFAULT_LIMITS.rpm,
            itpm=self.config.itpm or DEFAULT_LIMITS.itpm,
            otpm=self.config.otpm or DEFAULT_LIMITS.otpm,
            clock=clock,
        )
        self._cache = PromptCache(min_tokens=self.config.cache_min_tokens, clock=clock)
        self._rng = random.Random(self.config.seed)
        self._default = _Cursor(self.config.faults, parse_plan(self.config.faults))
        self._keyed: OrderedDict[str, _Cursor] = OrderedDict()

    # -- public API ----------------------------------------------------------------

    def set_faults(self, plan: str) -> None:
        """Replace the default plan and restart its cursor; raises PlanError."""
        self._default = _Cursor(plan, parse_plan(plan))

    async def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> SimResponse:
        """Answer one HTTP request; ``headers`` must have lower-case names."""
        request_id = self._new_id("req_sim_")
        path = path.split("?", 1)[0].rstrip("/")
        if method == "POST" and path == "/v1/messages/count_tokens":
            return self._count_tokens(body, request_id)
        if method != "POST" or path != "/v1/messages":
            return self._error(404, request_id, message=f"Not found: {method} {path}")
        self.stats.attempts += 1
        try:
            data = parse_body(body)
            outcome = self._next_outcome(headers)
        except (InvalidRequest, PlanError) as exc:
            return self._error(400, request_id, message=str(exc))
        log.debug("attempt %d %s -> %s", self.stats.attempts, request_id, outcome)
        if outcome.kind != "ok":
            self.stats.faults[str(outcome)] = self.stats.faults.get(str(outcome), 0) + 1
        if outcome.kind == "spend_cap":
            return self._error(
                429,
                request_id,
                message=wire.SPEND_CAP_MESSAGE,
                error_code=wire.SPEND_CAP_CODE,
                retry_after=None,
            )
        if outcome.kind == "status":
            return self._error(outcome.status, request_id, retry_after=outcome.retry_after)
        return await self._message(data, outcome, request_id)

    # -- outcomes --------------------------------------------------------------------

    def _next_outcome(self, headers: Mapping[str, str]) -> Outcome:
        plan = headers.get(FAULTS_HEADER)
        if plan is None:
            return self._default.next()
        key = headers.get(FAULT_KEY_HEADER) or plan
        cursor = self._keyed.get(key)
        if cursor is None or cursor.text != plan:
            cursor = _Cursor(plan, parse_plan(plan))
            self._keyed[key] = cursor
        self._keyed.move_to_end(key)
        while len(self._keyed) > MAX_FAULT_KEYS:
            self._keyed.popitem(last=False)
        return cursor.next()

    async def _message(
        self, data: dict[str, Any], outcome: Outcome, request_id: str
    ) -> SimResponse:
        request = messages_request(data)
        blocks = prompt_blocks(data)
        cache_usage, writes = self._cache.lookup(request.model, blocks)
        admission, reserved = self._limiter.admit(
            cache_usage.input_tokens + cache_usage.cache_creation_input_tokens, request.max_tokens
        )
        if not admission.allowed:
            message = (
                f"This request would exceed your organization's rate limit of {admission.limit} "
                f"{admission.limited_by} per minute. Please slow down and try again later."
            )
            # The API's retry-after is whole seconds, rounded up so that it is enough.
            wait = math.ceil(admission.retry_after)
            return self._error(429, request_id, message=message, retry_after=wait)
        self._cache.store(writes)
        try:
            text = self.responder(request)
        except Exception:
            log.exception("simulator responder failed for %s", request_id)
            self._limiter.settle_output(reserved, 0)
            return self._error(500, request_id)
        pieces, stop_reason = reply_pieces(text, request.max_tokens, outcome)
        exchange = _Exchange(reserved_output=reserved)
        self.stats.in_flight += 1
        reply = Reply(
            message_id=self._new_id("msg_sim_"),
            request=request,
            pieces=pieces,
            stop_reason=stop_reason,
            outcome=outcome,
            usage=cache_usage,
        )

        def on_end(state: EndState) -> None:
            self._end(exchange, state)

        if data.get("stream") is True:
            headers = self._headers(request_id, wire.SSE)
            headers.append(("cache-control", "no-cache"))
            body = ResponseBody(self._events(reply, exchange), on_end)
            return self._respond(200, headers, body)
        try:
            return await self._whole_message(reply, exchange, request_id, on_end)
        except BaseException:
            self._end(exchange, "cancelled")
            raise

    async def _whole_message(
        self,
        reply: Reply,
        exchange: _Exchange,
        request_id: str,
        on_end: Callable[[EndState], None],
    ) -> SimResponse:
        """A non-streaming answer: nothing is sent until the whole message exists."""
        outcome = reply.outcome
        cut = reply.cut
        await asyncio.sleep(self._first_delay(outcome) + self._pace_seconds(cut))
        exchange.delivered = cut
        self.stats.output_tokens += cut
        if outcome.kind == "stall":
            await asyncio.Event().wait()  # until the client gives up
        if outcome.kind == "error":
            self._end(exchange, "ended")
            status = wire.STATUS_FOR_ERROR_TYPE.get(outcome.error_type, 500)
            return self._error(status, request_id, error_type=outcome.error_type)
        body = wire.dumps(reply.message())
        headers = self._headers(request_id, wire.JSON)
        if outcome.kind == "drop":
            return self._respond(200, headers, ResponseBody(dropped(), on_end))
        if outcome.kind == "eof":
            # The connection closes cleanly half way through the JSON.
            half = body[: len(body) // 2]
            return self._respond(200, headers, ResponseBody(chunks(half), on_end))
        self._end(exchange, "completed")
        headers.append(("content-length", str(len(body))))
        return self._respond(200, headers, ResponseBody(chunks(body)))

    async def _events(self, reply: Reply, exchange: _Exchange) -> AsyncGenerator[bytes, None]:
        """The SSE event sequence of one streamed message, paced and faulted."""
        outcome = reply.outcome
        yield wire.message_start(reply.start_message())
        yield wire.ping()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._first_delay(outcome)
        while (left := deadline - loop.time()) > 0:
            if left > self.config.ping_interval:
                await asyncio.sleep(self.config.ping_interval)
                yield wire.ping()
            else:
                await asyncio.sleep(left)
        yield wire.content_block_start()
        started = loop.time()
        for index, piece in enumerate(reply.pieces[: reply.cut]):
            delay = started + self._pace_seconds(index) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            exchange.delivered += 1
            self.stats.output_tokens += 1
            yield wire.text_delta(piece)
        if outcome.kind in ("drop", "error", "eof"):
            # Ended by the fault: a client that stops reading now has not cancelled anything.
            self._end(exchange, "ended")
        if outcome.kind == "drop":
            raise SimulatedDrop(f"{reply.message_id}: {outcome}")
        if outcome.kind == "error":
            yield wire.error_event(outcome.error_type, stream_error_message(outcome.error_type))
            return
        if outcome.kind == "eof":
            return
        if outcome.kind == "stall":
            await asyncio.Event().wait()  # nothing more until the client gives up
        yield wire.content_block_stop()
        yield wire.message_delta(reply.stop_reason, reply.usage_dict(len(reply.pieces)))
        self._end(exchange, "completed")
        yield wire.message_stop()

    # -- helpers ---------------------------------------------------------------------

    def _first_delay(self, outcome: Outcome) -> float:
        return outcome.delay if outcome.kind == "slow_ttft" else self.config.ttft

    def _pace_seconds(self, tokens: int) -> float:
        tps = self.config.tokens_per_second
        return tokens / tps if tps else 0.0

    def _end(self, exchange: _Exchange, state: EndState) -> None:
        if exchange.state != "open":
            return
        exchange.state = state
        self.stats.in_flight -= 1
        if state == "completed":
            self.stats.completed += 1
        elif state == "cancelled":
            self.stats.cancelled += 1
        self._limiter.settle_output(exchange.reserved_output, exchange.delivered)

    def _count_tokens(self, body: bytes, request_id: str) -> SimResponse:
        try:
            data = parse_body(body, count_only=True)
        except InvalidRequest as exc:
            return self._error(400, request_id, message=str(exc))
        total = sum(block.tokens for block in prompt_blocks(data))
        payload = wire.dumps({"input_tokens": total})
        headers = self._headers(request_id, wire.JSON)
        headers.append(("content-length", str(len(payload))))
        return self._respond(200, headers, ResponseBody(chunks(payload)))

    def _error(
        self,
        status: int,
        request_id: str,
        *,
        message: str | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
        retry_after: float | None = None,
    ) -> SimResponse:
        payload = wire.error_body(
            status, request_id, message=message, error_type=error_type, error_code=error_code
        )
        headers = self._headers(request_id, wire.JSON)
        headers.append(("content-length", str(len(payload))))
        if retry_after is not None:
            headers.append(("retry-after", wire.retry_after_value(retry_after)))
        return self._respond(status, headers, ResponseBody(chunks(payload)))

    def _headers(self, request_id: str, content_type: str) -> wire.Headers:
        headers = [("content-type", content_type), ("request-id", request_id)]
        headers.extend(wire.ratelimit_headers(self._limiter.snapshot()))
        return headers

    def _respond(self, status: int, headers: wire.Headers, body: ResponseBody) -> SimResponse:
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        if status == 429:
            self.stats.rate_limited += 1
        return SimResponse(status, headers, body)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{self._rng.getrandbits(96):024x}"
