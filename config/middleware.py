"""Keep Django's standard middleware in sync mode under ASGI.

Django runs a middleware that can do both in async mode whenever the handler below it is async,
and the ASGI view handler always is. `MiddlewareMixin` middleware in async mode sends each
`process_request` / `process_view` / `process_response` to a worker thread on its own: about
fourteen thread switches per page. Being sync-only and last, this middleware puts the whole
chain in sync mode, so a request enters a worker thread once and runs the chain there.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase


class SyncChainMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)
