"""Correlation ids for HTTP requests and websocket connections.

Each request gets an id, either the one a trusted proxy sent in `X-Request-ID` (only when
`TRUST_X_REQUEST_ID` is on: otherwise any client could choose the id it is logged under) or a
fresh one. The id is set as `resilient.telemetry`'s correlation contextvar for the duration of
the request, so every log record and every API attempt made on its behalf carries it, and it is
returned in the `X-Request-ID` response header. A coach turn sets its own id (see
`labs.turns.run_turn`) inside its task, which inherits the connection's id until then.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ops import process_metrics
from resilient.telemetry import correlation_scope

HEADER = "X-Request-ID"
# Bounded, log-safe characters only; the id is stored in CoachTurn.correlation_id (64 chars).
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def clean(candidate: str | None, *, trusted: bool) -> str:
    """The id to use: the proxy's when trusted and well-formed, else a new one."""
    if trusted and candidate and _VALID.fullmatch(candidate.strip()):
        return candidate.strip()
    return uuid.uuid4().hex


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    # The view name, never the raw path: paths carry ids and would explode the label space.
    return (match.view_name or "unnamed") if match else "unmatched"


class CorrelationIdMiddleware:
    """First in MIDDLEWARE: sets the id, times the request, adds the response header."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _id_for(self, request: HttpRequest) -> str:
        trusted = bool(getattr(settings, "TRUST_X_REQUEST_ID", False))
        cid = clean(request.headers.get(HEADER), trusted=trusted)
        request.correlation_id = cid  # type: ignore[attr-defined]
        return cid

    def _finish(self, request: HttpRequest, response: HttpResponse, cid: str, t0: float) -> None:
        response[HEADER] = cid
        process_metrics.observe_request(
            _view_label(request),
            request.method or "",
            response.status_code,
            time.perf_counter() - t0,
        )

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        t0 = time.perf_counter()
        cid = self._id_for(request)
        with correlation_scope(cid):
            response = self.get_response(request)
        self._finish(request, response, cid, t0)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        t0 = time.perf_counter()
        cid = self._id_for(request)
        with correlation_scope(cid):
            response: HttpResponse = await self.get_response(request)
        self._finish(request, response, cid, t0)
        return response


Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class WebsocketTelemetry:
    """ASGI middleware for the websocket router: a correlation id per connection and the
    open-connections gauge. Wrap it inside `AuthMiddlewareStack` in `config/asgi.py`."""

    def __init__(self, inner: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "websocket":
            await self.inner(scope, receive, send)
            return
        trusted = bool(getattr(settings, "TRUST_X_REQUEST_ID", False))
        cid = clean(_header(scope.get("headers", []), b"x-request-id"), trusted=trusted)
        accepted = False

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            if message.get("type") == "websocket.accept" and not accepted:
                headers = list(message.get("headers", []))
                headers.append((HEADER.lower().encode(), cid.encode()))
                message = {**message, "headers": headers}
                accepted = True
                process_metrics.websocket_opened()
            await send(message)

        with correlation_scope(cid):
            try:
                await self.inner({**scope, "correlation_id": cid}, receive, counting_send)
            finally:
                if accepted:
                    process_metrics.websocket_closed()
