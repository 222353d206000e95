"""A learner's results per quiz (attempts, latest, best) and the statuses shown on the path."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from course.content import Module
from quizzes.models import TEST_SLUG, Attempt


@dataclass(frozen=True)
class QuizSummary:
    attempts: int = 0
    latest: Attempt | None = None
    best: Attempt | None = None


def summarise(finished: list[Attempt]) -> QuizSummary:
    """`finished` newest first; the best is the highest score, the earliest among equals."""
    if not finished:
        return QuizSummary()
    best = max(reversed(finished), key=lambda attempt: attempt.percent or 0)
    return QuizSummary(len(finished), finished[0], best)


def finished_attempts(user: AbstractBaseUser, module: Module) -> dict[str, list[Attempt]]:
    """The learner's finished attempts in a module, by quiz slug, newest first."""
    by_quiz: dict[str, list[Attempt]] = {}
    attempts = Attempt.objects.filter(
        user_id=user.pk, module=module.slug, finished_at__isnull=False
    )
    for attempt in attempts.order_by("-finished_at", "-id"):
        by_quiz.setdefault(attempt.quiz, []).append(attempt)
    return by_quiz


def summaries(user: AbstractBaseUser, module: Module) -> dict[str, QuizSummary]:
    return {slug: summarise(items) for slug, items in finished_attempts(user, module).items()}


def path_statuses(user: AbstractBaseUser, module: Module) -> dict[str, str]:
    """Status lines for the module path; a step gets one only once it is done.

    The path marks every step that has a status as done, so a test taken but not yet passed
    gets none here (My progress lists those attempts).
    """
    statuses: dict[str, str] = {}
    for slug, finished in finished_attempts(user, module).items():
        best = summarise(finished).best
        assert best is not None
        if slug == TEST_SLUG:
            if any(attempt.passed for attempt in finished):
                statuses["test:"] = f"Passed · best {best.score}/{best.total}"
        elif slug in module.quizzes:
            statuses[f"quiz:{slug}"] = f"Best {best.score}/{best.total}"
    return statuses
