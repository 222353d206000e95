from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from labs import backend
        from ops.process_metrics import observe_record

        # Per-process counters of every attempt the coaches make (labs never imports ops).
        if observe_record not in backend.telemetry_hooks:
            backend.telemetry_hooks.append(observe_record)
