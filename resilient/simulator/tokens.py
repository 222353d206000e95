"""Deterministic token arithmetic for the simulator.

Real tokenisers are model-specific; the simulator only needs counts that are stable,
cheap and roughly the right size, so it uses the common rule of thumb of about
``CHARS_PER_TOKEN`` characters per token for input, and streams output in word
pieces of at most ``MAX_PIECE_CHARS`` visible characters, one piece per output token.
"""

from __future__ import annotations

import re

CHARS_PER_TOKEN = 4
MAX_PIECE_CHARS = 6

# A piece is leading whitespace plus up to MAX_PIECE_CHARS visible characters, so long
# words split into several pieces; trailing whitespace becomes a piece of its own.
_PIECE = re.compile(rf"\s*\S{{1,{MAX_PIECE_CHARS}}}|\s+")


def estimate_tokens(text: str) -> int:
    """Input tokens for ``text``: ceil(characters / CHARS_PER_TOKEN)."""
    return -(-len(text) // CHARS_PER_TOKEN)


def split_stream_tokens(text: str) -> list[str]:
    """Split a reply into the pieces streamed as text deltas; they join back to ``text``."""
    return _PIECE.findall(text)
