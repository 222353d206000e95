"""Operations state kept in the database: the totals of pruned turns, real and drill.

It lives in the database rather than in memory so that every worker process reads the same
value and nothing is lost on a restart.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models


class TelemetryCarry(models.Model):
    """What pruned `CoachTurn` rows added to the Prometheus counters, per label set.

    `/metrics` sums live rows plus this carry, so deleting old rows never makes a counter go
    down (Prometheus would read a drop as a reset and count the whole total again).
    """

    model = models.CharField(max_length=100)
    lab = models.CharField(max_length=64)
    backend = models.CharField(max_length=16)
    outcome = models.CharField(max_length=16)
    degraded_kind = models.CharField(max_length=32, blank=True)
    turns = models.PositiveBigIntegerField(default=0)
    retries = models.PositiveBigIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    cache_read_tokens = models.PositiveBigIntegerField(default=0)
    cache_write_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=16, decimal_places=6, default=Decimal("0"))
    # Histograms: {"<bucket upper bound in ms>": cumulative count}, plus sum and count.
    ttft_buckets = models.JSONField(default=dict)
    ttft_sum_ms = models.PositiveBigIntegerField(default=0)
    ttft_count = models.PositiveBigIntegerField(default=0)
    latency_buckets = models.JSONField(default=dict)
    latency_sum_ms = models.PositiveBigIntegerField(default=0)
    latency_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "lab", "backend", "outcome", "degraded_kind"],
                name="ops_carry_one_row_per_labels",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model}/{self.lab}/{self.outcome}: {self.turns} turns"


class DrillCarry(models.Model):
    """How many pruned fault-drill turns `coach_drill_turns_total` counted, per drill and outcome.

    Drill turns are in no `TelemetryCarry` row (they are left out of every other series), so
    they are carried here, for the same reason.
    """

    drill = models.CharField(max_length=40)
    outcome = models.CharField(max_length=16)
    turns = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["drill", "outcome"], name="ops_drill_carry_one_row_per_labels"
            )
        ]

    def __str__(self) -> str:
        return f"{self.drill}/{self.outcome}: {self.turns} turns"
