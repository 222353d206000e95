"""A websocket coach turn: its id on every log record, on each API attempt and on its row."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from labs.models import CoachTurn
from ops import process_metrics
from ops.correlation import WebsocketTelemetry
from resilient.telemetry import correlation_id
from tests.labs.conftest import communicator, make_conversation, receive, send, until_idle


@pytest.mark.django_db(transaction=True)
async def test_a_turn_id_reaches_every_record_attempt_and_the_telemetry_row(
    learner, fast_coach, settings, log_lines
):
    settings.COACH_FAULTS = "429:retry_after=1,ok"
    conversation = await database_sync_to_async(make_conversation)(learner)
    comm = await communicator(learner, conversation.pk)
    connected, _ = await comm.connect()
    assert connected
    try:
        await send(comm, message="Why wait after a 429?")
        assert (await receive(comm))["accepted"] is True
        frames = await until_idle(comm)
    finally:
        await comm.disconnect()
    assert "Reply complete" in frames[-1]["content"]

    turn = await CoachTurn.objects.aget(conversation=conversation)
    assert turn.outcome == "completed" and turn.attempts == 2
    lines = log_lines()
    assert lines and all(line.get("correlation_id") for line in lines), lines
    resilient = [line for line in lines if line["logger"] == "resilient"]
    attempts = [line for line in resilient if line.get("event") == "resilient.attempt"]
    assert [a["outcome"] for a in attempts] == ["rate_limited", "ok"]
    assert {line["correlation_id"] for line in resilient} == {turn.correlation_id}
    assert attempts[-1]["request_id"] == turn.request_id  # the upstream's request-id
    assert turn.correlation_id in frames[-1]["content"]  # the "under the hood" panel shows it


def _open_gauge() -> float:
    return process_metrics.REGISTRY.get_sample_value("websocket_connections_open") or 0.0


@pytest.mark.parametrize(
    ("trusted", "header", "kept"), [(True, b"edge-9", True), (False, b"edge-9", False)]
)
async def test_a_connection_gets_an_id_and_is_counted_while_open(settings, trusted, header, kept):
    settings.TRUST_X_REQUEST_ID = trusted
    seen: dict[str, object] = {}
    sent: list[dict] = []

    async def inner(scope, receive, send):
        seen["contextvar"] = correlation_id()
        seen["scope"] = scope["correlation_id"]
        await send({"type": "websocket.accept"})
        seen["open_inside"] = _open_gauge()

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "websocket.connect"}

    before = _open_gauge()
    scope = {"type": "websocket", "path": "/ws/", "headers": [(b"x-request-id", header)]}
    await WebsocketTelemetry(inner)(scope, receive, send)

    cid = seen["scope"]
    assert seen["contextvar"] == cid and (cid == "edge-9") is kept
    assert (b"x-request-id", str(cid).encode()) in sent[0]["headers"]
    assert seen["open_inside"] == before + 1
    assert _open_gauge() == before  # closed again when the connection ended
    assert correlation_id() is None
