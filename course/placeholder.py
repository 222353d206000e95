"""Temporary: answers 501 for routes whose app is still being built (removed once they land)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse


def not_built_yet(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    return HttpResponse("Not built yet.", status=501, content_type="text/plain")
