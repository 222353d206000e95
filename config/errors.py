"""The site's own 404 page for anything a view cannot find, with DEBUG on as well as off.

With DEBUG on, Django answers an `Http404` raised by a view with its technical page (URL
patterns, settings hints). That is useful to a developer for a mistyped address, but it is also
what a learner saw when a link led to another learner's conversation, while a missing lesson got
the styled page. A view's 404 is a page a learner reaches through the site, so it gets the page
production shows. An address that no URL pattern matches is not a view's: under DEBUG it still
gets Django's page, which lists the patterns.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import page_not_found

from config.middleware import SyncChainMiddleware


class StyledNotFoundMiddleware(SyncChainMiddleware):
    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
