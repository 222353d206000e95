"""Logging out closes the sockets that login opened, on every worker; others stay open."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from course.sockets import LOGGED_OUT
from tests.labs.conftest import make_conversation

pytestmark = pytest.mark.django_db(transaction=True)


async def logged_in(user) -> Client:
    client = Client()
    await sync_to_async(client.force_login)(user)
    return client


async def lab_socket(client: Client, conversation_id: int) -> WebsocketCommunicator:
    from config.asgi import application

    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    comm = WebsocketCommunicator(
        application,
        f"/ws/labs/conversations/{conversation_id}/",
        headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)],
    )
    connected, _ = await comm.connect()
    assert connected
    return comm


async def test_logging_out_closes_that_sessions_lab_socket(learner, lab_content):
    conversation = await database_sync_to_async(make_conversation)(learner)
    browser = await logged_in(learner)
    laptop = await logged_in(learner)  # the same learner in another browser
    here = await lab_socket(browser, conversation.pk)
    there = await lab_socket(laptop, conversation.pk)
    try:
        response = await sync_to_async(browser.post)(reverse("logout"))
        assert response.status_code == 302
        closed = await here.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": LOGGED_OUT, "reason": "logged out"}
        assert await there.receive_nothing(timeout=0.3)  # its own session is still logged in
    finally:
        await here.disconnect()
        await there.disconnect()
