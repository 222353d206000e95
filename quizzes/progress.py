"""A learner's results per quiz (attempts, latest, best) and the statuses shown on the path."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count

from course.content import Module
from course.progress import StepState
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


def _open_answer_counts(user: AbstractBaseUser, module: Module) -> dict[str, int]:
    """Answers given so far in each open (unfinished) attempt, by quiz slug."""
    rows = Attempt.objects.filter(
        user_id=user.pk, module=module.slug, finished_at__isnull=True, abandoned_at__isnull=True
    ).annotate(answered=Count("answers"))
    return {row.quiz: row.answered for row in rows if row.answered}


def path_statuses(user: AbstractBaseUser, module: Module) -> dict[str, StepState]:
    """The state of each quiz and of the test on the course map.

    A lesson quiz is done once finished; the module test once passed. A quiz or test begun but
    not finished, and a test taken but not yet passed, are shown as in progress.
    """
    states: dict[str, StepState] = {}
    finished = finished_attempts(user, module)
    for slug, answered in _open_answer_counts(user, module).items():
        quiz = module.test if slug == TEST_SLUG else module.quizzes.get(slug)
        if quiz is not None:
            total = len(quiz.questions)
            key = "test:" if slug == TEST_SLUG else f"quiz:{slug}"
            states[key] = StepState(f"In progress · {answered} of {total} answered", done=False)
    for slug, attempts in finished.items():
        best = summarise(attempts).best
        assert best is not None
        if slug == TEST_SLUG:
            if any(attempt.passed for attempt in attempts):
                states["test:"] = StepState(f"Passed · best {best.score}/{best.total}")
            elif "test:" not in states:
                states["test:"] = StepState(
                    f"Not passed yet · best {best.score}/{best.total}", done=False
                )
        elif slug in module.quizzes:
            states[f"quiz:{slug}"] = StepState(f"Best {best.score}/{best.total}")
    return states
