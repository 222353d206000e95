from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ops.models import DrillCarry, TelemetryCarry


@admin.register(TelemetryCarry)
class TelemetryCarryAdmin(admin.ModelAdmin[TelemetryCarry]):
    list_display = ("model", "lab", "backend", "outcome", "degraded_kind", "turns", "cost_usd")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DrillCarry)
class DrillCarryAdmin(admin.ModelAdmin[DrillCarry]):
    list_display = ("drill", "outcome", "turns")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
