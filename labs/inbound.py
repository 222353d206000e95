"""What the lab page sends, read: one websocket frame to a dict, or the sentence saying why not.

Anything a socket can carry arrives here, not only what our page sends: a frame too large to
be a message, bytes that are not UTF-8, JSON nested thousands deep (the parser's recursion
limit), JSON that is not an object. Each gets a sentence the learner can read and the socket
stays open; only a frame too large to read at all closes it, with `TOO_LARGE`, a code the page
understands and does not reconnect after (4009: websocket's own "message too big", 1009, is
one an application may not send). None of this is an error
of ours: nothing here is logged with a traceback.

Text a database cannot store is cleaned: a lone UTF-16 surrogate (half of an emoji pair, as a
broken paste or a cut string produces) or a NUL character is replaced by U+FFFD, so the
message is stored, and the learner is told what was replaced.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

TOO_LARGE = 4009  # close code: a frame too large to be a message
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")

NOT_TEXT = "That message could not be read (it was not UTF-8 text). Reload the page and try again."
NOT_JSON = "That message could not be read (it was not JSON). Reload the page and try again."
TOO_DEEP = "That message could not be read (it is nested too deeply to be a chat message)."
NOT_OBJECT = "That message could not be read (expected a JSON object)."


def frame_limit(max_chars: int) -> int:
    """The longest frame worth reading for messages of up to `max_chars` characters: each may
    be written as a 12-character surrogate-pair escape, plus the frame's other fields."""
    return 12 * max_chars + 4096


@dataclass(frozen=True)
class Unreadable:
    """The frame is refused: the learner reads `message`; `close` says the socket must close."""

    message: str
    close: bool = False


@dataclass(frozen=True)
class Frame:
    data: dict[str, Any]
    replaced: int = 0  # characters of the message replaced because they cannot be stored


def read_frame(text: str | None, data: bytes | None, max_chars: int) -> Frame | Unreadable:
    if text is None:
        try:
            text = (data or b"").decode("utf-8")
        except UnicodeDecodeError:
            return Unreadable(NOT_TEXT)
    limit = frame_limit(max_chars)
    if len(text) > limit:
        return Unreadable(
            f"That message is about {len(text):,} characters long; the limit is {max_chars:,}. "
            "Shorten it and send it again: your text is still in the box.",
            close=True,
        )
    try:
        parsed = json.loads(text)
    except RecursionError:
        return Unreadable(TOO_DEEP)
    except ValueError:
        return Unreadable(NOT_JSON)
    if not isinstance(parsed, dict):
        return Unreadable(NOT_OBJECT)
    message = parsed.get("message")
    if not isinstance(message, str):
        return Frame(parsed)
    cleaned, replaced = storable(message)
    return Frame({**parsed, "message": cleaned}, replaced)


def storable(text: str) -> tuple[str, int]:
    """`text` with what no database can store replaced by U+FFFD, and how many were."""
    return _UNSTORABLE.subn(REPLACEMENT, text)


def replaced_sentence(count: int) -> str:
    what = "1 character" if count == 1 else f"{count:,} characters"
    return (
        f"{what} of your message could not be stored as typed (half of an emoji, perhaps) "
        f"and {'was' if count == 1 else 'were'} replaced by {REPLACEMENT}; the rest was sent."
    )
