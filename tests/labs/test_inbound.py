"""Every frame a socket can carry gets an answer: what cannot be read is said so and the socket
stays open; a frame too large to be a message closes it with a code the page understands; text
no database can store is cleaned and the learner told; nothing here logs a traceback."""

from __future__ import annotations

import json
import logging

import pytest
from channels.db import database_sync_to_async

from labs import admission, inbound
from labs.models import Message
from tests.labs.conftest import connected, make_conversation, receive, send, until_idle

LIMIT = 4000


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("not json", None, inbound.NOT_JSON),
        ("[1, 2]", None, inbound.NOT_OBJECT),
        ("[" * 20_000, None, inbound.TOO_DEEP),
        ('{"a":' * 5_000, None, inbound.TOO_DEEP),
        (None, b"\xff\xfe{}", inbound.NOT_TEXT),
        ('{"n": ' + "9" * 5000 + "}", None, inbound.NOT_JSON),  # past int()'s digit limit
    ],
)
def test_what_cannot_be_read_gets_a_sentence_and_keeps_the_socket(text, data, expected):
    frame = inbound.read_frame(text, data, LIMIT)
    assert frame == inbound.Unreadable(expected)
    assert "could not be read" in frame.message


def test_a_frame_too_large_to_be_a_message_closes_with_the_length_sentence():
    frame = inbound.read_frame(json.dumps({"message": "x" * 200_000}), None, LIMIT)
    assert isinstance(frame, inbound.Unreadable) and frame.close
    assert "the limit is 4,000" in frame.message and "still in the box" in frame.message


def test_the_longest_message_written_in_escapes_still_fits_the_frame():
    longest = json.dumps({"message": "\U0001f600" * LIMIT, "action": "send"})  # \ud83d\ude00 each
    frame = inbound.read_frame(longest, None, LIMIT)
    assert isinstance(frame, inbound.Frame) and frame.data["message"] == "\U0001f600" * LIMIT


def test_bytes_of_utf8_json_read_as_text():
    frame = inbound.read_frame(None, json.dumps({"message": "héllo"}).encode(), LIMIT)
    assert frame == inbound.Frame({"message": "héllo"})


def test_text_no_database_can_store_is_replaced_and_counted():
    sent = json.dumps({"message": "hi \ud800 and \x00 \U0001f600"})
    frame = inbound.read_frame(sent, None, LIMIT)
    assert frame == inbound.Frame({"message": "hi \ufffd and \ufffd \U0001f600"}, replaced=2)
    assert "2 characters" in inbound.replaced_sentence(2)
    assert "1 character of" in inbound.replaced_sentence(1)


# Through the lab's websocket.


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged():
    import config.asgi  # noqa: F401  (sets Django up, which configures logging, first)

    kept = Kept()
    root = logging.getLogger()
    root.addHandler(kept)
    yield kept.records
    root.removeHandler(kept)


UNREADABLE = [
    {"text_data": "[" * 20_000},
    {"text_data": "not json at all"},
    {"text_data": "[]"},
    {"bytes_data": b"\xff\xfe\xfd"},
]


@pytest.mark.django_db(transaction=True)
async def test_a_socket_answers_unreadable_frames_and_then_chats_on(learner, fast_coach, logged):
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        for frame in UNREADABLE:
            await comm.send_to(**frame)
            answer = await receive(comm)
            assert answer["error"] and "could not be read" in answer["content"]
        await send(comm, message="Does the socket still work?")
        opened = await receive(comm)
        assert opened["accepted"]
        assert (await until_idle(comm))[-1]["busy"] is False
    assert not [r for r in logged if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.django_db(transaction=True)
async def test_a_frame_over_the_limit_is_refused_with_the_length_and_a_close_code(
    learner, fast_coach, logged
):
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await comm.send_to(text_data=json.dumps({"action": "send", "message": "x" * 300_000}))
        answer = await receive(comm)
        assert "the limit is 4,000" in answer["content"]
        closed = await comm.receive_output(timeout=2)
        assert closed["type"] == "websocket.close" and closed["code"] == inbound.TOO_LARGE
    assert not await Message.objects.filter(conversation=conversation).aexists()
    assert not [r for r in logged if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.django_db(transaction=True)
async def test_a_broken_emoji_is_stored_cleaned_and_the_learner_told(learner, fast_coach):
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        # Half an emoji, and a NUL (which PostgreSQL cannot store).
        await send(comm, message="hi \ud83d, how long should I\x00 back off?")
        opened = await receive(comm)
        assert opened["accepted"] and "hi \ufffd, how long" in opened["content"]
        told = await receive(comm)
        assert "2 characters of your message could not be stored" in told["content"]
        assert (await until_idle(comm))[-1]["busy"] is False
    stored = await Message.objects.aget(conversation=conversation, role="user")
    assert stored.text == "hi \ufffd, how long should I\ufffd back off?"


@pytest.mark.django_db(transaction=True)
async def test_when_admission_fails_the_learner_is_told_the_message_was_not_sent(
    learner, fast_coach, monkeypatch
):
    async def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(admission, "admit", broken)
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="Will this be kept?")
        answer = await receive(comm)
    assert "was not sent; it is still in the box" in answer["content"]
    assert "is kept" not in answer["content"]
    assert not await Message.objects.filter(conversation=conversation).aexists()
