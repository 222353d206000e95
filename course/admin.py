from __future__ import annotations

from django.contrib import admin

from course.models import LessonRead


@admin.register(LessonRead)
class LessonReadAdmin(admin.ModelAdmin[LessonRead]):
    list_display = ["user", "module", "lesson", "read_at"]
    list_filter = ["module", "lesson"]
