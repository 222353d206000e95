"""Streaming a coach reply over the websocket, and what is stored."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from labs.backend import offline_simulator
from labs.models import CoachTurn, Message
from tests.labs.conftest import communicator, make_conversation, receive, send, until_idle
from tests.reply_frames import reply_id, shown, text_frames

pytestmark = pytest.mark.django_db(transaction=True)


async def test_it_streams_a_reply_in_several_frames_then_stores_it(learner, fast_coach):
    conversation = await database_sync_to_async(make_conversation)(learner)
    comm = await communicator(learner, conversation.pk)
    connected, _ = await comm.connect()
    assert connected
    try:
        await send(comm, message="How long should I wait after a 429?", faults="none")
        opened = await receive(comm)
        assert opened["accepted"] is True and opened["busy"] is True
        assert "How long should I wait after a 429?" in opened["content"]
        assert "Coach is replying…" in opened["content"]
        frames = await until_idle(comm)
    finally:
        await comm.disconnect()

    reply = reply_id(frames)
    deltas = text_frames(frames, reply)
    assert len(deltas) > 3
    final = frames[-1]
    assert final["swap"] == "outerHTML" and "Reply complete" in final["content"]
    assert "Lesson 1 · Understanding the HTTP 429" in final["content"]
    assert (
        'href="/modules/coaching/lessons/retries/#understanding-the-http-429"' in final["content"]
    )
    assert "Under the hood" in final["content"]
    streamed = shown(frames[:-1], reply)

    messages = await database_sync_to_async(list)(
        Message.objects.filter(conversation=conversation).order_by("id")
    )
    assert [(m.role, m.status) for m in messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    # What the page showed as the reply streamed is what the final frame shows.
    assert streamed.html and streamed.html in final["content"]
    assert "Lesson 1 · Understanding the HTTP 429" in streamed.text
    assert 'href="/modules/coaching/lessons/retries/#understanding-the-http-429"' in streamed.html
    assert messages[1].text.startswith(streamed.text.split()[0])
    turn = await CoachTurn.objects.aget(conversation=conversation)
    assert turn.outcome == "completed" and turn.backend == "offline"
    # The offline coach bills nothing: its price shows as simulated, from the turn's tokens.
    assert turn.attempts == 1 and turn.output_tokens > 0 and turn.cost_usd == 0
    assert "(simulated)" in final["content"]
    assert turn.stop_reason == "end_turn" and turn.correlation_id
    assert offline_simulator().stats.completed >= 1


async def test_a_conversation_is_titled_by_its_first_message_and_keeps_that_title(
    learner, fast_coach
):
    from labs.models import Conversation

    conversation = await database_sync_to_async(make_conversation)(learner)
    comm = await communicator(learner, conversation.pk)
    connected, _ = await comm.connect()
    assert connected
    try:
        for question in ("How long should I wait after a 429?", "And with jitter?"):
            await send(comm, message=question)
            assert (await receive(comm))["accepted"] is True
            await until_idle(comm)
    finally:
        await comm.disconnect()
    stored = await Conversation.objects.aget(pk=conversation.pk)
    assert stored.title == "How long should I wait after a 429?"
