from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

TEST_SLUG = "test"  # Attempt.quiz for the module test; lesson quizzes use their lesson's slug


class Attempt(models.Model):
    """One go at a lesson quiz or the module test. Stores ids, never screen positions."""

    class Kind(models.TextChoices):
        QUIZ = "quiz", "Lesson quiz"
        TEST = "test", "Module test"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    module = models.SlugField(max_length=100)
    quiz = models.SlugField(max_length=100, help_text="Lesson slug, or 'test'.")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    content_version = models.CharField(
        max_length=64, help_text="The module version the attempt was graded against."
    )
    pass_mark = models.PositiveSmallIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set by “Try again” before the last answer; the answers are kept.",
    )
    seed = models.PositiveIntegerField(
        null=True, blank=True, help_text="Orders the options; empty on attempts ordered by id."
    )
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    total = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["user", "module", "quiz"])]
        constraints = [
            # One open attempt per learner and quiz, so two tabs resume the same attempt.
            models.UniqueConstraint(
                fields=["user", "module", "quiz"],
                condition=Q(finished_at__isnull=True, abandoned_at__isnull=True),
                name="one_open_attempt_per_quiz",
            )
        ]

    def __str__(self) -> str:
        result = f"{self.score}/{self.total}" if self.finished_at else "in progress"
        if self.abandoned_at:
            result = "abandoned"
        return f"{self.user} · {self.module}/{self.quiz} · {result}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def option_seed(self) -> int:
        """Attempts stored before seeds existed keep the order their id gave them."""
        return self.seed if self.seed is not None else self.pk

    @property
    def percent(self) -> int | None:
        if self.score is None or not self.total:
            return None
        return self.score * 100 // self.total


class Answer(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question_id = models.SlugField(max_length=100)
    option_id = models.SlugField(max_length=100)
    correct = models.BooleanField(null=True, blank=True, help_text="Set when graded.")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "question_id"], name="one_answer_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_id} → {self.option_id}"
