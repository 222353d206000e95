"""Fault plans from the simulator's grammar: each ends in a complete reply or the right message."""

from __future__ import annotations

import json
import logging

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from labs import backend
from labs.models import CoachTurn, Message
from resilient import Policy, RetryPolicy, Timeouts
from resilient.events import DEGRADED_MESSAGES
from tests.labs.conftest import (
    connected,
    make_conversation,
    receive,
    send,
    until_idle,
)
from tests.reply_frames import reply_id, shown

pytestmark = pytest.mark.django_db(transaction=True)


async def _offline_reply(message: str) -> str:
    """What the offline coach answers to `message` as the first turn of the fixture lab."""
    from course.registry import get_module
    from labs.coach import system_prefix
    from labs.offline import offline_responder
    from resilient.simulator import MessagesRequest
    from tests.labs.conftest import LAB, MODULE

    module = get_module(MODULE)
    lab = module.lab(LAB)
    system = system_prefix(lab, module.lesson(lab.lesson))
    request = MessagesRequest("m", 1024, system, [{"role": "user", "content": message}], {}, {})
    return offline_responder(request)


async def run_turn(user, **values):
    conversation = await database_sync_to_async(make_conversation)(user)
    async with connected(user, conversation.pk) as comm:
        await send(comm, message="How long should I wait after a 429 with retry-after?", **values)
        frames = [await receive(comm)]
        frames += await until_idle(comm)
    turn = await CoachTurn.objects.select_related("assistant_message").aget(
        conversation=conversation
    )
    return frames, turn, conversation


RECOVERS = [
    ("429:retry_after=1,429:retry_after=1,ok", 3, "retry-after 1s"),
    ("529,529,ok", 3, "529 overloaded"),
    ("500,ok", 2, "500 server error"),
    ("503,ok", 2, "503 service unavailable"),
    ("408,ok", 2, "408 request timeout"),
    ("slow_ttft=0.01,ok", 1, None),
]


@pytest.mark.parametrize(("plan", "attempts", "reason"), RECOVERS)
async def test_it_recovers_from_failures_before_the_stream(
    learner, fast_coach, settings, plan, attempts, reason
):
    settings.COACH_FAULTS = plan
    frames, turn, _ = await run_turn(learner)
    assert turn.outcome == "completed" and turn.attempts == attempts
    assert turn.assistant_message.status == Message.Status.COMPLETE
    assert turn.fault_plan == plan
    assert len(turn.waits) == attempts - 1 == len(fast_coach.delays)
    if reason:
        assert reason in turn.waits[0]["reason"]
        notices = [f for f in frames if "Attempt 1 failed" in f["content"]]
        assert notices and reason in notices[0]["content"]
    assert "Reply complete" in frames[-1]["content"]


@pytest.mark.parametrize("plan", ["drop@5,ok", "error@5,ok", "eof@5,ok"])
async def test_a_stream_broken_midway_restarts_and_clears_the_partial_text(
    learner, fast_coach, settings, plan
):
    settings.COACH_FAULTS = plan
    frames, turn, _ = await run_turn(learner)
    restart_at = next(i for i, f in enumerate(frames) if "Restart:" in f["content"])
    restart = frames[restart_at]
    assert restart["swap"].startswith("innerHTML") and restart["target"].endswith("-text")
    assert any(f["target"].endswith("-tail") for f in frames[:restart_at])
    # The restart leaves the reply's text empty, and the second attempt fills it again.
    assert shown(frames[: restart_at + 1], reply_id(frames)).text == ""
    assert turn.outcome == "completed" and turn.attempts == 2
    assert len(turn.restarts) == 1
    # The stored reply is the second attempt only: no half-sentence left from the first.
    text = turn.assistant_message.text
    first_sentence = text.split(". ")[0]
    assert text and text.count(first_sentence) == 1
    assert text == await _offline_reply("How long should I wait after a 429 with retry-after?")


async def test_a_truncated_reply_is_marked(learner, fast_coach, settings):
    settings.COACH_FAULTS = "max_tokens"
    frames, turn, _ = await run_turn(learner)
    assert turn.outcome == "truncated" and turn.stop_reason == "max_tokens"
    assert turn.assistant_message.status == Message.Status.TRUNCATED
    assert "Truncated" in frames[-1]["content"] and "max_tokens" in frames[-1]["content"]
    assert "cut short" in frames[-1]["content"]


DEGRADES = [
    ("529*6", "overloaded"),
    ("429*6", "rate_limited"),
    ("drop@3*6", "network"),
    ("400", "invalid_request"),
    ("401", "credentials"),
    ("403", "permission"),
    ("404", "not_found"),
    ("413", "invalid_request"),
    ("spend_cap", "spend_cap"),
]


@pytest.mark.parametrize(("plan", "kind"), DEGRADES)
async def test_a_turn_that_cannot_recover_shows_the_message_for_its_kind(
    learner, fast_coach, settings, plan, kind
):
    settings.COACH_FAULTS = plan
    frames, turn, conversation = await run_turn(learner)
    final = frames[-1]
    assert turn.outcome == "degraded" and turn.degraded_kind == kind
    assert DEGRADED_MESSAGES[kind].replace("'", "&#x27;") in final["content"]
    assert "Try again" in final["content"] and "Reply failed" in final["content"]
    assert turn.assistant_message.status == Message.Status.FAILED
    # The learner's message is kept.
    kept = await Message.objects.filter(conversation=conversation, role="user").acount()
    assert kept == 1


