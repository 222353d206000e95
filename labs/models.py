"""Lab conversations, their messages, and one telemetry row per coach turn.

`CoachTurn` is the record operations builds metrics on: every attempt count, wait, token and
cent of a turn, indexed by start time. Spend is always summed from these rows, so budgets
survive restarts and every worker sees the same numbers.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from resilient import Usage


class Conversation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_conversations"
    )
    module = models.CharField(max_length=64)
    lab = models.CharField(max_length=64)
    title = models.CharField(max_length=120, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # A turn owns the conversation until this instant; set and cleared through the database so
    # that a second tab or another worker cannot start a parallel turn.
    busy_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated", "-id"]
        indexes = [models.Index(fields=["user", "module", "lab", "-updated"])]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.lab}: {self.title or 'new conversation'}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "Learner"
        ASSISTANT = "assistant", "Coach"

    class Status(models.TextChoices):
        COMPLETE = "complete", "Complete"
        STREAMING = "streaming", "Streaming"
        TRUNCATED = "truncated", "Truncated"
        STOPPED = "stopped", "Stopped"  # the learner pressed Stop: the text so far is kept
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["conversation", "created"])]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"


class CoachTurn(models.Model):
    class Backend(models.TextChoices):
        OFFLINE = "offline", "Offline coach"
        API = "api", "Anthropic API"

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        TRUNCATED = "truncated", "Truncated"
        DEGRADED = "degraded", "Degraded"
        CANCELLED = "cancelled", "Cancelled"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    # Denormalised from the conversation so per-learner rate and spend queries use one index.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_turns"
    )
    user_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, related_name="turns_asked"
    )
    assistant_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, related_name="turns_answered"
    )
    module = models.CharField(max_length=64)
    lab = models.CharField(max_length=64)
    model = models.CharField(max_length=100)
    backend = models.CharField(max_length=16, choices=Backend.choices)
    fault_plan = models.CharField(max_length=200, blank=True)
    # The fault drill a learner aimed at this turn (its key), empty for a real turn. A drill
    # fails on purpose: operations figures, alerts, metrics and budgets leave drills out.
    drill = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    degraded_kind = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    waits = models.JSONField(default=list, blank=True)  # [{attempt, delay, reason}, ...]
    restarts = models.JSONField(default=list, blank=True)  # [{attempt, reason}, ...]
    # What the client did, for the page's timeline: {"spans": [{kind, start, end, attempt,
    # note}, ...], "stopped": why it gave up (a word), "why": its reason, "headroom": the rate
    # limits left after the last response (real API only)}.
    trace = models.JSONField(default=dict, blank=True)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    # The most the turn can cost (all input written to the cache, every output token used),
    # counted in its budgets' spend while it runs, so that concurrent turns cannot together
    # spend past a cap each of them fits under alone.
    reserved_usd = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    stop_reason = models.CharField(max_length=32, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    started = models.DateTimeField(db_index=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started", "id"]
        indexes = [
            models.Index(fields=["user", "started"]),
            models.Index(fields=["conversation", "started"]),
            models.Index(fields=["module", "lab", "started"]),
            # Admission sums what the running turns hold: a few rows among all of today's.
            models.Index(
                fields=["started"],
                condition=models.Q(finished__isnull=True),
                name="labs_coachturn_running",
            ),
        ]

    @property
    def usage(self) -> Usage:
        return Usage(
            self.input_tokens,
            self.output_tokens,
            self.cache_write_tokens,
            self.cache_read_tokens,
        )

    @property
    def tokens(self) -> int:
        """Every token the turn was billed for."""
        return self.usage.total_tokens

    def __str__(self) -> str:
        return f"turn {self.pk} {self.outcome} ({self.backend})"


class DailySpend(models.Model):
    """Everyone's coach spend on one UTC day, added to as each turn finishes.

    Admission checks the global daily budget on every message. Summing every turn of the day
    there grew with the day's traffic (2.3 ms a message at 10,000 turns on SQLite, on the one
    database thread every socket of a process shares); this is one row. Spend per
    conversation and per learner is still summed from the turns: their indexes bound it.
    """

    day = models.DateField(primary_key=True)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal("0"))
    tokens = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: ${self.cost_usd} ({self.tokens} tokens)"


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
