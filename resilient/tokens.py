"""Estimate a request's input tokens before sending it (for the governor and the budget).

A deterministic approximation, about four characters per token, rounded up per text block so
that it errs high: an over-estimate only makes the governor a little early to wait and is
corrected from the response's real `usage`; an under-estimate would earn 429s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CHARS_PER_TOKEN = 4


def estimate_text_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def _texts(content: Any) -> Iterable[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, Iterable):
        for block in content:
            if isinstance(block, Mapping) and isinstance(block.get("text"), str):
                yield block["text"]
            elif isinstance(block, str):
                yield block


def estimate_input_tokens(system: Any, messages: Iterable[Mapping[str, Any]]) -> int:
    total = sum(estimate_text_tokens(t) for t in _texts(system)) if system else 0
    for message in messages:
        total += sum(estimate_text_tokens(t) for t in _texts(message.get("content")))
    return total
