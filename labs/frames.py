"""What the server sends to the page over the websocket: htmx `hx-ws` JSON frames.

hx-ws swaps `content` into `target` with `swap` (the page never parses our JSON itself, except
for the two flags `busy` and `accepted`, read by `static/js/labs.js`). Streamed text arrives
rendered (`labs.replies`): each frame appends the blocks that can no longer change to the
reply's settled part and replaces its last block, so what the page shows while a reply streams
is what the finished reply shows.

Coalescing: tokens are gathered and sent as one frame at most every `interval` seconds (a
frame per token costs more CPU than the token and, across the channel layer, floods it). The
buffer holds at most `max_chars` characters: past that it is flushed whatever the clock says,
so what one connection buffers on the server is bounded by `max_chars` plus the frame being
sent. The turn awaits each send, so a reader that stops reading pauses its own turn on a
server with back-pressure (uvicorn); on daphne, which has none, a turn can queue at most one
reply's frames (`COACH_MAX_TOKENS` pieces plus one small header per frame).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import mark_safe

from labs.replies import StreamingReply, Update

FRAME_INTERVAL = 0.05  # seconds: 20 frames a second at most per stream
# Streamed text for other tabs crosses the channel layer: coarser, so a stream puts only a few
# messages a second on it (notices and the final frame go at once).
GROUP_FRAME_INTERVAL = 0.15
MAX_PENDING_CHARS = 2048
EARLY = 0.2  # of an interval: how early a frame may go (`Coalescer`)

# hx-ws adds `swapEmpty:false` to a swap that does not say otherwise, which would drop a
# frame of only spaces (a word boundary) or an intentional clear: say so explicitly.
APPEND = "beforeend swapEmpty:true"
REPLACE = "innerHTML swapEmpty:true"
OUTER = "outerHTML"


def frame(target: str, swap: str, content: str, **data: Any) -> str:
    """One hx-ws frame; `content` must already be safe HTML."""
    return json.dumps({"target": target, "swap": swap, "content": content, **data})


def text_target(message_id: int) -> str:
    return f"#msg-{message_id}-text"


def notice_target(message_id: int) -> str:
    return f"#msg-{message_id}-notice"


def message_target(message_id: int) -> str:
    return f"#msg-{message_id}"


def settled_target(message_id: int) -> str:
    return f"#msg-{message_id}-settled"


def tail_target(message_id: int) -> str:
    return f"#msg-{message_id}-tail"


def reply_body(message_id: int, settled: str = "", tail: str = "") -> str:
    """The inside of a reply being written: its settled blocks, then its last block.

    `settled` and `tail` must be sanitised HTML (`labs.replies`). The page renders the same
    two elements (`labs/lab.html`, message partial).
    """
    return str(
        format_html(
            '<div id="msg-{}-settled" class="chat-settled">{}</div>'
            '<div id="msg-{}-tail" class="chat-tail">{}</div>',
            message_id,
            mark_safe(settled),  # noqa: S308 - sanitised by labs.replies
            message_id,
            mark_safe(tail),  # noqa: S308 - sanitised by labs.replies
        )
    )


def text_frame(message_id: int, update: Update) -> str:
    """Streamed text, rendered: settled blocks appended, the last block replaced."""
    content = update.tail
    if update.replace:
        content += partial(settled_target(message_id), REPLACE, update.settled)
    elif update.settled:
        content += partial(settled_target(message_id), APPEND, update.settled)
    return frame(tail_target(message_id), REPLACE, content)


def whole_text_frame(message_id: int, reply: StreamingReply) -> str:
    """Replace the streamed text of a reply with all of it so far: a tab catching up."""
    return frame(
        text_target(message_id),
        REPLACE,
        reply_body(message_id, reply.settled_html, reply.tail),
    )


def clear_text_frame(message_id: int, notice_html: str) -> str:
    """A restart: drop the partial text, say why in the reply's notice line."""
    content = reply_body(message_id) + partial(notice_target(message_id), "innerHTML", notice_html)
    return frame(text_target(message_id), REPLACE, content)


def partial(target: str, swap: str, content: str) -> str:
    """An extra swap carried inside a frame (htmx 4's `<hx-partial>`)."""
    return str(
        format_html(
            '<hx-partial hx-target="{}" hx-swap="{}">{}</hx-partial>',
            target,
            swap,
            mark_safe(content),  # noqa: S308 - callers pass rendered, escaped HTML
        )
    )


@dataclass
class Coalescer:
    """Gather streamed text; `add` returns the text to send now, or None to keep gathering.

    Leading edge: the first token after a quiet `interval` goes out at once (the learner sees
    the reply start without delay); later tokens wait for the interval or the size cap. A
    frame may go a little early (`EARLY`): the real API's replies are read once per interval,
    every reply of the process on the same tick, and served in a different order at each
    tick, so two reads one interval apart can come a few milliseconds less than it apart.
    Held back for that, the text would wait a whole interval more for the next read.
    """

    interval: float = FRAME_INTERVAL
    max_chars: int = MAX_PENDING_CHARS
    _parts: list[str] = field(default_factory=list)
    _size: int = 0
    _last_flush: float | None = None

    def add(self, text: str, now: float) -> str | None:
        self._parts.append(text)
        self._size += len(text)
        due = self._last_flush is None or now - self._last_flush >= self.interval * (1 - EARLY)
        if due or self._size >= self.max_chars:
            return self.flush(now)
        return None

    def flush(self, now: float) -> str | None:
        if not self._parts:
            return None
        text = "".join(self._parts)
        self._parts.clear()
        self._size = 0
        self._last_flush = now
        return text

    def reset(self) -> None:
        """Forget pending text (a restart discards the partial reply)."""
        self._parts.clear()
        self._size = 0

    @property
    def pending_chars(self) -> int:
        return self._size

    @property
    def pending_text(self) -> str:
        return "".join(self._parts)
