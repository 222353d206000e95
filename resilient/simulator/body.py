"""A response body as the engine hands it to an adapter: chunks, a drop, or a cancel."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal

from resilient.simulator.wire import Headers

EndState = Literal["completed", "ended", "cancelled"]


class SimulatedDrop(Exception):
    """Raised from a body to make the adapter cut the connection mid-response."""


class ResponseBody:
    """An async iterator of body chunks; ``aclose()`` before the end cancels the producer."""

    def __init__(
        self,
        chunks: AsyncGenerator[bytes, None],
        on_end: Callable[[EndState], None] | None = None,
    ) -> None:
        self._chunks = chunks
        self._on_end = on_end

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except (StopAsyncIteration, SimulatedDrop):
            self._end("ended")
            raise
        except BaseException:
            # A cancelled read (timeout, client gone) has finalised the producer.
            self._end("cancelled")
            raise

    async def aclose(self) -> None:
        self._end("cancelled")
        await self._chunks.aclose()

    def _end(self, state: EndState) -> None:
        if self._on_end is not None:
            on_end, self._on_end = self._on_end, None
            on_end(state)


@dataclass
class SimResponse:
    status: int
    headers: Headers
    body: ResponseBody


async def chunks(*chunks: bytes) -> AsyncGenerator[bytes, None]:
    for chunk in chunks:
        yield chunk


async def dropped() -> AsyncGenerator[bytes, None]:
    raise SimulatedDrop("connection dropped before the body")
    yield b""  # pragma: no cover - makes this an async generator
