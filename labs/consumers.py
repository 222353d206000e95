"""The lab chat websocket: thin. Parsing and routing here; rules and streaming in `turns`.

The coach turn runs as its own task, never inside `receive()`: Channels handles one message
at a time per socket, so a reply streamed from `receive()` would hide the disconnect that
must cancel it. The task sends this tab its frames directly (`to_self`); frames for other tabs
of the same conversation cross the channel layer as coalesced frames (group
`lab-conversation-<id>`), never one message per token, and only once another tab has said it
watches: each turn is announced to the group (`chat.turn`), and a tab that sees the
announcement, or that opens mid-reply, asks the tab streaming the reply (`chat.catch_up`),
which sends it the text so far and from then on streams to the group too. A tab drops its own
copy of a frame it sent to the group.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from course.links import resolver_for
from course.registry import get_module
from course.sockets import SessionBoundConsumer
from labs import store, turns
from labs.limits import BUSY_MESSAGE, Refused
from labs.relay import LearnerGone, TextRelay

logger = logging.getLogger(__name__)

NOT_JSON = "That message could not be read (it was not JSON). Reload the page and try again."
NOT_OBJECT = "That message could not be read (expected a JSON object)."
FRAME_EVENT = "chat.frame"
# A turn has started in another tab: show its frame, and say this tab watches the reply.
TURN_EVENT = "chat.turn"
# A tab watches the conversation's reply streaming now, if any (it has just opened, or it saw
# the turn's announcement): the tab streaming it answers with the text so far.
CATCH_UP_EVENT = "chat.catch_up"


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("coach turn task failed", exc_info=task.exception())


class LabChatConsumer(SessionBoundConsumer):
    async def connect(self) -> None:
        self.task: asyncio.Task[Any] | None = None
        self.relay: TextRelay | None = None  # the reply this tab's turn is streaming
        self.group = ""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        conversation_id = self.scope["url_route"]["kwargs"]["conversation"]
        conversation = await store.owned_conversation(user.pk, conversation_id)
        module = get_module(conversation.module) if conversation else None
        lab = module.lab(conversation.lab) if module and conversation else None
        if conversation is None or module is None or lab is None:
            await self.close(code=4404)
            return
        self.user_id = user.pk
        self.conversation = conversation
        self.module = module
        self.lab = lab
        self.group = f"lab-conversation-{conversation.pk}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # The page showed the reply as stored, without the text streamed so far.
        await self.channel_layer.group_send(
            self.group, {"type": CATCH_UP_EVENT, "reply_to": self.channel_name}
        )

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "task", None)
        if task is not None and not task.done():
            # Cancelling closes the upstream stream: nobody pays for tokens nobody will read.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if getattr(self, "group", ""):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    def streaming(self) -> bool:
        return self.task is not None and not self.task.done()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            data = json.loads(text_data or "")
        except ValueError:
            await self.send(text_data=turns.alert_frame(NOT_JSON))
            return
        if not isinstance(data, dict):
            await self.send(text_data=turns.alert_frame(NOT_OBJECT))
            return
        if self.streaming():
            await self.send(text_data=turns.alert_frame(BUSY_MESSAGE))
            return
        try:
            admitted = await turns.admit(
                self.conversation, self.module, self.lab, self.user_id, data
            )
        except Exception:
            logger.exception("could not admit a lab message")
            await self.send(text_data=turns.alert_frame(turns.BROKEN_MESSAGE))
            return
        if isinstance(admitted, Refused):
            await self.send(text_data=turns.alert_frame(admitted.message))
            return
        # Made before the turn is announced: a tab answering the announcement finds it.
        self.relay = TextRelay(
            self, admitted.started.assistant_message.pk, resolve=resolver_for(self.module)
        )
        mine, theirs = turns.accepted_frames(admitted, self.module, self.lab)
        await self.send(text_data=mine)
        await self.channel_layer.group_send(
            self.group, {"type": TURN_EVENT, "frame": theirs, "sender": self.channel_name}
        )
        self.task = asyncio.create_task(turns.run_turn(admitted, self.module, self.lab, self.relay))
        self.task.add_done_callback(_log_failure)

    # -- Outlet of this tab's turn ---------------------------------------------------------

    async def to_self(self, frame: str) -> None:
        try:
            await self.send(text_data=frame)
        except Exception as exc:
            # The socket closed before its disconnect reached us (daphne raises autobahn's
            # Disconnected, uvicorn ClientDisconnected): the learner left, nothing failed.
            raise LearnerGone(str(exc)) from exc

    async def to_others(self, frame: str) -> None:
        await self.channel_layer.group_send(
            self.group, {"type": FRAME_EVENT, "frame": frame, "sender": self.channel_name}
        )

    # -- The conversation's group (channel layer handlers) ---------------------------------

    async def chat_frame(self, event: dict[str, Any]) -> None:
        if event.get("sender") != self.channel_name:
            await self.send(text_data=event["frame"])

    async def chat_turn(self, event: dict[str, Any]) -> None:
        sender = event.get("sender")
        if sender == self.channel_name or not isinstance(sender, str):
            return
        await self.send(text_data=event["frame"])
        await self.channel_layer.send(
            sender, {"type": CATCH_UP_EVENT, "reply_to": self.channel_name}
        )

    async def chat_catch_up(self, event: dict[str, Any]) -> None:
        reply_to = event.get("reply_to")
        if not isinstance(reply_to, str) or reply_to == self.channel_name:
            return
        if self.relay is None or not self.streaming():
            return
        frame = self.relay.watched_by_another()
        if frame is not None:
            await self.channel_layer.send(
                reply_to, {"type": FRAME_EVENT, "frame": frame, "sender": self.channel_name}
            )
