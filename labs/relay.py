"""Streamed text of one reply on its way to the page: this tab and the conversation's others.

An `Outlet` is where a turn's frames go (`to_self`: the tab that asked, by direct send;
`to_others`: every other tab of the conversation, through the channel layer), so turns never
know about websockets. The socket that asked keeps the relay of its turn, so that a tab opening
mid-reply can be sent the text the other tabs already have (`catch_up_frame`).

Most replies have no other tab watching them, and every message on the channel layer costs
the sending and the receiving consumer far more than a token: so streamed text goes to the
other tabs only once one has said it watches (`watched_by_another`, when it answers the
turn's announcement or opens mid-reply), and is only kept for them until then.
"""

from __future__ import annotations

from typing import Protocol

from course.rendering import LinkResolver
from labs import frames
from labs.replies import StreamingReply


class LearnerGone(Exception):
    """The tab that asked for the reply can no longer be sent to: its socket has closed."""


class Outlet(Protocol):
    async def to_self(self, frame: str) -> None: ...

    async def to_others(self, frame: str) -> None: ...


class TextRelay:
    """Streamed text, coalesced: to this tab every `FRAME_INTERVAL`, to others more coarsely.

    Per token this only appends to a buffer. This tab's frames go by direct `send`; the other
    tabs' copy crosses the channel layer, where every message costs far more than a token, so
    it gathers this tab's chunks for `GROUP_FRAME_INTERVAL` (a few layer messages a second
    per stream). Text still pending for the other tabs when the reply ends is dropped: the
    final frame replaces the whole reply.
    """

    def __init__(
        self,
        outlet: Outlet,
        message_id: int,
        *,
        watched: bool = False,
        resolve: LinkResolver | None = None,
    ) -> None:
        self.outlet = outlet
        self.message_id = message_id
        self.resolve = resolve
        self.mine = frames.Coalescer(interval=frames.FRAME_INTERVAL)
        self.theirs = frames.Coalescer(interval=frames.GROUP_FRAME_INTERVAL)
        self.watched = watched  # another tab has said it watches this reply
        self._mine_html = StreamingReply(resolve)
        # The reply's text as the other tabs have been sent it (or would have been, before
        # one watched): what a tab that starts watching is sent first. Rendered for them only
        # once one watches (`_theirs_html`).
        self._shared: list[str] = []
        self._theirs_html: StreamingReply | None = None
        self.stop_requested = False  # the learner pressed Stop: keep the text so far

    @property
    def text_so_far(self) -> str:
        """Everything streamed since the last restart, sent or still pending."""
        return self._mine_html.text + self.mine.pending_text

    async def add(self, text: str, now: float) -> None:
        chunk = self.mine.add(text, now)
        if chunk is not None:
            await self._to_self(chunk)
            await self._to_others(self.theirs.add(chunk, now))

    async def flush(self, now: float) -> None:
        """Send everything pending, to every tab (a notice is about to follow the text)."""
        chunk = self.mine.flush(now)
        shared = None
        if chunk is not None:
            await self._to_self(chunk)
            shared = self.theirs.add(chunk, now)  # sends everything itself when it is due
        await self._to_others(shared if shared is not None else self.theirs.flush(now))

    def reset(self) -> None:
        self.mine.reset()
        self.theirs.reset()
        self._shared.clear()
        self._mine_html = StreamingReply(self.resolve)
        self._theirs_html = None

    def watched_by_another(self) -> str | None:
        """Another tab watches from now on: its frame with the text so far (None: no text yet).

        Streamed text goes to the group from now on; the frame must reach that tab before
        them. The layer keeps one sender's messages in order, and the embedded layer's send
        does not wait, so it does; on Redis a text frame sent while this one is on its way
        can arrive first and be overwritten by it, until the final frame replaces the reply.
        """
        self.watched = True
        return self.catch_up_frame()

    def catch_up_frame(self) -> str | None:
        """For a tab that opened mid-reply: the text so far, replacing what it shows.

        Only what was sent to the other tabs, not what is still pending for them: the pending
        text reaches that tab too (it has joined the group) when it is sent, and would be
        doubled. The layer keeps one sender's messages to one channel in order, so the frames
        sent before this one arrive before it and are replaced by it.
        """
        if not self._shared:
            return None
        return frames.whole_text_frame(self.message_id, self._rendered_for_others())

    def _rendered_for_others(self) -> StreamingReply:
        """The other tabs' rendering, made from their text so far the first time it is asked."""
        if self._theirs_html is None:
            self._theirs_html = StreamingReply(self.resolve)
            if self._shared:
                self._theirs_html.add("".join(self._shared))
        return self._theirs_html

    async def _to_self(self, chunk: str) -> None:
        update = self._mine_html.add(chunk)
        await self.outlet.to_self(frames.text_frame(self.message_id, update))

    async def _to_others(self, chunk: str | None) -> None:
        if chunk is not None:
            if self.watched:
                update = self._rendered_for_others().add(chunk)
                self._shared.append(chunk)
                await self.outlet.to_others(frames.text_frame(self.message_id, update))
            else:
                self._shared.append(chunk)
