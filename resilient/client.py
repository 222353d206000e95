"""ResilientClient: every lesson of the module applied to one call.

Per call: refuse early when the budget cannot afford the worst case; route around an open
circuit; wait for the governor; run a streaming attempt; on failure classify, decide (retry
after how long, or give up) and tell the caller (`Retrying` before any text, `Restart` after
text was shown); on success check `stop_reason`, price the usage and record it. Each attempt
and the call as a whole leave one structured telemetry record.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from typing import Any

import anthropic

from resilient.breaker import CircuitBreaker
from resilient.budget import Budget, BudgetKeys
from resilient.errors import BudgetExhausted, CircuitOpen, RateLimited, ResilientError
from resilient.events import (
    Completed,
    Degraded,
    DegradedError,
    Restart,
    Retrying,
    Span,
    StreamEvent,
    TextDelta,
    Usage,
    Wait,
)
from resilient.governor import Cost, RateGovernor
from resilient.pacing import GovernedWait
from resilient.policy import (
    INTERACTIVE,
    STOPPED_BUDGET,
    STOPPED_CIRCUIT_OPEN,
    STOPPED_LONG_WAIT,
    Decision,
    Policy,
    decide,
)
from resilient.prices import DEFAULT_PRICES, PriceTable
from resilient.ratelimit_headers import RateLimitSnapshot, parse_ratelimit_headers
from resilient.stream import AttemptState, run_attempt
from resilient.telemetry import AttemptRecord, CallRecord, MetricsHook, correlation_id, emit
from resilient.tokens import estimate_input_tokens


class ResilientClient:
    def __init__(
        self,
        sdk: anthropic.AsyncAnthropic,
        *,
        policy: Policy = INTERACTIVE,
        governor: RateGovernor | None = None,
        budget: Budget | None = None,
        breaker: CircuitBreaker | None = None,
        fallback_model: str | None = None,
        prices: PriceTable = DEFAULT_PRICES,
        telemetry_hooks: Iterable[MetricsHook] = (),
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        wall_clock: Callable[[], float] = time.time,
        read_interval: float = 0.0,
    ) -> None:
        """`read_interval`: once a reply's text has started, read the upstream at most this
        often (seconds), text arriving meanwhile leaving as one piece. For a caller that passes
        text on no more often than that anyway, over an HTTP client whose read returns all that
        has arrived (the SDK's aiohttp client over a socket). Leave it 0 over a transport that
        hands over one event per read (the simulator's in-process one): there it would slow
        the reply to one event per interval."""
        self.sdk = sdk
        self.policy = policy
        self.governor = governor
        self.budget = budget
        self.breaker = breaker
        self.fallback_model = fallback_model
        self.prices = prices
        self.hooks = tuple(telemetry_hooks)
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._wall_clock = wall_clock
        self.read_interval = read_interval

    async def create(self, **kwargs: Any) -> Completed:
        """Run `stream()` to its end and return the `Completed`; raise `DegradedError` if not.

        Streaming underneath keeps the first-token and idle timeouts meaningful.
        """
        async with contextlib.aclosing(self.stream(**kwargs)) as events:
            async for event in events:
                if isinstance(event, Completed):
                    return event
                if isinstance(event, Degraded):
                    raise DegradedError(event)
        raise RuntimeError("stream ended without Completed or Degraded")

    async def stream(
        self,
        *,
        model: str,
        max_tokens: int,
        messages: list[dict[str, Any]],
        system: str | list[dict[str, Any]] | None = None,
        budget_keys: BudgetKeys | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Yield `TextDelta`, `Retrying`, `Restart`, then exactly one `Completed` or `Degraded`.

        Close the iterator (`aclose()`, or cancel the task consuming it) to abandon the call:
        the upstream HTTP stream is closed at once.
        """
        call = _Call(self, model, correlation_id() or uuid.uuid4().hex)
        keys = budget_keys or BudgetKeys()
        estimated_input = estimate_input_tokens(system, messages)
        reserved = Cost(1, estimated_input, max_tokens)
        previous_delay = 0.0
        while True:
            refusal = await call.refuse(keys, estimated_input, max_tokens)
            if refusal is not None:
                stopped = (
                    STOPPED_BUDGET if isinstance(refusal, BudgetExhausted) else STOPPED_CIRCUIT_OPEN
                )
                yield call.degrade(refusal, refusal.label, stopped)
                return
            paced_from = self._clock()
            governor_wait = 0.0
            if self.governor is not None:
                paced = GovernedWait(self.governor, reserved, call.wait_allowed())
                async with contextlib.aclosing(paced.wait()) as notices:
                    async for notice in notices:
                        yield notice
                if paced.refused is not None:
                    # Nothing was sent: the limit holds every call longer than this one may wait.
                    yield call.degrade(paced.refused, paced.refused.label, STOPPED_LONG_WAIT)
                    return
                governor_wait = paced.waited
            call.attempt += 1
            request: dict[str, Any] = {
                "model": call.model,
                "max_tokens": max_tokens,
                "messages": messages,
                **params,
            }
            if system is not None:
                request["system"] = system
            if extra_headers:
                request["extra_headers"] = dict(extra_headers)
            state = AttemptState()
            error: ResilientError | None = None
            call.governor_wait += governor_wait
            if governor_wait > 0:
                call.span("governor", paced_from, self._clock(), "paced to the rate limits")
            try:
                attempt = run_attempt(
                    self.sdk,
                    request,
                    self.policy.timeouts,
                    state,
                    clock=self._clock,
                    on_headers=call.observe,
                    read_interval=self.read_interval,
                )
                async with contextlib.aclosing(attempt) as texts:
                    async for text in texts:
                        if call.first_text_at is None:
                            call.first_text_at = self._clock()
                        yield TextDelta(text)
            except ResilientError as exc:
                error = exc
            finally:
                if self.governor is not None:
                    await self.governor.release()
            call.attempt_spans(state, error)
            if error is None:
                yield await call.complete(state, keys, reserved, governor_wait)
                return
            decision = decide(
                self.policy.retry,
                error.as_failure(),
                attempt=call.attempt,
                elapsed=self._clock() - call.started,
                previous_delay=previous_delay,
                rand=self._rand(),
            )
            await call.fail(state, error, keys, reserved, governor_wait, decision)
            if decision.delay is None:
                yield call.degrade(error, decision.reason, decision.stopped)
                return
            call.waits.append(Wait(call.attempt, decision.delay, decision.reason))
            waits_from = self._clock()
            call.span("wait", waits_from, waits_from + decision.delay, decision.reason)
            if state.shown_text:
                call.first_text_at = None
                yield Restart(call.attempt, decision.reason)
            else:
                yield Retrying(call.attempt, decision.delay, decision.reason)
            previous_delay = decision.delay
            await self._sleep(decision.delay)


class _Call:
    """The bookkeeping of one `stream()` call, so the loop above reads as the policy."""

    def __init__(self, client: ResilientClient, model: str, cid: str) -> None:
        self.client = client
        self.primary_model = model
        self.model = model
        self.correlation_id = cid
        self.started = client._clock()
        self.attempt = 0
        self.waits: list[Wait] = []
        self.first_text_at: float | None = None
        self.governor_wait = 0.0
        self.note: str | None = None
        self.timeline: list[Span] = []
        self.ratelimit: RateLimitSnapshot | None = None

    async def observe(self, headers: Mapping[str, str]) -> None:
        """Every response's rate-limit headers: kept for the caller, and fed to the governor."""
        snapshot = parse_ratelimit_headers(headers, self.client._wall_clock())
        if snapshot.empty:
            return
        self.ratelimit = snapshot
        if self.client.governor is not None:
            await self.client.governor.observe(snapshot)

    def span(self, kind: str, start: float, end: float, note: str = "") -> None:
        self.timeline.append(
            Span(kind, start - self.started, end - self.started, self.attempt, note)
        )

    def attempt_spans(self, state: AttemptState, error: ResilientError | None) -> None:
        """The attempt just ended: waiting for its first text, then its text, on the timeline."""
        ended = self.client._clock()
        began = state.started or ended
        first = state.first_text_at
        note = error.label if error is not None else ""
        self.span(
            "request", began, ended if first is None else first, note if first is None else ""
        )
        if first is not None:
            self.span("stream", first, ended, note)

    def wait_allowed(self) -> float:
        """How long the governor may hold the next attempt: one pause of the policy, within
        what is left of the call's deadline."""
        retry = self.client.policy.retry
        left = retry.deadline - (self.client._clock() - self.started)
        return min(retry.max_single_wait, left)

    async def refuse(
        self, keys: BudgetKeys, input_tokens: int, max_tokens: int
    ) -> ResilientError | None:
        client = self.client
        breaker = client.breaker
        if breaker is not None and self.model == self.primary_model and not breaker.allow():
            if client.fallback_model is None:
                return CircuitOpen("circuit open after repeated overloads; failing fast")
            self.model = client.fallback_model
            self.note = f"circuit open: routed to fallback model {self.model}"
        if client.budget is not None:
            refusal = await client.budget.check(
                keys, model=self.model, input_tokens=input_tokens, max_tokens=max_tokens
            )
            if refusal is not None:
                return BudgetExhausted(refusal.reason)
        return None

    def degrade(self, error: ResilientError, reason: str, stopped: str) -> Degraded:
        degraded = Degraded(
            kind=error.kind,
            message=error.message,
            attempts=self.attempt,
            waits=tuple(self.waits),
            correlation_id=self.correlation_id,
            retriable=error.retriable,
            reason=reason if self.note is None else f"{self.note}; {reason}",
            stopped=stopped,
            timeline=tuple(self.timeline),
            ratelimit=self.ratelimit,
        )
        emit(
            CallRecord(
                correlation_id=self.correlation_id,
                model=self.model,
                outcome=error.kind,
                attempts=self.attempt,
                latency=self.client._clock() - self.started,
                waited=sum(w.delay for w in self.waits),
                governor_wait=self.governor_wait,
                note=reason if self.note is None else f"{self.note}; {reason}",
            ),
            self.client.hooks,
        )
        return degraded

    async def complete(
        self, state: AttemptState, keys: BudgetKeys, reserved: Cost, governor_wait: float
    ) -> Completed:
        client = self.client
        now = client._clock()
        usage = state.usage
        stop_reason = state.stop_reason or ""
        cost = await self._account(usage, keys, reserved)
        if client.breaker is not None and self.model == self.primary_model:
            client.breaker.record_success()
        ttft = None if self.first_text_at is None else self.first_text_at - self.started
        self._emit_attempt(state, "ok", None, governor_wait, None, None)
        emit(
            CallRecord(
                correlation_id=self.correlation_id,
                model=self.model,
                outcome="truncated" if stop_reason == "max_tokens" else "completed",
                attempts=self.attempt,
                latency=now - self.started,
                ttft=ttft,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_creation_input_tokens=usage.cache_creation_input_tokens,
                cache_read_input_tokens=usage.cache_read_input_tokens,
                cost_usd=cost,
                price_known=client.prices.known(self.model),
                stop_reason=stop_reason,
                request_id=state.request_id,
                waited=sum(w.delay for w in self.waits),
                governor_wait=self.governor_wait,
                note=self.note,
            ),
            client.hooks,
        )
        return Completed(
            text="".join(state.text),
            usage=usage,
            stop_reason=stop_reason,
            truncated=stop_reason == "max_tokens",
            cost_usd=cost,
            ttft=ttft,
            latency=now - self.started,
            attempts=self.attempt,
            waits=tuple(self.waits),
            model=self.model,
            request_id=state.request_id,
            correlation_id=self.correlation_id,
            timeline=tuple(self.timeline),
            ratelimit=self.ratelimit,
        )

    async def fail(
        self,
        state: AttemptState,
        error: ResilientError,
        keys: BudgetKeys,
        reserved: Cost,
        governor_wait: float,
        decision: Decision,
    ) -> None:
        client = self.client
        if error.headers is not None:
            await self.observe(error.headers)
        if client.breaker is not None and self.model == self.primary_model:
            if error.kind == "overloaded":
                client.breaker.record_overload()
            else:
                client.breaker.record_other_failure()
        if client.governor is not None and isinstance(error, RateLimited):
            # Refused before any work: nothing was spent, but nobody sends for a while.
            await client.governor.settle(reserved, Cost(0, 0, 0))
            if error.retry_after:
                await client.governor.penalize(error.retry_after)
        if state.usage != Usage():
            # A stream that broke mid-way was still billed for what it produced.
            await self._account(state.usage, keys, None)
        self._emit_attempt(state, error.kind, error, governor_wait, decision.delay, decision.reason)

    async def _account(self, usage: Usage, keys: BudgetKeys, reserved: Cost | None) -> float:
        client = self.client
        if client.budget is not None:
            cost = await client.budget.record(keys, model=self.model, usage=usage)
        else:
            cost = client.prices.cost(self.model, usage)
        if client.governor is not None and reserved is not None:
            actual = Cost(
                1, usage.input_tokens + usage.cache_creation_input_tokens, usage.output_tokens
            )
            await client.governor.settle(reserved, actual)
        return cost

    def _emit_attempt(
        self,
        state: AttemptState,
        outcome: str,
        error: ResilientError | None,
        governor_wait: float,
        delay: float | None,
        reason: str | None,
    ) -> None:
        client = self.client
        first = state.first_text_at
        usage = state.usage
        emit(
            AttemptRecord(
                correlation_id=self.correlation_id,
                model=self.model,
                attempt=self.attempt,
                outcome=outcome,
                status=error.status if error else 200,
                error=error.label if error else None,
                request_id=state.request_id or (error.request_id if error else None),
                latency=client._clock() - state.started if state.started else 0.0,
                ttft=None if first is None else first - state.started,
                governor_wait=governor_wait,
                wait_chosen=delay,
                wait_reason=reason,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_creation_input_tokens=usage.cache_creation_input_tokens,
                cache_read_input_tokens=usage.cache_read_input_tokens,
                stop_reason=state.stop_reason,
            ),
            client.hooks,
        )
