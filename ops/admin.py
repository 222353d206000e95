from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ops import switch
from ops.models import CoachSwitch, TelemetryCarry


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


@admin.register(TelemetryCarry)
class TelemetryCarryAdmin(admin.ModelAdmin[TelemetryCarry]):
    list_display = ("model", "lab", "backend", "outcome", "degraded_kind", "turns", "cost_usd")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
