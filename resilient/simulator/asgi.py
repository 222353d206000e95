"""The simulator as an ASGI app (served by ``python -m resilient.simulator``).

Two things a real server does that ASGI does not give for free:

* a dropped stream must reach the client as a broken connection, so the app raises
  :class:`SimulatedDrop` after the response started and the server aborts the socket
  without the terminating chunk (uvicorn logs that; :func:`quiet_simulated_drops`
  keeps those expected records out of its error log);
* a client that goes away must stop the producer (a stalled stream would otherwise
  wait forever), so the app watches ``receive()`` for ``http.disconnect``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from resilient.simulator.body import SimulatedDrop

if TYPE_CHECKING:
    from resilient.simulator.engine import Simulator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def make_asgi_app(simulator: Simulator) -> App:
    quiet_simulated_drops()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "http":
            await _http(simulator, scope, receive, send)

    return app


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _http(simulator: Simulator, scope: Scope, receive: Receive, send: Send) -> None:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body.extend(message.get("body", b""))
        if not message.get("more_body", False):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    target = path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")

    async def respond() -> None:
        response = await simulator.handle(scope["method"], target, headers, bytes(body))
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(k.encode(), v.encode()) for k, v in response.headers],
            }
        )
        try:
            async for chunk in response.body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            await response.body.aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    work = asyncio.ensure_future(respond())
    watch = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not work.done():
            # The client went away (or the server is stopping): stop producing.
            work.cancel()
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        with contextlib.suppress(asyncio.CancelledError):
            await work  # re-raises SimulatedDrop so the server aborts the connection


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedDrop)


_DROP_FILTER = _DropFilter()


def quiet_simulated_drops() -> None:
    """Keep uvicorn from logging each deliberate drop as an application error."""
    logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)
