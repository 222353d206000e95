"""Who may see what: learners log in and come back where they were; analytics is for staff."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from course.access import staff_page

View = Callable[..., HttpResponse]


def learner(request: HttpRequest) -> User:
    """The logged-in learner of a view behind `learner_required` or `login_required`."""
    if isinstance(request.user, AnonymousUser):
        raise PermissionError("a learner view was reached without a login")
    return request.user


def learner_required(page: str) -> Callable[[View], View]:
    """Require a login; afterwards return to the named page (the quiz, not its POST endpoint).

    An htmx request gets an HX-Redirect, since following a 302 inside the swap would paste the
    login form into the question.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_authenticated:
                return view(request, *args, **kwargs)
            back = reverse(page, kwargs=kwargs)
            if getattr(request, "htmx", False):
                login = resolve_url(settings.LOGIN_URL)
                return HttpResponseClientRedirect(f"{login}?{urlencode({'next': back})}")
            return redirect_to_login(back)

        return wrapper

    return decorator


staff_required = staff_page("Quiz analytics are for instructors (staff accounts).")
