"""A websocket lives no longer than the login that opened it.

Logging out ends the session in the browser, but a socket opened before keeps the user it
was opened for. Each socket of a logged-in session joins that session's group on the channel
layer (so every worker hears it), and logging out tells the group: its sockets close with
`LOGGED_OUT`, a code the page reads as "you have logged out" and does not reconnect on.
"""

from __future__ import annotations

import hashlib
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

LOGGED_OUT = 4401  # close code: the session that opened the socket has logged out
SESSION_ENDED = "session.ended"


def session_group(session_key: str) -> str:
    """The layer group of one session's sockets (a digest: the key itself is a credential)."""
    return "session-" + hashlib.sha256(session_key.encode()).hexdigest()[:40]


class SessionBoundConsumer(AsyncWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    """A consumer whose socket closes when the session that opened it logs out."""

    groups: list[str]

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if key:
            self.groups = [*self.groups, session_group(key)]
        await super().websocket_connect(message)

    async def session_ended(self, event: dict[str, Any]) -> None:
        await self.close(code=LOGGED_OUT, reason="logged out")


@receiver(user_logged_out)
def close_the_sessions_sockets(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    key = request.session.session_key if request is not None else None
    layer = get_channel_layer()
    if key and layer is not None:
        async_to_sync(layer.group_send)(session_group(key), {"type": SESSION_ENDED})