async def test_a_stalled_stream_times_out_gracefully(learner, fast_coach, settings, monkeypatch):
    short = Policy(
        retry=RetryPolicy(max_attempts=2, base=0.01, cap=0.01),
        timeouts=Timeouts(connect=1, first_token=0.05, idle=0.05, total=1),
    )
    monkeypatch.setattr(backend, "policy", short)
    settings.COACH_FAULTS = "stall*4"
    frames, turn, _ = await run_turn(learner)
    assert turn.degraded_kind == "timeout" and turn.attempts == 2
    assert DEGRADED_MESSAGES["timeout"] in frames[-1]["content"]


async def test_try_again_answers_the_kept_message(learner, fast_coach, settings):
    settings.COACH_FAULTS = "529*6"
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="What does retry-after mean?")
        await until_idle(comm)
        settings.COACH_FAULTS = ""
        await send(comm, action="retry")
        opened = await receive(comm)
        assert opened["accepted"] and "What does retry-after mean?" not in opened["content"]
        frames = await until_idle(comm)
    assert "Reply complete" in frames[-1]["content"]
    users = await Message.objects.filter(conversation=conversation, role="user").acount()
    assert users == 1
    outcomes = [t.outcome async for t in CoachTurn.objects.filter(conversation=conversation)]
    assert outcomes == ["degraded", "completed"]


async def test_the_drill_control_applies_a_plan_to_one_turn(learner, fast_coach):
    frames, turn, _ = await run_turn(learner, faults="rate-limit-storm")
    assert turn.fault_plan == "429:retry_after=1,429:retry_after=1,ok"
    assert turn.attempts == 3 and turn.outcome == "completed"
    # The client was told to wait the server's retry-after (plus jitter), not slept for real.
    assert all(1.0 <= delay <= 1.2 for delay in fast_coach.delays)
    assert turn.drill == "rate-limit-storm"


async def test_a_turn_under_a_server_plan_is_not_a_drill(learner, fast_coach, settings):
    settings.COACH_FAULTS = "529,ok"
    _, turn, _ = await run_turn(learner)
    assert turn.fault_plan == "529,ok" and turn.drill == ""


async def test_under_the_hood_draws_the_429_storm_on_a_timeline(learner, fast_coach):
    frames, turn, _ = await run_turn(learner, faults="rate-limit-storm")
    kinds = [(span["kind"], span["attempt"]) for span in turn.trace["spans"]]
    assert kinds == [
        ("request", 1),
        ("wait", 1),
        ("request", 2),
        ("wait", 2),
        ("request", 3),
        ("stream", 3),
    ]
    final = frames[-1]["content"]
    assert '<div class="timeline-chart" role="img"' in final
    assert final.count('class="tl-wait"') == 2 and final.count('class="tl-stream"') == 1
    # The text alternative under the picture tells the same story.
    steps = final.split('class="timeline-steps"', 1)[1]
    assert steps.count("it failed: 429 rate limited") == 2
    assert steps.count("before the next attempt (retry-after 1s)") == 2
    assert "Reply complete" in final


async def test_under_the_hood_draws_a_dropped_stream_and_its_restart(learner, fast_coach):
    frames, turn, _ = await run_turn(learner, faults="dropped-stream")
    kinds = [span["kind"] for span in turn.trace["spans"]]
    assert kinds == ["request", "stream", "wait", "request", "stream"]
    final = frames[-1]["content"]
    assert 'class="tl-stream tl-failed"' in final
    assert "the stream broke" in final and "partial reply was discarded" in final


async def test_under_the_hood_says_why_the_client_stopped_retrying(learner, fast_coach):
    frames, turn, _ = await run_turn(learner, faults="outage")
    assert turn.outcome == "degraded" and turn.attempts == 4
    assert turn.trace["stopped"] == "attempts"
    assert "gave up after 4 attempts" in turn.trace["why"]
    final = frames[-1]["content"]
    assert "Why it stopped" in final
    assert "it used every attempt a chat reply is allowed" in final
    assert "Try again" in final


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_refused_key_tells_the_learner_to_ask_and_alerts_the_operator(
    learner, instructor_client, fast_coach, settings
):
    settings.COACH_FAULTS = "401"
    # Loading the ASGI app sets Django up, which configures logging afresh: before listening.
    import config.asgi  # noqa: F401

    kept = Kept()
    logging.getLogger("resilient").addHandler(kept)
    try:
        frames, turn, _ = await run_turn(learner)
    finally:
        logging.getLogger("resilient").removeHandler(kept)
    final = frames[-1]["content"]
    assert turn.degraded_kind == "credentials"
    assert "please tell your instructor" in final and "shorten" not in final.lower()
    errors = [r for r in kept.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    logged = errors[0].msg if isinstance(errors[0].msg, dict) else json.loads(errors[0].msg)
    assert (logged["event"], logged["outcome"]) == ("resilient.call", "credentials")
    assert errors[0].exc_info is None  # a cause to fix, not a traceback
    page = (await sync_to_async(instructor_client.get)("/ops/")).content.decode()
    assert "CoachRefusedByApi" in page.split('id="alert-rules"')[0]  # in the firing box


async def test_a_slow_first_token_is_said_while_the_learner_waits(
    learner, fast_coach, settings, monkeypatch
):
    from labs import turns

    monkeypatch.setattr(turns, "SLOW_FIRST_WORDS", 0.1)
    settings.COACH_FAULTS = "slow_ttft=0.8"
    frames, turn, _ = await run_turn(learner)
    said = [i for i, f in enumerate(frames) if "Still waiting for the coach" in f["content"]]
    first_text = next(i for i, f in enumerate(frames) if f["target"].endswith("-tail"))
    assert said and said[0] < first_text, "said while waiting, before the first words"
    assert any("Coach is replying" in f["content"] for f in frames[said[-1] : first_text + 1])
    assert turn.outcome == "completed" and turn.attempts == 1
