"""What a page shows of a streamed reply, from the hx-ws frames it was sent.

The frames are applied as htmx swaps them: a text frame replaces the reply's last block
(`#msg-N-tail`) and may append to, or replace, its settled blocks (`#msg-N-settled`, in an
`<hx-partial>`); a catch-up or restart frame replaces the whole text element (`#msg-N-text`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

PARTIAL = re.compile(r'<hx-partial hx-target="([^"]+)" hx-swap="([^"]+)">(.*?)</hx-partial>', re.S)
BODY = re.compile(
    r'^<div id="msg-\d+-settled" class="chat-settled">(.*)</div>'
    r'<div id="msg-\d+-tail" class="chat-tail">(.*)</div>$',
    re.S,
)
TAG = re.compile(r"<[^>]+>")


def visible_text(markup: str) -> str:
    return html.unescape(TAG.sub("", markup))


class ReplyView:
    """One reply's text element as a page would hold it."""

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        self.settled = ""
        self.tail = ""

    def owns(self, frame: dict[str, Any]) -> bool:
        """A frame that changes the reply's text (streamed text, catch-up, restart)."""
        return frame.get("target") in (
            f"#msg-{self.message_id}-tail",
            f"#msg-{self.message_id}-text",
        )

    def apply(self, frame: dict[str, Any]) -> bool:
        """Swap the frame in if it changes the reply's text; True if it did."""
        if not self.owns(frame):
            return False
        content = frame["content"]
        partials = PARTIAL.findall(content)
        main = PARTIAL.sub("", content)
        if frame["target"].endswith("-text"):
            body = BODY.match(main)
            assert body, f"a whole-text frame without the reply's two parts: {main[:200]}"
            self.settled, self.tail = body.group(1), body.group(2)
            return True
        self.tail = main
        for target, swap, markup in partials:
            if target == f"#msg-{self.message_id}-settled":
                self.settled = markup if swap.startswith("innerHTML") else self.settled + markup
        return True

    @property
    def html(self) -> str:
        return self.settled + self.tail

    @property
    def text(self) -> str:
        return visible_text(self.html)


def text_frames(frames: Iterable[dict[str, Any]], message_id: int) -> list[dict[str, Any]]:
    """The frames that carry streamed text (not catch-up or restart frames)."""
    target = f"#msg-{message_id}-tail"
    return [f for f in frames if f.get("target") == target]


def shown(frames: Iterable[dict[str, Any]], message_id: int) -> ReplyView:
    """The reply's text element after every one of `frames`."""
    view = ReplyView(message_id)
    for frame in frames:
        view.apply(frame)
    return view


def reply_id(frames: Iterable[dict[str, Any]]) -> int:
    """The id of the reply the turn's text frames write to."""
    for frame in frames:
        found = re.fullmatch(r"#msg-(\d+)-(?:tail|text)", str(frame.get("target", "")))
        if found:
            return int(found.group(1))
    raise AssertionError("no frame wrote a reply's text")
