"""Delete coach-turn rows past the retention period, keeping the metrics' totals.

Each batch is one transaction: its rows' totals are added to `TelemetryCarry` (fault-drill
turns: their count to `DrillCarry`), then the rows are deleted, so `/metrics` reports the same
counters before and after (Prometheus would read a drop as a counter reset). Running rows are
deleted too but carry nothing: they were never counted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from django.db import transaction
from django.db.models import F

from ops.turn_metrics import DrillLabels, Totals, aggregate, drill_counts

BATCH = 2000


@dataclass(frozen=True)
class Pruned:
    turns: int
    batches: int


def _carry(key: tuple[str, str, str, str, str], t: Totals) -> None:
    from ops.models import TelemetryCarry

    model, lab, backend, outcome, kind = key
    row, _ = TelemetryCarry.objects.select_for_update().get_or_create(
        model=model, lab=lab, backend=backend, outcome=outcome, degraded_kind=kind
    )
    updates = {}
    for f in fields(Totals):
        value = getattr(t, f.name)
        if isinstance(value, dict):
            merged = dict(getattr(row, f.name))
            for bound, count in value.items():
                merged[bound] = merged.get(bound, 0) + count
            updates[f.name] = merged
        else:
            updates[f.name] = F(f.name) + value
    TelemetryCarry.objects.filter(pk=row.pk).update(**updates)


def _carry_drills(key: DrillLabels, turns: int) -> None:
    from ops.models import DrillCarry

    drill, outcome = key
    row, _ = DrillCarry.objects.select_for_update().get_or_create(drill=drill, outcome=outcome)
    DrillCarry.objects.filter(pk=row.pk).update(turns=F("turns") + turns)


def prune(before: datetime, *, batch: int = BATCH, dry_run: bool = False) -> Pruned:
    """Remove turns that started before `before`; returns how many went."""
    from labs.models import CoachTurn

    old = CoachTurn.objects.filter(started__lt=before)
    if dry_run:
        return Pruned(old.count(), 0)
    total = batches = 0
    while True:
        with transaction.atomic():
            ids = list(
                old.select_for_update(skip_locked=True)
                .order_by("id")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                break
            chunk = CoachTurn.objects.filter(id__in=ids)
            for key, t in aggregate(chunk.filter(drill="")).items():
                _carry(key, t)
            for drill_key, n in drill_counts(chunk).items():
                _carry_drills(drill_key, n)
            deleted, _ = chunk.delete()
        total += len(ids)
        batches += 1
        if deleted == 0:
            break
    return Pruned(total, batches)
