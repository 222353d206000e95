"""One call's long `retry-after` must not freeze the others: a call waits for the shared
governor at most one pause of its policy, says so when the wait is long, and otherwise gives up
at once with the time the limit holds. The patient BATCH preset waits."""

from __future__ import annotations

import asyncio

import pytest

from resilient import (
    BATCH,
    Completed,
    Cost,
    Degraded,
    Governor,
    Pacing,
    Policy,
    Retrying,
    TextDelta,
)
from resilient.policy import STOPPED_LONG_WAIT
from tests.resilient.conftest import FAST, MESSAGES, MODEL
from tests.resilient.test_governor import FakeTime


async def run(client):
    return [
        e
        async for e in client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)
        if not isinstance(e, TextDelta)
    ]


@pytest.fixture
def clock():
    return FakeTime()


@pytest.fixture
def shared(clock):
    """The process's one governor, on a clock that moves only when someone waits."""
    return Governor(clock=clock.clock, sleep=clock.sleep, headroom_seconds=0.0)


def learner(make_client, sim, shared, clock, policy: Policy = FAST):
    return make_client(sim, governor=shared, clock=clock.clock, policy=policy)


async def test_the_learner_right_behind_a_long_retry_after_is_told_at_once(
    make_sim, make_client, shared, clock
):
    sim = make_sim(faults="429:retry_after=75")
    first = await run(learner(make_client, sim, shared, clock))
    assert isinstance(first[-1], Degraded) and first[-1].kind == "rate_limited"
    assert "75 seconds" in first[-1].message

    second = await run(learner(make_client, sim, shared, clock))
    end = second[-1]
    assert isinstance(end, Degraded) and end.kind == "rate_limited"
    assert "75 seconds" in end.message and "Your message is kept" in end.message
    assert end.attempts == 0 and end.stopped == STOPPED_LONG_WAIT
    assert clock.now == 0.0  # not a second of waiting behind the other learner
    assert sim.stats.attempts == 1  # nothing sent that would only earn another 429


async def test_a_short_shared_wait_is_announced_then_the_reply_comes(
    make_sim, make_client, shared, clock
):
    sim = make_sim()
    await shared.penalize(3)  # another learner's 429 said "retry-after: 3" just now
    events = await run(learner(make_client, sim, shared, clock))
    assert isinstance(events[0], Pacing) and events[0].delay == pytest.approx(3)
    assert "rate limit" in events[0].reason
    assert isinstance(events[-1], Completed) and clock.now == pytest.approx(3)


async def test_a_wait_too_short_to_notice_passes_without_a_word(
    make_sim, make_client, shared, clock
):
    sim = make_sim()
    await shared.penalize(1)
    events = await run(learner(make_client, sim, shared, clock))
    assert [type(e) for e in events] == [Completed]


async def test_the_batch_preset_waits_out_the_long_retry_after(
    make_sim, make_client, shared, clock
):
    sim = make_sim(faults="429:retry_after=75")
    await run(learner(make_client, sim, shared, clock))
    patient = Policy(BATCH.retry, FAST.timeouts)
    events = await run(learner(make_client, sim, shared, clock, policy=patient))
    assert isinstance(events[0], Pacing) and events[0].delay == pytest.approx(75)
    assert isinstance(events[-1], Completed) and clock.now == pytest.approx(75)


async def test_a_429_with_a_retry_after_the_call_may_wait_still_retries_it(
    make_sim, make_client, shared, clock
):
    sim = make_sim(faults="429:retry_after=5")
    events = await run(learner(make_client, sim, shared, clock))
    assert isinstance(events[0], Retrying) and isinstance(events[-1], Completed)


async def test_leaving_while_waiting_gives_the_slot_back(make_sim, make_client):
    gov = Governor(concurrency=1)
    await gov.penalize(0.5)
    sim = make_sim()
    client = make_client(sim, governor=gov, policy=FAST)
    events = client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)
    waiting = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await events.aclose()
    # The only slot is free again: a new call is not stuck behind the one that left.
    assert await asyncio.wait_for(gov.acquire(Cost()), 2) >= 0
