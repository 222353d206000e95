"""Who may connect, what a disconnect does, and what a second tab sees."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from labs.backend import offline_simulator
from labs.models import CoachTurn, Conversation, Message
from tests.labs.conftest import (
    communicator,
    connected,
    make_conversation,
    receive,
    send,
    until_idle,
)
from tests.reply_frames import reply_id, shown, text_frames

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_connections_are_refused(learner, fast_coach):
    conversation = await database_sync_to_async(make_conversation)(learner)
    comm = await communicator(None, conversation.pk)
    connected, _ = await comm.connect()
    assert not connected
    await comm.disconnect()


@pytest.mark.parametrize("origin", ["http://evil.example", None])
async def test_cross_origin_or_originless_connections_are_refused(learner, fast_coach, origin):
    conversation = await database_sync_to_async(make_conversation)(learner)
    comm = await communicator(learner, conversation.pk, origin=origin)
    connected, _ = await comm.connect()
    assert not connected
    await comm.disconnect()


async def test_another_learners_conversation_is_refused(learner, other_learner, fast_coach):
    conversation = await database_sync_to_async(make_conversation)(learner)
    comm = await communicator(other_learner, conversation.pk)
    connected, _ = await comm.connect()
    assert not connected
    await comm.disconnect()


async def eventually(check, timeout: float = 5.0) -> None:
    """Wait until `check()` (async) is true."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.02)


async def test_a_closed_tab_nobody_reopens_cancels_the_turn_and_closes_the_upstream(
    learner, fast_coach, settings, monkeypatch
):
    from labs import consumers

    monkeypatch.setattr(consumers, "GRACE", 0.3)
    settings.COACH_TOKENS_PER_SECOND = 100.0  # slow enough to leave mid-reply
    simulator = offline_simulator()
    cancelled_before = simulator.stats.cancelled
    conversation = await database_sync_to_async(make_conversation)(learner)
    comm = await communicator(learner, conversation.pk)
    assert (await comm.connect())[0]
    await send(comm, message="How does jitter help after a 429?")
    await receive(comm)  # accepted
    first = await receive(comm)
    assert first["target"].endswith("-tail")  # the reply has started
    await comm.disconnect()

    async def cancelled() -> bool:
        turn = await CoachTurn.objects.aget(conversation=conversation)
        return turn.outcome == "cancelled"

    await eventually(cancelled)
    assert simulator.stats.cancelled == cancelled_before + 1
    assert simulator.stats.in_flight == 0
    reply = await Message.objects.aget(conversation=conversation, role="assistant")
    assert reply.status == Message.Status.FAILED
    assert (await Conversation.objects.aget(pk=conversation.pk)).busy_until is None


async def test_a_reloaded_page_gets_the_reply_so_far_and_the_rest(learner, fast_coach, settings):
    settings.COACH_TOKENS_PER_SECOND = 100.0
    conversation = await database_sync_to_async(make_conversation)(learner)
    before = await communicator(learner, conversation.pk)
    assert (await before.connect())[0]
    await send(before, message="How does jitter help after a 429?")
    sent = [await receive(before)]
    while len(text_frames(sent, reply_id(sent[1:] or [{}]) if len(sent) > 1 else 0)) < 5:
        sent.append(await receive(before))
    await before.disconnect()  # the learner pressed reload
    after = await communicator(learner, conversation.pk)
    assert (await after.connect())[0]
    try:
        seen = await until_idle(after)
    finally:
        await after.disconnect()
    reply = reply_id(sent[1:])
    caught_up = seen[0]
    assert caught_up["target"] == f"#msg-{reply}-text"  # everything so far, at once
    assert shown([caught_up], reply).text.strip(), "the reply so far, not an empty bubble"
    assert len(text_frames(seen, reply)) >= 2, "the rest streams on"
    before_reload = shown(sent, reply).text.strip()
    assert shown(seen[:-1], reply).text.startswith(before_reload)
    assert "Reply complete" in seen[-1]["content"]
    stored = await Message.objects.aget(pk=reply)
    assert stored.status == Message.Status.COMPLETE and stored.text


async def test_stop_ends_the_reply_closes_the_upstream_and_keeps_the_text(
    learner, fast_coach, settings
):
    settings.COACH_TOKENS_PER_SECOND = 100.0
    simulator = offline_simulator()
    cancelled_before = simulator.stats.cancelled
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="How does jitter help after a 429?")
        sent = [await receive(comm)]
        while len(sent) < 6:
            sent.append(await receive(comm))
        await send(comm, action="stop")
        sent += await until_idle(comm)
    final = sent[-1]
    assert final["busy"] is False and "Reply stopped" in final["content"]
    assert "Stopped" in final["content"]
    reply = await Message.objects.aget(conversation=conversation, role="assistant")
    assert reply.status == Message.Status.STOPPED and reply.text
    assert shown(sent[:-1], reply.pk).text.strip()[:20] in final["content"]
    assert simulator.stats.cancelled == cancelled_before + 1 and simulator.stats.in_flight == 0
    turn = await CoachTurn.objects.aget(conversation=conversation)
    assert turn.outcome == "cancelled"
    assert (await Conversation.objects.aget(pk=conversation.pk)).busy_until is None


