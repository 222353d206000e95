"""Streamed text of one reply on its way to the page: this tab and the conversation's others.

An `Outlet` is where a turn's frames go (`to_self`: the tab that asked, by direct send;
`to_others`: every other tab of the conversation, through the channel layer), so turns never
know about websockets.
"""

from __future__ import annotations

from typing import Protocol

from labs import frames


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

    def __init__(self, outlet: Outlet, message_id: int) -> None:
        self.outlet = outlet
        self.message_id = message_id
        self.mine = frames.Coalescer(interval=frames.FRAME_INTERVAL)
        self.theirs = frames.Coalescer(interval=frames.GROUP_FRAME_INTERVAL)

    async def add(self, text: str, now: float) -> None:
        chunk = self.mine.add(text, now)
        if chunk is not None:
            await self.outlet.to_self(frames.text_frame(self.message_id, chunk))
            await self._to_others(self.theirs.add(chunk, now))

    async def flush(self, now: float) -> None:
        """Send everything pending, to every tab (a notice is about to follow the text)."""
        chunk = self.mine.flush(now)
        shared = None
        if chunk is not None:
            await self.outlet.to_self(frames.text_frame(self.message_id, chunk))
            shared = self.theirs.add(chunk, now)  # sends everything itself when it is due
        await self._to_others(shared if shared is not None else self.theirs.flush(now))

    def reset(self) -> None:
        self.mine.reset()
        self.theirs.reset()

    async def _to_others(self, chunk: str | None) -> None:
        if chunk is not None:
            await self.outlet.to_others(frames.text_frame(self.message_id, chunk))
