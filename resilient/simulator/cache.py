"""Prompt-cache accounting: which input tokens are written to, and read from, the cache.

Like the Messages API, a prefix ending at a block marked ``cache_control`` is written
the first time it is seen and read while it stays fresh (each hit refreshes its TTL).
Prefixes shorter than the model's minimum cacheable length are never cached. Only the
accounting is simulated; the reply does not depend on it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from resilient.simulator.request import PromptBlock

# Bounds memory in a long-running server; the oldest prefixes are forgotten first.
MAX_ENTRIES = 4096


@dataclass(frozen=True)
class CacheUsage:
    input_tokens: int  # neither written nor read: billed at the base price
    cache_creation_input_tokens: int
    cache_read_input_tokens: int


class PromptCache:
    def __init__(self, *, min_tokens: int, clock: Callable[[], float]) -> None:
        self._min_tokens = min_tokens
        self._clock = clock
        self._expires: OrderedDict[str, float] = OrderedDict()

    def lookup(
        self, model: str, blocks: Sequence[PromptBlock]
    ) -> tuple[CacheUsage, list[tuple[str, float]]]:
        """Split the prompt's tokens into uncached / written / read.

        Returns the usage and the entries to :meth:`store` once the request is admitted
        (a request refused with 429 writes nothing).
        """
        total = sum(block.tokens for block in blocks)
        now = self._clock()
        digest = hashlib.sha256(model.encode())
        prefix_tokens = 0
        breakpoints: list[tuple[str, int, float]] = []
        for block in blocks:
            digest.update(block.canonical.encode())
            digest.update(b"\x00")
            prefix_tokens += block.tokens
            if block.cache_ttl is not None and prefix_tokens >= self._min_tokens:
                breakpoints.append((digest.hexdigest(), prefix_tokens, block.cache_ttl))
        if not breakpoints:
            return CacheUsage(total, 0, 0), []
        read = 0
        for key, tokens, _ttl in reversed(breakpoints):
            if self._expires.get(key, 0.0) > now:
                read = tokens
                break
        written = breakpoints[-1][1] - read
        writes = [(key, now + ttl) for key, _tokens, ttl in breakpoints]
        return CacheUsage(total - read - written, written, read), writes

    def store(self, writes: Sequence[tuple[str, float]]) -> None:
        """Write (or refresh) prefixes; each hit extends its entry's life."""
        for key, expires in writes:
            self._expires[key] = expires
            self._expires.move_to_end(key)
        while len(self._expires) > MAX_ENTRIES:
            self._expires.popitem(last=False)
