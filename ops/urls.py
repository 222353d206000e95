from __future__ import annotations

from django.urls import path

from ops import views

urlpatterns = [
    path("ops/", views.ops_dashboard, name="ops_dashboard"),
    path("ops/switch/", views.coach_switch, name="ops_switch"),
    path("ops/runbook/", views.runbook, name="ops_runbook"),
    path("metrics", views.metrics, name="metrics"),
    path("healthz", views.healthz, name="healthz"),
]
