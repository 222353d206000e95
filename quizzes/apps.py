from __future__ import annotations

from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "quizzes"
    verbose_name = "Quizzes and the module test"

    def ready(self) -> None:
        from course.progress import register
        from quizzes.progress import path_statuses

        register(path_statuses)
