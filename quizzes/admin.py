from __future__ import annotations

from django.contrib import admin

from quizzes.models import Answer, Attempt


class AnswerInline(admin.TabularInline[Answer, Attempt]):
    model = Answer
    extra = 0
    can_delete = False
    fields = ("question_id", "option_id", "correct", "answered_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin[Attempt]):
    list_display = ["id", "user", "module", "quiz", "score", "total", "passed", "finished_at"]
    list_filter = ["kind", "module", "quiz", "passed"]
    search_fields = ["user__username", "quiz"]
    date_hierarchy = "started_at"
    inlines = [AnswerInline]
    # Attempts are a record of what learners did; the admin shows them but never rewrites them.
    readonly_fields = [f.name for f in Attempt._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
