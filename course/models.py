from __future__ import annotations

from django.conf import settings
from django.db import models


class LessonRead(models.Model):
    """A learner marked a lesson as read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    module = models.SlugField(max_length=100)
    lesson = models.SlugField(max_length=100)
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "module", "lesson"], name="one_read_per_lesson")
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.module}/{self.lesson}"
