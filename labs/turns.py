"""One coach turn, from its admission (`labs.admission`) to the stored reply.

`run_turn` streams the reply through the resilient client: coalesced, rendered text frames
while it is written; a notice on each retry or restart; the finished reply rendered as
sanitised markdown, stored with the turn's telemetry. Cancelling the task (the learner left)
closes the upstream stream and marks the turn cancelled. It takes an `Outlet`, so it never
knows about websockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone

from course.content import Lab, Module
from labs import frames, store
from labs.admission import Admitted, budget_limits
from labs.backend import client_for
from labs.coach import api_messages, coach_system
from labs.drills import drill_scope, fault_headers
from labs.fragments import (
    MessageView,
    interrupted_view,
    message_view,
    render_alert,
    render_message,
    render_notice,
)
from labs.models import CoachTurn, Message
from labs.relay import LearnerGone, Outlet, TextRelay
from resilient import (
    Budget,
    BudgetKeys,
    Completed,
    Degraded,
    Pacing,
    Restart,
    Retrying,
    TextDelta,
    cached_conversation,
    correlation_scope,
    new_correlation_id,
)
from resilient.ratelimit_headers import RateLimitSnapshot

logger = logging.getLogger(__name__)
T = TypeVar("T")

LEASE_CHECK_MARGIN = 0.5  # seconds after a lease would lapse before checking it
BROKEN_MESSAGE = "Something went wrong on our side. Your message is kept; try again."


def status(text: str) -> str:
    return frames.partial("#chat-status", "innerHTML", html.escape(text))


def accepted_frames(admitted: Admitted, module: Module, lab: Lab) -> tuple[str, str]:
    """The frame that opens a turn: (for the sender's tab, for the other tabs)."""
    started = admitted.started
    content = frames.partial(".chat-retry", "delete", "")
    if not admitted.retry:
        content += render_message(message_view(started.user_message, module, lab))
    content += render_message(message_view(started.assistant_message, module, lab))
    content += status("Coach is replying…") + frames.partial("#chat-alert", "innerHTML", "")
    common = {"busy": True, "turn": started.turn.pk}
    return (
        frames.frame("#transcript", "beforeend", content, accepted=True, **common),
        frames.frame("#transcript", "beforeend", content, accepted=False, **common),
    )


def interrupted_frame(message: Message, module: Module, lab: Lab) -> str:
    """A reply whose worker died: shown failed, with Try again."""
    view = interrupted_view(message, module, lab)
    view.can_retry = True
    content = render_message(view) + status("Reply interrupted")
    return frames.frame(frames.message_target(message.pk), frames.OUTER, content, busy=False)


async def watch_lease(conversation_id: int, module: Module, lab: Lab) -> str | None:
    """Wait while a reply streams in this conversation, wherever it runs.

    Returns the frame saying it was interrupted if its turn's lease lapses (the worker running
    it died: a running turn renews its lease), or None once no reply streams. Checks just
    after each moment the lease would lapse, so about once per renewal.
    """
    while True:
        found = await store.streaming_reply(conversation_id)
        if found is None:
            return None
        reply, lease = found
        now = timezone.now()
        if lease is None or lease < now:
            return interrupted_frame(reply, module, lab)
        await asyncio.sleep((lease - now).total_seconds() + LEASE_CHECK_MARGIN)


def alert_frame(text: str) -> str:
    return frames.frame("#chat-alert", "innerHTML", render_alert(text), error=True)


class _OthersOnly:
    def __init__(self, outlet: Outlet) -> None:
        self.outlet = outlet

    async def to_self(self, frame: str) -> None:
        return None

    async def to_others(self, frame: str) -> None:
        await self.outlet.to_others(frame)


async def _both(outlet: Outlet, frame: str) -> None:
    await outlet.to_self(frame)
    await outlet.to_others(frame)


def _headroom(snapshot: RateLimitSnapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    dimensions = {
        "requests": snapshot.requests,
        "input_tokens": snapshot.input_tokens,
        "output_tokens": snapshot.output_tokens,
        "tokens": snapshot.tokens,
    }
    return {
        name: {
            "limit": d.limit,
            "remaining": d.remaining,
            "reset_in": None if d.reset_in is None else round(d.reset_in, 1),
        }
        for name, d in dimensions.items()
        if d is not None
    }


def _trace(final: Completed | Degraded, *, real_api: bool) -> dict[str, Any]:
    """What the client did, as the page's timeline draws it (`labs.timeline`)."""
    trace: dict[str, Any] = {
        "spans": [
            {
                "kind": span.kind,
                "start": round(span.start, 3),
                "end": round(span.end, 3),
                "attempt": span.attempt,
                "note": span.note,
            }
            for span in final.timeline
        ]
    }
    if isinstance(final, Degraded):
        # `message` is the learner's sentence as the client wrote it (with how long to wait).
        trace.update(stopped=final.stopped, why=final.reason, message=final.message)
    if real_api:  # the offline coach's simulator reports limits nobody set
        trace["headroom"] = _headroom(final.ratelimit)
    return trace


def _telemetry(
    final: Completed | Degraded, billed_cost: float, latency: float, *, real_api: bool
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "trace": _trace(final, real_api=real_api),
        "attempts": final.attempts,
        "waits": [
            {"attempt": w.attempt, "delay": round(w.delay, 3), "reason": w.reason}
            for w in final.waits
        ],
        "correlation_id": final.correlation_id,
        "cost_usd": Decimal(str(round(billed_cost, 6))),
        "latency_ms": round(latency * 1000),
    }
    if isinstance(final, Completed):
        fields.update(
            outcome=CoachTurn.Outcome.TRUNCATED if final.truncated else CoachTurn.Outcome.COMPLETED,
            model=final.model,
            ttft_ms=None if final.ttft is None else round(final.ttft * 1000),
            latency_ms=round(final.latency * 1000),
            input_tokens=final.usage.input_tokens,
            output_tokens=final.usage.output_tokens,
            cache_read_tokens=final.usage.cache_read_input_tokens,
            cache_write_tokens=final.usage.cache_creation_input_tokens,
            stop_reason=final.stop_reason,
            request_id=final.request_id or "",
        )
    else:
        fields.update(outcome=CoachTurn.Outcome.DEGRADED, degraded_kind=final.kind)
    return fields


async def run_turn(
    admitted: Admitted,
    module: Module,
    lab: Lab,
    relay: TextRelay,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> CoachTurn | None:
    """Stream one reply through the relay to its outlet and store it; returns the turn row."""
    outlet = relay.outlet
    started = admitted.started
    turn_id = started.turn.pk
    begun = clock()
    budget_store = store.TurnBudgetStore(admitted.spend)
    restarts: list[dict[str, Any]] = []
    cid = new_correlation_id()

    async def finish(text: str, message_status: str, fields: dict[str, Any]) -> store.FinishedTurn:
        fields = {"restarts": restarts, "correlation_id": cid, **fields}
        return await store.finish_turn(
            started,
            message_text=text,
            message_status=message_status,
            fields=fields,
        )

    try:
        with correlation_scope(cid), drill_scope(started.turn.drill):
            final = await _holding_lease(
                started.turn.conversation_id,
                _stream(admitted, module, lab, relay, budget_store, restarts, clock),
            )
    except (asyncio.CancelledError, LearnerGone) as exc:
        cancelled = {
            "outcome": CoachTurn.Outcome.CANCELLED,
            "latency_ms": round((clock() - begun) * 1000),
            "cost_usd": Decimal(str(round(budget_store.billed.cost_usd, 6))),
        }
        if relay.stop_requested:
            # The learner pressed Stop: the upstream is closed (the stream was cancelled), the
            # text so far is kept, marked stopped, and every tab is told.
            text = relay.text_so_far
            stopped = await asyncio.shield(finish(text, Message.Status.STOPPED, cancelled))
            await asyncio.shield(_final_frame(outlet, stopped, module, lab, "Reply stopped"))
            return stopped.turn
        finished = await asyncio.shield(finish("", Message.Status.FAILED, cancelled))
        # The sender has gone; tabs still watching learn that the reply will not come.
        with contextlib.suppress(Exception):
            await asyncio.shield(
                _final_frame(_OthersOnly(outlet), finished, module, lab, "Reply cancelled")
            )
        if isinstance(exc, asyncio.CancelledError):
            raise
        return finished.turn
    except Exception:
        logger.exception("coach turn %s failed", turn_id)
        finished = await finish(
            "",
            Message.Status.FAILED,
            {"outcome": CoachTurn.Outcome.DEGRADED, "degraded_kind": "not_retriable"},
        )
        await _final_frame(outlet, finished, module, lab, "Reply failed", alert=BROKEN_MESSAGE)
        return finished.turn
    fields = _telemetry(
        final,
        budget_store.billed.cost_usd,
        clock() - begun,
        real_api=not admitted.backend.offline,
    )
    if isinstance(final, Completed):
        text_status = Message.Status.TRUNCATED if final.truncated else Message.Status.COMPLETE
        finished = await finish(final.text, text_status, fields)
        label = (
            "Reply complete (cut short at the length limit)"
            if final.truncated
            else ("Reply complete")
        )
        await _final_frame(outlet, finished, module, lab, label)
    else:
        finished = await finish("", Message.Status.FAILED, fields)
        await _final_frame(outlet, finished, module, lab, "Reply failed")
    return finished.turn


async def _renew_lease(conversation_id: int) -> None:
    while True:
        await asyncio.sleep(store.LEASE_RENEWAL.total_seconds())
        await store.renew(conversation_id)


async def _holding_lease(conversation_id: int, work: Awaitable[T]) -> T:
    """Await `work` while renewing the conversation's lease, so only a dead worker loses it."""
    keeper = asyncio.create_task(_renew_lease(conversation_id))
    try:
        return await work
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def _stream(
    admitted: Admitted,
    module: Module,
    lab: Lab,
    relay: TextRelay,
    budget_store: store.TurnBudgetStore,
    restarts: list[dict[str, Any]],
    clock: Callable[[], float],
) -> Completed | Degraded:
    started = admitted.started
    message_id = started.assistant_message.pk
    user_id = started.turn.user_id
    # An offline turn is billed nothing real: no budget guards it and none records its
    # simulated price (the page shows that price as simulated, from the turn's tokens).
    budget = None if admitted.backend.offline else Budget(budget_limits(), store=budget_store)
    client = client_for(admitted.backend, budget)
    headers = fault_headers(admitted.fault_plan, started.turn.pk) if admitted.fault_plan else None
    outlet = relay.outlet
    events = client.stream(
        model=admitted.backend.model,
        max_tokens=settings.COACH_MAX_TOKENS,
        system=coach_system(module, lab).blocks,
        messages=cached_conversation(api_messages(admitted.history)),
        budget_keys=BudgetKeys(
            conversation=str(started.turn.conversation_id), learner=str(started.turn.user_id)
        ),
        extra_headers=headers,
        metadata={"user_id": f"learner-{user_id}"},
    )
    waiting = _FirstWords(outlet)
    waiting.expect(0.0)
    try:
        async with contextlib.aclosing(events) as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    if waiting.waiting:
                        await waiting.arrived()
                    await relay.add(event.text, clock())
                    continue
                await waiting.arrived()
                final = await _on_event(event, relay, outlet, message_id, restarts, clock)
                if final is not None:
                    return final
                waiting.expect(event.delay if isinstance(event, Retrying | Pacing) else 0.0)
    finally:
        waiting.stop()
    raise RuntimeError("the resilient client ended without Completed or Degraded")


async def _on_event(
    event: Retrying | Pacing | Restart | Completed | Degraded,
    relay: TextRelay,
    outlet: Outlet,
    message_id: int,
    restarts: list[dict[str, Any]],
    clock: Callable[[], float],
) -> Completed | Degraded | None:
    """A notice for a retry, a shared wait or a restart; the final event is returned."""
    if isinstance(event, Pacing):
        await relay.flush(clock())
        notice = f"Waiting {event.delay:.0f} s before asking the coach: {event.reason}."
        content = render_notice(notice) + status(
            f"Coach is waiting {event.delay:.0f} s for the rate limit"
        )
        await _both(outlet, frames.frame(frames.notice_target(message_id), "innerHTML", content))
    elif isinstance(event, Retrying):
        await relay.flush(clock())
        notice = (
            f"Attempt {event.attempt} failed ({event.reason}). Trying again in {event.delay:.1f} s."
        )
        content = render_notice(notice) + status(f"Coach is retrying: {event.reason}")
        await _both(outlet, frames.frame(frames.notice_target(message_id), "innerHTML", content))
    elif isinstance(event, Restart):
        relay.reset()
        restarts.append({"attempt": event.attempt, "reason": event.reason})
        notice = (
            f"Restart: the stream broke after it started ({event.reason}), so the "
            "partial reply was discarded and the coach is starting again."
        )
        await _both(outlet, frames.clear_text_frame(message_id, render_notice(notice)))
    else:
        return event
    return None


# After this long with no text, the status line says the coach is still waiting to start.
SLOW_FIRST_WORDS = 1.5


class _FirstWords:
    """Says so in the status line while an attempt's first words are slow to come."""

    def __init__(self, outlet: Outlet) -> None:
        self.outlet = outlet
        self.task: asyncio.Task[None] | None = None
        self.said = False

    @property
    def waiting(self) -> bool:
        return self.task is not None

    def expect(self, after: float) -> None:
        """An attempt starts in `after` seconds: watch for its first words."""
        self.task = asyncio.create_task(self._say_while_waiting(after))

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    async def arrived(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.said:
            self.said = False
            await _both(
                self.outlet, frames.frame("#chat-status", "innerHTML", "Coach is replying…")
            )

    async def _say_while_waiting(self, after: float) -> None:
        await asyncio.sleep(after + SLOW_FIRST_WORDS)
        waited = SLOW_FIRST_WORDS
        while True:
            text = (
                f"Still waiting for the coach's first words ({waited:.0f} s): the service is "
                "slow to start this reply. Nothing has failed yet."
            )
            await _both(self.outlet, frames.frame("#chat-status", "innerHTML", html.escape(text)))
            self.said = True
            await asyncio.sleep(1.0)
            waited += 1.0


async def _final_frame(
    outlet: Outlet,
    finished: store.FinishedTurn,
    module: Module,
    lab: Lab,
    label: str,
    alert: str = "",
) -> None:
    message = finished.message
    view: MessageView = message_view(message, module, lab, finished.turn)
    view.can_retry = message.status == Message.Status.FAILED
    content = render_message(view) + status(label)
    if alert:
        content += frames.partial("#chat-alert", "innerHTML", render_alert(alert))
    await _both(
        outlet, frames.frame(frames.message_target(message.pk), frames.OUTER, content, busy=False)
    )