async def test_stop_from_another_tab_stops_the_reply(learner, fast_coach, settings):
    settings.COACH_TOKENS_PER_SECOND = 100.0
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with (
        connected(learner, conversation.pk) as first,
        connected(learner, conversation.pk) as second,
    ):
        await send(first, message="How does jitter help after a 429?")
        await receive(first)
        await receive(second)  # the turn's announcement
        await send(second, action="stop")
        sent = await until_idle(first)
    assert "Reply stopped" in sent[-1]["content"]
    reply = await Message.objects.aget(conversation=conversation, role="assistant")
    assert reply.status == Message.Status.STOPPED


async def test_stop_with_no_reply_running_says_so(learner, fast_coach):
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, action="stop")
        assert "no reply running to stop" in (await receive(comm))["content"]


async def test_a_second_tab_sees_the_same_stream_and_cannot_start_another_turn(
    learner, fast_coach, settings
):
    settings.COACH_TOKENS_PER_SECOND = 500.0
    conversation = await database_sync_to_async(make_conversation)(learner)
    first = await communicator(learner, conversation.pk)
    second = await communicator(learner, conversation.pk)
    assert (await first.connect())[0] and (await second.connect())[0]
    try:
        await send(first, message="How should I back off?")
        mine = await receive(first)
        theirs = await receive(second)
        assert mine["accepted"] is True and theirs["accepted"] is False
        assert "How should I back off?" in theirs["content"]
        await send(second, message="And another thing")
        refusal = await receive(second)
        while refusal.get("target") != "#chat-alert":  # stream frames may come first
            refusal = await receive(second)
        assert "still answering" in refusal["content"]
        sent = await until_idle(first)
        seen = await until_idle(second)
    finally:
        await first.disconnect()
        await second.disconnect()
    assert seen[-1]["content"] == sent[-1]["content"]
    reply = reply_id(sent)
    assert text_frames(seen, reply)
    assert len(text_frames(seen, reply)) <= len(text_frames(sent, reply))
    assert await Message.objects.filter(conversation=conversation, role="user").acount() == 1


async def test_a_tab_alone_puts_no_streamed_text_on_the_channel_layer(learner, fast_coach):
    # Every layer message costs the sender and each receiving consumer more than a token: a
    # reply nobody else watches sends the other tabs its announcement and final frame only.
    conversation = await database_sync_to_async(make_conversation)(learner)
    layer = get_channel_layer()
    async with connected(learner, conversation.pk) as comm:
        listener = await layer.new_channel()  # what any other member of the group is sent
        await layer.group_add(f"lab-conversation-{conversation.pk}", listener)
        await send(comm, message="How should I back off?")
        sent = await until_idle(comm)
        heard = []
        while True:
            try:
                async with asyncio.timeout(0.2):
                    heard.append((await layer.receive(listener))["type"])
            except TimeoutError:
                break
    assert len(text_frames(sent, reply_id(sent))) >= 3
    assert heard == ["chat.turn", "chat.frame"]


async def test_a_tab_opened_mid_reply_is_sent_the_text_so_far_then_the_rest(
    learner, fast_coach, settings
):
    settings.COACH_TOKENS_PER_SECOND = 100.0
    conversation = await database_sync_to_async(make_conversation)(learner)
    first = await communicator(learner, conversation.pk)
    late = await communicator(learner, conversation.pk)
    assert (await first.connect())[0]
    try:
        await send(first, message="How should I back off?")
        sent = [await receive(first)]
        while not sent[-1]["target"].endswith("-tail"):
            sent.append(await receive(first))
        reply = reply_id(sent[-1:])
        while len(text_frames(sent, reply)) < 30:  # about 0.3 s in
            sent.append(await receive(first))
        assert (await late.connect())[0]
        caught_up = await receive(late)
        seen = [caught_up, *await until_idle(late)]
        sent += await until_idle(first)
    finally:
        await first.disconnect()
        await late.disconnect()
    # The first frame the late tab gets replaces the (empty) text with everything so far.
    assert caught_up["target"] == f"#msg-{reply}-text"
    assert caught_up["swap"].startswith("innerHTML")
    so_far = shown([caught_up], reply).text
    assert len(so_far) > 20
    # With what follows, it shows what the tab that asked was streamed, in order and once
    # (the last few words come with the final frame, which replaces the whole reply).
    whole = shown(sent[:-1], reply).text
    late_view = shown(seen[:-1], reply).text
    assert whole.startswith(late_view.rstrip()) and len(late_view) > len(so_far)
    assert seen[-1]["content"] == sent[-1]["content"]


