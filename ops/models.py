"""Operations state kept in the database: the coach switch and the totals of pruned turns.

Both live in the database rather than in memory so that every worker process reads the same
value and nothing is lost on a restart.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models


class CoachSwitch(models.Model):
    """One row (pk 1): how the coaches answer, changed by staff without a restart."""

    class Backend(models.TextChoices):
        AUTO = "auto", "Automatic (API when a key is set, else offline coach)"
        OFFLINE = "offline", "Offline coach for everyone"

    backend = models.CharField(max_length=16, choices=Backend.choices, default=Backend.AUTO)
    model_override = models.CharField(
        max_length=100,
        blank=True,
        help_text="A model id to use instead of COACH_MODEL; blank for none.",
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why it was changed.")
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "coach switch"
        verbose_name_plural = "coach switch"

    def __str__(self) -> str:
        model = self.model_override or "default model"
        return f"{self.get_backend_display()}; {model}"


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
