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

A tab that closes mid-reply (a reload, a page left) does not end the reply at once: for
`GRACE` seconds its turn goes on, answering the catch-up question of a tab that opens (the
reloaded page), which then watches the rest. Nobody watching by then, the turn is cancelled and
its upstream closed. Stop (`{"action": "stop"}`, from any tab of the conversation) cancels the
turn and keeps the text so far. A tab watching a reply another worker streams checks the
turn's lease (`watch_lease`): a lease that lapsed means that worker died, and the tab shows the
reply interrupted, with Try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from django.conf import settings

from course.links import resolver_for
from course.registry import get_module
from course.sockets import SessionBoundConsumer
from labs import admission, inbound, store, turns
from labs.limits import BUSY_MESSAGE, Refused
from labs.relay import TextRelay

logger = logging.getLogger(__name__)

# Admission failed before the message was stored: the page keeps it in the box.
NOT_SENT = (
    "Something went wrong on our side, so your message was not sent; it is still in the box. "
    "Try again in a moment."
)
FRAME_EVENT = "chat.frame"
# A turn has started in another tab: show its frame, and say this tab watches the reply.
TURN_EVENT = "chat.turn"
# A tab watches the conversation's reply streaming now, if any (it has just opened, or it saw
# the turn's announcement): the tab streaming it answers with the text so far.
CATCH_UP_EVENT = "chat.catch_up"
# Stop pressed in a tab that is not the one streaming the reply.
STOP_EVENT = "chat.stop"
# Seconds a turn outlives the tab that asked for it, waiting for a tab to watch it.
GRACE = 8.0
NOTHING_TO_STOP = "There is no reply running to stop."


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("coach turn task failed", exc_info=task.exception())


# Tasks that outlive their consumer (a turn's tab has closed): held here until they end, since
# the event loop keeps only weak references to tasks.
_outliving: set[asyncio.Task[Any]] = set()


def _outlive(work: Any) -> None:
    task = asyncio.create_task(work)
    _outliving.add(task)
    task.add_done_callback(_outliving.discard)
    task.add_done_callback(_log_failure)


class LabChatConsumer(SessionBoundConsumer):
    async def connect(self) -> None:
        self.task: asyncio.Task[Any] | None = None
        self.relay: TextRelay | None = None  # the reply this tab's turn is streaming
        self.watch: asyncio.Task[Any] | None = None  # the lease of a reply streamed elsewhere
        self.gone = False  # the socket has closed
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
        self._watch_lease()

    async def disconnect(self, code: int) -> None:
        self.gone = True
        if self.watch is not None:
            self.watch.cancel()
        if self.streaming():
            # The page may be reloading: the turn goes on a while for the tab that reopens.
            _outlive(self._outlive_the_tab())
        elif self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _outlive_the_tab(self) -> None:
        """Serve the group for a turn whose tab closed; cancel it if nobody watches in time.

        Runs as its own task: the server ends the consumer once its socket has closed. Reads
        this channel itself (`channel_layer.receive`), as the consumer did.
        """
        assert self.task is not None and self.relay is not None
        # Let the consumer's own reader of this channel stop first: with two readers, each
        # would take some of its messages.
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GRACE
        try:
            while not self.task.done():
                left = deadline - loop.time()
                if not self.relay.watched and left <= 0:
                    # Cancelling closes the upstream stream: nobody pays for tokens nobody
                    # will read.
                    self.task.cancel()
                    break
                try:
                    async with asyncio.timeout(max(0.05, min(left, 1.0))):
                        event = await self.channel_layer.receive(self.channel_name)
                except TimeoutError:
                    continue
                if event.get("type") == CATCH_UP_EVENT:
                    await self.chat_catch_up(event)
                elif event.get("type") == STOP_EVENT:
                    await self.chat_stop(event)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        finally:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    def streaming(self) -> bool:
        return self.task is not None and not self.task.done()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame = inbound.read_frame(text_data, bytes_data, settings.CHAT_MAX_MESSAGE_CHARS)
        if isinstance(frame, inbound.Unreadable):
            # The learner's page never sends these: a sentence for whoever did, no traceback.
            logger.info("unreadable lab frame: %s", frame.message)
            await self.send(text_data=turns.alert_frame(frame.message))
            if frame.close:
                await self.close(code=inbound.TOO_LARGE, reason="message too big")
            return
        data = frame.data
        if data.get("action") == "stop":
            await self.stop()
            return
        if self.streaming():
            await self.send(text_data=turns.alert_frame(BUSY_MESSAGE))
            return
        try:
            admitted = await admission.admit(
                self.conversation, self.module, self.lab, self.user_id, data
            )
        except Exception:
            logger.exception("could not admit a lab message")
            await self.send(text_data=turns.alert_frame(NOT_SENT))
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
        if frame.replaced:
            await self.send(text_data=turns.alert_frame(inbound.replaced_sentence(frame.replaced)))
        await self.channel_layer.group_send(
            self.group, {"type": TURN_EVENT, "frame": theirs, "sender": self.channel_name}
        )
        self.task = asyncio.create_task(turns.run_turn(admitted, self.module, self.lab, self.relay))
        self.task.add_done_callback(_log_failure)

    async def stop(self) -> None:
        """Stop the reply running in this conversation, whichever tab streams it."""
        if self.streaming():
            await self.chat_stop({})
        elif await store.streaming_reply(self.conversation.pk) is not None:
            await self.channel_layer.group_send(self.group, {"type": STOP_EVENT})
        else:
            await self.send(text_data=turns.alert_frame(NOTHING_TO_STOP))

    def _watch_lease(self) -> None:
        """Watch a reply another tab (maybe another worker) streams, for that worker dying."""
        if self.watch is None or self.watch.done():
            self.watch = asyncio.create_task(self._lease_watch())
            self.watch.add_done_callback(_log_failure)

    async def _lease_watch(self) -> None:
        frame = await turns.watch_lease(self.conversation.pk, self.module, self.lab)
        if frame is not None and not self.streaming():
            await self.to_self(frame)

    # -- Outlet of this tab's turn ---------------------------------------------------------

    async def to_self(self, frame: str) -> None:
        if self.gone:
            return  # the tab closed: its turn goes on for the tabs that watch it
        try:
            await self.send(text_data=frame)
        except Exception:
            # The socket closed before its disconnect reached us (daphne raises autobahn's
            # Disconnected, uvicorn ClientDisconnected): the learner left, nothing failed.
            self.gone = True
            _outlive(self._cancel_unless_watched())

    async def _cancel_unless_watched(self) -> None:
        """The tab has gone: after `GRACE`, nobody watching its turn, cancel it."""
        await asyncio.sleep(GRACE)
        if self.streaming() and self.relay is not None and not self.relay.watched:
            assert self.task is not None
            self.task.cancel()

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
        self._watch_lease()

    async def chat_stop(self, event: dict[str, Any]) -> None:
        if self.relay is not None and self.task is not None and not self.task.done():
            self.relay.stop_requested = True
            self.task.cancel()  # closes the upstream; the turn keeps the text so far

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
