"""Content problems as Django system checks, so `manage.py check` and start-up report them.

They are warnings, not errors: an error stops `migrate` (and so `make run` and
`make instructor`), while a broken content file should only take its own page down. The page
shows the problems (with `path:line` for staff); `manage.py check_content` fails on them, and
`make test` (CI) runs it.
"""

from __future__ import annotations

from typing import Any

from django.core import checks

from course.registry import get_modules

HINT = "The rest of the course keeps working; fix the file, then run `manage.py check_content`."


@checks.register("content")
def content_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Warning(str(problem), hint=HINT, id="course.W001")
        for module in get_modules()
        for problem in module.problems
    ]
