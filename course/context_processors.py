from __future__ import annotations

from django.http import HttpRequest

from course.registry import get_modules


def course_nav(request: HttpRequest) -> dict[str, object]:
    """The modules for the site navigation (cheap: the registry caches by file signature)."""
    return {"nav_modules": get_modules()}
