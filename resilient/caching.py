"""Prompt caching: send the static prefix of a system prompt with a `cache_control` marker.

A coach's persona and lesson text are the same on every turn; marked as an ephemeral cache
breakpoint, later turns read them from the cache at a tenth of the input price (lesson 2).
The dynamic part goes after the breakpoint so it never invalidates the cached prefix.
"""

from __future__ import annotations

from typing import Any


def cached_system(static_prefix: str, dynamic: str | None = None) -> list[dict[str, Any]]:
    """System blocks: the static prefix marked cacheable, then the optional dynamic text."""
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": static_prefix, "cache_control": {"type": "ephemeral"}}
    ]
    if dynamic:
        blocks.append({"type": "text", "text": dynamic})
    return blocks
