"""An in-process httpx2 transport that streams the simulator's responses.

Hand it to the SDK with ``http_client=httpx2.AsyncClient(transport=SimulatorTransport(sim))``.
There is no socket, so this transport plays the network's part: it enforces the
request's read timeout (raising ``httpx2.ReadTimeout`` as a real connection would) and
turns a simulated drop into ``httpx2.RemoteProtocolError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx2

from resilient.simulator.body import ResponseBody, SimulatedDrop

if TYPE_CHECKING:
    from resilient.simulator.engine import Simulator

# httpcore's wording for a connection that closed mid-body, so logs read the same.
DROP_MESSAGE = (
    "peer closed connection without sending complete message body (incomplete chunked read)"
)


class SimulatorTransport(httpx2.AsyncBaseTransport):
    def __init__(self, simulator: Simulator) -> None:
        self._simulator = simulator

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        read_timeout = _read_timeout(request)
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            async with asyncio.timeout(read_timeout):
                response = await self._simulator.handle(
                    request.method, request.url.raw_path.decode("ascii"), headers, body
                )
        except TimeoutError:
            raise httpx2.ReadTimeout("The read operation timed out", request=request) from None
        return httpx2.Response(
            response.status,
            headers=response.headers,
            stream=_BodyStream(response.body, read_timeout, request),
            request=request,
        )


class _BodyStream(httpx2.AsyncByteStream):
    def __init__(
        self, body: ResponseBody, read_timeout: float | None, request: httpx2.Request
    ) -> None:
        self._body = body
        self._read_timeout = read_timeout
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            try:
                async with asyncio.timeout(self._read_timeout):
                    chunk = await self._body.__anext__()
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise httpx2.ReadTimeout(
                    "The read operation timed out", request=self._request
                ) from None
            except SimulatedDrop as exc:
                raise httpx2.RemoteProtocolError(DROP_MESSAGE, request=self._request) from exc
            yield chunk

    async def aclose(self) -> None:
        await self._body.aclose()


def _read_timeout(request: httpx2.Request) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    value = timeouts.get("read")
    return float(value) if value is not None else None
