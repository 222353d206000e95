from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from labs import switch
from labs.models import CoachSwitch, CoachTurn, Conversation, Message


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    list_display = ("id", "user", "module", "lab", "title", "updated", "busy_until")
    list_filter = ("module", "lab")
    search_fields = ("title", "user__username")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ("id", "conversation", "role", "status", "created")
    list_filter = ("role", "status")


@admin.register(CoachTurn)
class CoachTurnAdmin(admin.ModelAdmin[CoachTurn]):
    list_display = (
        "id", "started", "lab", "backend", "model", "outcome", "degraded_kind", "attempts",
        "ttft_ms", "latency_ms", "output_tokens", "cost_usd",
    )  # fmt: skip
    list_filter = ("outcome", "backend", "lab")
    date_hierarchy = "started"


@admin.register(CoachSwitch)
class CoachSwitchAdmin(admin.ModelAdmin[CoachSwitch]):
    list_display = ("backend", "model_override", "note", "updated", "updated_by")
    readonly_fields = ("updated", "updated_by")
    fields = ("backend", "model_override", "note", "updated", "updated_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A singleton: the first save on the dashboard creates it; afterwards there is one row.
        return not CoachSwitch.objects.exists()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj.pk = switch.SINGLETON_PK
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        switch.publish()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        switch.publish()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        switch.publish()
