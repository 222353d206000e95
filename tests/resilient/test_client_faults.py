"""Every outcome of the fault plan grammar, end to end through the real SDK and the simulator."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from resilient import (
    Budget,
    BudgetKeys,
    BudgetLimits,
    Cap,
    CircuitBreaker,
    Completed,
    Degraded,
    DegradedError,
    Restart,
    Retrying,
    TextDelta,
    correlation_scope,
)
from resilient.telemetry import AttemptRecord, CallRecord
from tests.resilient.conftest import MESSAGES, MODEL


async def run(client, **kwargs):
    events = []
    async for event in client.stream(model=MODEL, max_tokens=200, messages=MESSAGES, **kwargs):
        events.append(event)
    return events


def kinds(events):
    return [type(e).__name__ for e in events if not isinstance(e, TextDelta)]


# plan -> (final event, degraded kind or None, attempts, the non-text events before the end)
FAULTS = [
    ("ok", Completed, None, 1, []),
    ("429:retry_after=2", Completed, None, 2, ["Retrying"]),
    ("429", Completed, None, 2, ["Retrying"]),
    ("529", Completed, None, 2, ["Retrying"]),
    ("500", Completed, None, 2, ["Retrying"]),
    ("503", Completed, None, 2, ["Retrying"]),
    ("408", Completed, None, 2, ["Retrying"]),
    ("400", Degraded, "invalid_request", 1, []),
    ("401", Degraded, "credentials", 1, []),
    ("403", Degraded, "permission", 1, []),
    ("404", Degraded, "not_found", 1, []),
    ("413", Degraded, "invalid_request", 1, []),
    ("drop@5", Completed, None, 2, ["Restart"]),
    ("drop@0", Completed, None, 2, ["Retrying"]),
    ("error@5", Completed, None, 2, ["Restart"]),
    ("error@5:api_error", Completed, None, 2, ["Restart"]),
    ("error@3:invalid_request_error", Degraded, "invalid_request", 1, []),
    ("eof@5", Completed, None, 2, ["Restart"]),
    ("eof@0", Completed, None, 2, ["Retrying"]),
    ("stall", Completed, None, 2, ["Retrying"]),
    ("stall@4", Completed, None, 2, ["Restart"]),
    ("slow_ttft=2", Completed, None, 2, ["Retrying"]),
    ("spend_cap", Degraded, "spend_cap", 1, []),
    ("429*2,529", Completed, None, 4, ["Retrying", "Retrying", "Retrying"]),
    ("529*4", Degraded, "overloaded", 4, ["Retrying", "Retrying", "Retrying"]),
    ("drop@2*4", Degraded, "network", 4, ["Restart", "Restart", "Restart"]),
    ("stall*4", Degraded, "timeout", 4, ["Retrying", "Retrying", "Retrying"]),
]


@pytest.mark.parametrize(("plan", "final", "kind", "attempts", "before"), FAULTS)
async def test_fault_plan_ends_in_completed_or_the_right_degraded(
    make_sim, make_client, plan, final, kind, attempts, before
):
    sim = make_sim(faults=plan)
    events = await run(make_client(sim))
    end = events[-1]
    assert isinstance(end, final)
    assert kinds(events) == [*before, final.__name__]
    assert end.attempts == attempts
    assert sim.stats.attempts == attempts
    if kind is not None:
        assert end.kind == kind
        assert end.message  # a sentence for the learner, never a raw API error
    else:
        assert end.stop_reason == "end_turn" and not end.truncated
        assert end.text.startswith("You said:")
        assert end.usage.output_tokens > 0 and end.cost_usd > 0
        assert len(end.waits) == attempts - 1
    assert sim.stats.in_flight == 0  # every upstream stream was closed


async def test_retry_after_is_reported_as_the_reason(make_sim, make_client):
    events = await run(make_client(make_sim(faults="429:retry_after=2")))
    retrying = events[0]
    assert isinstance(retrying, Retrying)
    assert "429 rate limited; retry-after 2s" in retrying.reason
    assert 2.0 <= retrying.delay <= 2.2


async def test_restart_comes_before_new_text_and_the_final_text_excludes_the_partial(
    make_sim, make_client
):
    events = await run(make_client(make_sim(faults="drop@5")))
    restart_at = next(i for i, e in enumerate(events) if isinstance(e, Restart))
    before = [e.text for e in events[:restart_at] if isinstance(e, TextDelta)]
    after = [e.text for e in events[restart_at:] if isinstance(e, TextDelta)]
    assert len(before) == 5
    assert isinstance(events[restart_at + 1], TextDelta)  # new text only after the Restart
    assert events[-1].text == "".join(after)
    assert events[-1].text.startswith("".join(before))  # the retry starts over from scratch


async def test_max_tokens_is_reported_as_truncated(make_sim, make_client):
    events = await run(make_client(make_sim(faults="max_tokens")))
    end = events[-1]
    assert isinstance(end, Completed)
    assert end.stop_reason == "max_tokens" and end.truncated


async def test_pings_do_not_count_as_progress(make_sim, make_client):
    # The simulator pings every 50 ms during a 2 s first-token delay; our 0.3 s first-token
    # timeout still fires, the HTTP read timeout (reset by pings) would not have.
    sim = make_sim(faults="slow_ttft=2*4")
    events = await run(make_client(sim))
    assert isinstance(events[-1], Degraded) and events[-1].kind == "timeout"
    assert "no first token within 0.3s" in events[0].reason


async def test_per_request_fault_headers_ride_on_extra_headers(make_sim, make_client):
    sim = make_sim()
    headers = {"x-simulator-faults": "529,ok", "x-simulator-fault-key": "turn-1"}
    events = await run(make_client(sim), extra_headers=headers)
    assert kinds(events) == ["Retrying", "Completed"]


@pytest.mark.parametrize("how", ["aclose", "cancel"])
async def test_abandoning_the_iterator_closes_the_upstream(make_sim, make_client, how):
    sim = make_sim(tokens_per_second=200)
    client = make_client(sim)
    seen = []

    async def consume(stream):
        async for event in stream:
            seen.append(event)

    stream = client.stream(model=MODEL, max_tokens=200, messages=MESSAGES)
    if how == "aclose":
        first = await anext(stream)
        assert isinstance(first, TextDelta)
        await stream.aclose()
    else:
        task = asyncio.create_task(consume(stream))
        while not seen:
            await asyncio.sleep(0.005)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for _ in range(100):
        if sim.stats.cancelled:
            break
        await asyncio.sleep(0.01)
    assert sim.stats.cancelled == 1
    assert sim.stats.completed == 0
    assert sim.stats.in_flight == 0


async def test_create_returns_completed_or_raises_degraded(make_sim, make_client):
    sim = make_sim(faults="529,ok,400")
    client = make_client(sim)
    done = await client.create(model=MODEL, max_tokens=100, messages=MESSAGES)
    assert done.attempts == 2 and done.text
    with pytest.raises(DegradedError) as info:
        await client.create(model=MODEL, max_tokens=100, messages=MESSAGES)
    assert info.value.degraded.kind == "invalid_request"
    assert info.value.__cause__ is None or isinstance(info.value.__cause__, Exception)


async def test_a_request_over_budget_is_refused_before_it_is_sent(make_sim, make_client):
    sim = make_sim()
    budget = Budget(BudgetLimits(conversation=Cap(tokens=250)))
    client = make_client(sim, budget=budget)
    keys = BudgetKeys(conversation="c1", learner="u1")
    first = await run(client, budget_keys=keys)
    assert isinstance(first[-1], Completed)
    spent = (await budget.spent(keys)).conversation
    assert spent.tokens == first[-1].usage.input_tokens + first[-1].usage.output_tokens
    second = await run(client, budget_keys=keys)
    assert isinstance(second[-1], Degraded) and second[-1].kind == "budget_exhausted"
    assert second[-1].attempts == 0 and not second[-1].retriable
    assert sim.stats.attempts == 1  # never sent


async def test_open_circuit_fails_fast_or_routes_to_the_fallback(make_sim, make_client):
    records = []
    sim = make_sim(faults="529,529,ok,529,529")
    breaker = CircuitBreaker(threshold=2, cooldown=60)
    client = make_client(
        sim, breaker=breaker, fallback_model="claude-haiku-4-5", telemetry_hooks=[records.append]
    )
    events = []
    async for event in client.stream(model="claude-sonnet-4-6", max_tokens=50, messages=MESSAGES):
        events.append(event)
    assert isinstance(events[-1], Completed)
    assert events[-1].model == "claude-haiku-4-5" and events[-1].attempts == 3
    call = [r for r in records if isinstance(r, CallRecord)][-1]
    assert "circuit open: routed to fallback model claude-haiku-4-5" in call.note

    no_fallback = make_client(sim, breaker=breaker)
    events = [
        e
        async for e in no_fallback.stream(
            model="claude-sonnet-4-6", max_tokens=50, messages=MESSAGES
        )
    ]
    assert isinstance(events[-1], Degraded) and events[-1].kind == "overloaded"
    assert events[-1].attempts == 0
    assert sim.stats.attempts == 3  # failed fast: nothing sent


async def test_one_record_per_attempt_and_per_call_sharing_the_correlation_id(
    make_sim, make_client
):
    records = []
    client = make_client(make_sim(faults="529,drop@3"), telemetry_hooks=[records.append])
    with correlation_scope("turn-7"):
        events = await run(client)
    attempts = [r for r in records if isinstance(r, AttemptRecord)]
    calls = [r for r in records if isinstance(r, CallRecord)]
    assert [a.outcome for a in attempts] == ["overloaded", "network", "ok"]
    assert [a.status for a in attempts] == [529, None, 200]
    assert attempts[0].wait_chosen is not None and "529 overloaded" in attempts[0].wait_reason
    assert all(r.correlation_id == "turn-7" for r in records)
    assert len(calls) == 1 and calls[0].outcome == "completed" and calls[0].attempts == 3
    assert calls[0].request_id and calls[0].request_id.startswith("req_sim_")
    assert events[-1].correlation_id == "turn-7"
    assert attempts[-1].ttft is not None and attempts[-1].output_tokens > 0


async def test_the_timeline_of_a_429_storm_shows_each_attempt_and_the_waits_it_was_told(
    make_sim, make_client
):
    sim = make_sim(faults="429:retry_after=1,429:retry_after=1,ok")
    end = (await run(make_client(sim)))[-1]
    assert isinstance(end, Completed)
    assert [(s.kind, s.attempt) for s in end.timeline] == [
        ("request", 1),
        ("wait", 1),
        ("request", 2),
        ("wait", 2),
        ("request", 3),
        ("stream", 3),
    ]
    first, wait = end.timeline[0], end.timeline[1]
    assert "429" in first.note and "retry-after 1s" in wait.note
    assert wait.end - wait.start == pytest.approx(end.waits[0].delay)
    starts = [s.start for s in end.timeline]
    assert starts == sorted(starts)  # one after another, from the call's start
    assert end.timeline[-1].end <= end.latency + 1e-6


async def test_the_timeline_of_a_dropped_stream_shows_the_text_that_was_discarded(
    make_sim, make_client
):
    sim = make_sim(faults="drop@5,ok")
    end = (await run(make_client(sim)))[-1]
    kinds_seen = [(s.kind, s.attempt) for s in end.timeline]
    assert kinds_seen == [("request", 1), ("stream", 1), ("wait", 1), ("request", 2), ("stream", 2)]
    assert end.timeline[1].note  # the first stream ended in an error, named here
    assert end.timeline[-1].note == ""


@pytest.mark.parametrize(
    ("plan", "stopped", "reason_part"),
    [
        ("529*6", "attempts", "gave up after 4 attempts"),
        ("400", "not_retriable", "not retriable"),
        ("429:retry_after=30", "long_wait", "asked to wait 30s"),
    ],
)
async def test_a_degraded_call_says_why_it_stopped_retrying(
    make_sim, make_client, plan, stopped, reason_part
):
    end = (await run(make_client(make_sim(faults=plan))))[-1]
    assert isinstance(end, Degraded)
    assert end.stopped == stopped and reason_part in end.reason


async def test_the_last_responses_rate_limit_headers_come_with_the_result(make_sim, make_client):
    sim = make_sim(rpm=50, itpm=40_000, otpm=8_000)
    end = (await run(make_client(sim)))[-1]
    assert end.ratelimit is not None and end.ratelimit.requests is not None
    assert end.ratelimit.requests.limit == 50
    assert end.ratelimit.requests.remaining == 49