async def test_the_consumer_survives_a_turn_that_breaks(learner, fast_coach, monkeypatch):
    from labs import turns

    def broken(*args, **kwargs):
        raise RuntimeError("the coach's client could not be built")

    # Breaks inside the turn task, after the turn was admitted and announced.
    monkeypatch.setattr(turns, "client_for", broken)
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="Hello?")
        await receive(comm)
        final = (await until_idle(comm))[-1]
        assert "Something went wrong on our side" in final["content"]
        await asyncio.sleep(0)
        await comm.send_to(text_data="still there?")
        assert "not JSON" in (await receive(comm))["content"]
    assert (await Conversation.objects.aget(pk=conversation.pk)).busy_until is None


async def test_a_tab_whose_socket_closed_mid_reply_cancels_the_turn_not_fails_it(
    learner, fast_coach, settings, monkeypatch
):
    from labs import consumers
    from labs.consumers import LabChatConsumer

    monkeypatch.setattr(consumers, "GRACE", 0.2)
    settings.COACH_TOKENS_PER_SECOND = 100.0
    simulator = offline_simulator()
    cancelled_before = simulator.stats.cancelled
    sent = 0
    original = LabChatConsumer.send

    async def closed_after_two_frames(self, text_data=None, **kwargs):
        nonlocal sent
        sent += 1
        if sent > 2:  # what daphne does once the client has gone
            raise OSError("Attempt to send on a closed protocol")
        await original(self, text_data=text_data, **kwargs)

    monkeypatch.setattr(LabChatConsumer, "send", closed_after_two_frames)
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="How does jitter help after a 429?")
        for _ in range(100):
            turn = await CoachTurn.objects.filter(conversation=conversation).afirst()
            if turn is not None and turn.finished is not None:
                break
            await asyncio.sleep(0.05)

    assert turn is not None and turn.outcome == "cancelled"
    assert simulator.stats.cancelled == cancelled_before + 1


def a_turn_nobody_runs(conversation: Conversation, lease_left: float) -> Message:
    """A reply left streaming by a worker that died, its lease running out in `lease_left` s."""
    from django.utils import timezone

    asked = Message.objects.create(conversation=conversation, role="user", text="Still there?")
    reply = Message.objects.create(conversation=conversation, role="assistant", status="streaming")
    CoachTurn.objects.create(
        conversation=conversation,
        user=conversation.user,
        user_message=asked,
        assistant_message=reply,
        module=conversation.module,
        lab=conversation.lab,
        model="claude-sonnet-4-6",
        backend="offline",
        started=timezone.now(),
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        busy_until=timezone.now() + timedelta(seconds=lease_left)
    )
    return reply


async def test_an_open_tab_shows_a_reply_interrupted_when_its_workers_lease_lapses(
    learner, fast_coach, monkeypatch
):
    from labs import turns

    monkeypatch.setattr(turns, "LEASE_CHECK_MARGIN", 0.05)
    conversation = await database_sync_to_async(make_conversation)(learner)
    reply = await database_sync_to_async(a_turn_nobody_runs)(conversation, 0.4)
    async with connected(learner, conversation.pk) as comm:
        frame = await receive(comm, timeout=5)
        assert frame["target"] == f"#msg-{reply.pk}" and frame["busy"] is False
        assert "interrupted" in frame["content"] and "Try again" in frame["content"]
        # Nobody runs that turn: the retry is taken at once, never refused as busy.
        await send(comm, action="retry")
        opened = await receive(comm)
        assert opened.get("accepted") is True, opened
        frames = await until_idle(comm)
    assert "Reply complete" in frames[-1]["content"]
    stored = await Message.objects.aget(pk=reply.pk)
    assert stored.status == Message.Status.FAILED  # the dead turn's reply, ended by admission


async def test_the_page_shows_a_reply_nobody_runs_as_interrupted_with_try_again(
    learner, learner_client, fast_coach
):
    conversation = await database_sync_to_async(make_conversation)(learner)
    await database_sync_to_async(a_turn_nobody_runs)(conversation, -1)
    page = (
        await database_sync_to_async(learner_client.get)(
            f"/modules/{conversation.module}/labs/{conversation.lab}/"
        )
    ).content.decode()
    assert "This reply was interrupted" in page and "Try again" in page
    assert 'aria-busy="false"' in page and 'id="chat-stop"' in page
    assert 'id="chat-send" hidden' not in page
