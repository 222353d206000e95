"""Access helpers: a missing module is a 404; staff pages refuse others with a clear page; the
typed request of views that answer htmx."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from course.content import Module
from course.registry import get_module


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def get_module_or_404(slug: str) -> Module:
    module = get_module(slug)
    if module is None:
        raise Http404(f"No module '{slug}'.")
    return module


View = Callable[..., HttpResponse]


def staff_page(message: str) -> Callable[[View], View]:
    """Staff only: anonymous visitors go to log in; others get a 403 page saying `message`."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.is_staff:
                return render(request, "403.html", {"message": message}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
