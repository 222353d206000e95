"""Faults on the real-API path through the lab's websocket: the SDK's aiohttp client streaming
from the simulator served on loopback, as a deployment with `ANTHROPIC_API_KEY` streams from the
API (fault drills are the offline coach's; here the upstream itself misbehaves)."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.db import database_sync_to_async

from labs import backend
from labs.models import CoachTurn, Message
from labs.offline import offline_responder
from resilient import CircuitBreaker, Policy, RetryPolicy, Timeouts
from resilient.events import DEGRADED_MESSAGES
from resilient.simulator import Simulator, SimulatorConfig
from tests.labs.conftest import Waits, connected, make_conversation, receive, send, until_idle
from tests.resilient.conftest import serving

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "claude-haiku-4-5"
QUESTION = "How long should I wait after a 429 with retry-after?"
# Deadlines short enough for a stall to end quickly, long enough for a collector pause.
POLICY = Policy(
    RetryPolicy(max_attempts=4, base=0.01, cap=0.05, deadline=30, max_single_wait=10),
    Timeouts(connect=1.0, first_token=1.0, idle=0.5, total=10.0),
)


@pytest.fixture
async def api(settings, monkeypatch, lab_content):
    """The real-API backend against a served simulator; retry pauses recorded, not slept."""
    sim = Simulator(
        SimulatorConfig(tokens_per_second=400, ping_interval=0.05), responder=offline_responder
    )
    waits = Waits()
    monkeypatch.setattr(backend, "retry_sleep", waits)
    monkeypatch.setattr(backend, "policy", POLICY)
    monkeypatch.setattr(backend, "_breakers", {})
    async with serving(sim) as url:
        settings.ANTHROPIC_API_KEY = "sk-loopback-faults"
        settings.ANTHROPIC_BASE_URL = url
        settings.COACH_MODEL = MODEL
        settings.COACH_GOVERNOR = "off"
        settings.COACH_FAULTS = ""
        settings.COACH_FALLBACK_MODEL = ""
        yield sim, waits


async def turn_of(user):
    conversation = await database_sync_to_async(make_conversation)(user)
    async with connected(user, conversation.pk) as comm:
        await send(comm, message=QUESTION)
        frames = [await receive(comm)]
        frames += await until_idle(comm)
    turn = await CoachTurn.objects.select_related("assistant_message").aget(
        conversation=conversation
    )
    assert turn.backend == "api"
    return frames, turn


@pytest.mark.parametrize("plan", ["drop@5,ok", "eof@5,ok", "stall@5,ok"])
async def test_a_stream_that_breaks_midway_restarts_and_keeps_only_the_second_reply(
    learner, api, plan
):
    """A dropped connection, a body that ends without `message_stop`, a stream gone silent."""
    sim, _ = api
    sim.set_faults(plan)
    frames, turn = await turn_of(learner)
    assert any("Restart:" in f["content"] for f in frames)
    assert turn.outcome == "completed" and turn.attempts == 2 and len(turn.restarts) == 1
    if plan.startswith("stall"):
        assert "stream idle for 0.5s" in turn.restarts[0]["reason"]
    text = turn.assistant_message.text
    assert text and text.count(text.split(". ")[0]) == 1  # nothing left of the first attempt
    assert sim.stats.in_flight == 0


async def test_a_stream_that_stays_silent_ends_in_our_timeout(learner, api):
    sim, _ = api
    sim.set_faults("stall*4")
    frames, turn = await turn_of(learner)
    assert turn.outcome == "degraded" and turn.degraded_kind == "timeout"
    assert turn.attempts == 4 and "no first token within 1s" in turn.waits[0]["reason"]
    assert DEGRADED_MESSAGES["timeout"] in frames[-1]["content"]
    assert turn.assistant_message.status == Message.Status.FAILED


async def test_a_429_waits_for_its_retry_after(learner, api):
    sim, waits = api
    sim.set_faults("429:retry_after=2,ok")
    frames, turn = await turn_of(learner)
    assert turn.outcome == "completed" and turn.attempts == 2
    assert waits.delays and 2.0 <= waits.delays[0] <= 2.3
    assert "retry-after 2s" in turn.waits[0]["reason"]
    assert any("Attempt 1 failed" in f["content"] for f in frames)


async def test_the_breaker_opens_after_overloads_then_lets_a_probe_through(learner, api):
    sim, _ = api
    backend._breakers[MODEL] = CircuitBreaker(threshold=2, cooldown=0.3)
    sim.set_faults("529*2,ok")
    _, failed = await turn_of(learner)
    # Two overloads open the circuit: the third attempt fails fast, nothing is sent.
    assert failed.outcome == "degraded" and failed.degraded_kind == "overloaded"
    assert failed.attempts == 2 and sim.stats.attempts == 2
    _, refused = await turn_of(learner)
    assert refused.degraded_kind == "overloaded" and sim.stats.attempts == 2
    await asyncio.sleep(0.35)  # the cool-down: one probe may go
    _, probe = await turn_of(learner)
    assert probe.outcome == "completed" and sim.stats.attempts == 3
    assert backend._breakers[MODEL].state == "closed"


# One learner's long `retry-after` and a second learner right behind, through the process's
# shared governor: the second gets a reply or a clear message within its own deadline, never
# a silent wait (measured before: 74.8 s to a first token, past the 60 s call deadline).


@pytest.fixture
async def paced(api, settings, monkeypatch):
    """The same upstream, now paced by a fresh in-memory governor (real waits)."""
    sim, waits = api
    monkeypatch.setattr(backend, "_governors", {})
    settings.COACH_GOVERNOR = "memory"
    return sim, waits


async def timed_turn(user):
    started = time.monotonic()
    frames, turn = await turn_of(user)
    return frames, turn, time.monotonic() - started


async def test_the_learner_behind_a_75_s_retry_after_hears_at_once_and_why(
    learner, other_learner, paced, record_property
):
    sim, _ = paced
    sim.set_faults("429:retry_after=75")
    first, first_turn, _ = await timed_turn(learner)
    assert first_turn.degraded_kind == "rate_limited"
    assert "75 seconds" in first[-1]["content"]

    # Right behind, on an upstream that would answer: no freeze, a clear message.
    second, second_turn, took = await timed_turn(other_learner)
    record_property("second learner's answer behind a 75 s retry-after (s)", f"{took:.2f}")
    final = second[-1]["content"]
    assert took < 5, f"the second learner waited {took:.1f} s in silence"
    assert second_turn.outcome == "degraded" and second_turn.degraded_kind == "rate_limited"
    assert "rate limit, shared by every learner" in final and "75 seconds" in final
    assert "Your message is kept" in final and "Try again" in final
    assert sim.stats.attempts == 1  # nothing sent that would only earn another 429


async def test_a_short_shared_wait_is_announced_and_the_reply_follows(
    learner, other_learner, paced
):
    sim, _ = paced
    sim.set_faults("429:retry_after=3")
    first = asyncio.create_task(timed_turn(learner))
    for _ in range(200):  # the first learner's 429 now holds every turn for 3 s
        if sim.stats.attempts:
            break
        await asyncio.sleep(0.01)
    second, second_turn, took = await timed_turn(other_learner)
    await first
    notices = [f["content"] for f in second if "Waiting" in f["content"]]
    assert notices and "rate limit" in notices[0]
    assert second_turn.outcome == "completed" and "Reply complete" in second[-1]["content"]
    assert took < POLICY.retry.max_single_wait + 5
