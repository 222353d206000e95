from __future__ import annotations

from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "labs"
    verbose_name = "Coach labs"

    def ready(self) -> None:
        from course.progress import register, register_activity
        from labs.progress import conversations_activity, lab_statuses

        register(lab_statuses)
        register_activity(conversations_activity)
