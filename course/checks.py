"""Content problems as Django system checks, so `manage.py check` and start-up report them."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from course.registry import get_modules


@register("content")
def content_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return [
        Error(str(problem), id="course.E001")
        for module in get_modules()
        for problem in module.problems
    ]
