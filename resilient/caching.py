"""Prompt caching: cache breakpoints on the static system prefix and on the recent conversation.

A coach's persona and lesson text are the same on every turn; marked as an ephemeral cache
breakpoint, later turns read them from the cache at a tenth of the input price (lesson 2).
The dynamic part goes after the breakpoint so it never invalidates the cached prefix.

The conversation grows by one exchange a turn, and everything before the newest learner message
was already sent by the previous request. `cached_conversation()` marks two learner turns:
the one that ended the previous request (its prefix was written then, so this request reads
it) and the newest (written now, read by the next turn). Only the last reply and the new
message are paid at the write price, so the uncached share of a long conversation stays small.
The API would also find the earlier prefix by looking back from the newest breakpoint; marking
it explicitly does not depend on that lookback (nor does the simulator, which models only
explicit breakpoints). With the system prefix that makes three of the API's four breakpoints.
"""

from __future__ import annotations

from typing import Any

EPHEMERAL = {"type": "ephemeral"}
# Learner turns marked: the previous request's last one (read) and the newest (written).
CONVERSATION_BREAKPOINTS = 2


def cached_system(static_prefix: str, dynamic: str | None = None) -> list[dict[str, Any]]:
    """System blocks: the static prefix marked cacheable, then the optional dynamic text."""
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": static_prefix, "cache_control": dict(EPHEMERAL)}
    ]
    if dynamic:
        blocks.append({"type": "text", "text": dynamic})
    return blocks


def cached_conversation(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with cache breakpoints on the last `CONVERSATION_BREAKPOINTS` user turns.

    Every message's content is sent as text blocks, marked or not, so a turn is the same
    block in every request that carries it: a prefix written by one request is the prefix the
    next one reads. The input list is not modified."""
    marked = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    marked = marked[-CONVERSATION_BREAKPOINTS:]
    result: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        blocks = _blocks(message["content"])
        if index in marked and blocks:
            blocks[-1]["cache_control"] = dict(EPHEMERAL)
        result.append({**message, "content": blocks})
    return result


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [{k: v for k, v in block.items() if k != "cache_control"} for block in content]
