"""Run many requests through one client with bounded concurrency, losing none of them.

Every item gets exactly one result in input order: the `Completed`, or the `Degraded` that
says why it failed, so a nightly job can retry or report the failures instead of silently
dropping them (lesson 1's "partial batch failures").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from resilient.client import ResilientClient
from resilient.events import Completed, Degraded, DegradedError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ItemResult(Generic[T]):
    index: int
    item: T
    outcome: Completed | Degraded

    @property
    def ok(self) -> bool:
        return isinstance(self.outcome, Completed)


async def batch_map(
    client: ResilientClient,
    items: Sequence[T],
    make_request: Callable[[T], dict[str, Any]],
    *,
    concurrency: int = 5,
) -> list[ItemResult[T]]:
    """Call `client.create(**make_request(item))` for every item, `concurrency` at a time."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int, item: T) -> ItemResult[T]:
        async with semaphore:
            try:
                outcome: Completed | Degraded = await client.create(**make_request(item))
            except DegradedError as exc:
                outcome = exc.degraded
            return ItemResult(index, item, outcome)

    return list(await asyncio.gather(*(one(i, item) for i, item in enumerate(items))))
