from __future__ import annotations

from django.apps import AppConfig


class CourseConfig(AppConfig):
    name = "course"
    verbose_name = "Course"

    def ready(self) -> None:
        # Registers the content system check; closes a session's sockets at logout.
        from course import checks, sockets  # noqa: F401
