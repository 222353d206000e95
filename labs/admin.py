from __future__ import annotations

from django.contrib import admin

from labs.models import CoachTurn, Conversation, Message


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
