"""Writes that span an attempt and its answers: start, answer, save, submit.

Each write runs in one transaction with the attempt row locked, so a double click, a second tab
or a replayed form cannot store a second answer or grade an attempt twice.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from course.content import Module, Question, Quiz
from quizzes.grading import Result, Verdict, grade, grade_question
from quizzes.models import TEST_SLUG, Answer, Attempt
from quizzes.shuffle import attempt_seed


class AttemptError(Exception):
    """An attempt-level refusal; `message` is written for the learner."""

    status = 400

    def __init__(self, message: str, attempt: Attempt | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.attempt = attempt


class AttemptNotFound(AttemptError):
    status = 404


class NotYourAttempt(AttemptError):
    status = 403


class AttemptClosed(AttemptError):
    status = 409


class AlreadyAnswered(AttemptError):
    status = 409


def quiz_slug(quiz: Quiz) -> str:
    return TEST_SLUG if quiz.is_test else quiz.slug


def latest_attempt(user: AbstractBaseUser, module: Module, quiz: Quiz) -> Attempt | None:
    """The open attempt, else the last finished one (an abandoned attempt is never shown)."""
    return Attempt.objects.filter(
        user_id=user.pk, module=module.slug, quiz=quiz_slug(quiz), abandoned_at__isnull=True
    ).first()


def open_attempt(user: AbstractBaseUser, module: Module, quiz: Quiz) -> Attempt | None:
    return Attempt.objects.filter(
        user_id=user.pk,
        module=module.slug,
        quiz=quiz_slug(quiz),
        finished_at__isnull=True,
        abandoned_at__isnull=True,
    ).first()


def next_seed(user: AbstractBaseUser, module: Module, quiz: Quiz) -> int:
    """The option-order seed the learner's next attempt at this quiz will be stored with."""
    taken = Attempt.objects.filter(user_id=user.pk, module=module.slug, quiz=quiz_slug(quiz))
    return attempt_seed(user.pk, module.slug, quiz_slug(quiz), taken.count())


def start_attempt(user: AbstractBaseUser, module: Module, quiz: Quiz) -> Attempt:
    """The learner's open attempt at this quiz, created when there is none."""
    existing = open_attempt(user, module, quiz)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Attempt.objects.create(
                user_id=user.pk,
                module=module.slug,
                quiz=quiz_slug(quiz),
                kind=Attempt.Kind.TEST if quiz.is_test else Attempt.Kind.QUIZ,
                content_version=module.version,
                pass_mark=module.pass_mark if quiz.is_test else None,
                seed=next_seed(user, module, quiz),
            )
    except IntegrityError:
        # Another request opened one a moment ago; the constraint allows only one.
        attempt = open_attempt(user, module, quiz)
        if attempt is None:
            raise
        return attempt


def restart_quiz(user: AbstractBaseUser, module: Module, quiz: Quiz) -> Attempt:
    """ "Try again" on a lesson quiz: a new attempt, its options in a new order.

    An open attempt with answers is closed as abandoned (its answers stay for the statistics,
    it is never scored); an open attempt with none is simply kept, so a double click does not
    leave empty abandoned attempts behind.
    """
    with transaction.atomic():
        current = open_attempt(user, module, quiz)
        if current is not None:
            current = _lock(current)
            if current.is_finished or current.abandoned_at is not None:
                current = None  # another request closed it a moment ago
            elif not current.answers.exists():
                return current
            else:
                current.abandoned_at = timezone.now()
                current.save(update_fields=["abandoned_at"])
    return start_attempt(user, module, quiz)


def owned_attempt(user: AbstractBaseUser, attempt_id: int, module: Module, quiz: Quiz) -> Attempt:
    attempt = Attempt.objects.filter(
        pk=attempt_id, module=module.slug, quiz=quiz_slug(quiz)
    ).first()
    if attempt is None:
        raise AttemptNotFound(
            "There is no such attempt at this test. Open the test page to start or resume one."
        )
    if attempt.user_id != user.pk:
        raise NotYourAttempt(
            "This attempt belongs to another learner, so it cannot be changed from your "
            "account. Nothing was saved.",
            attempt,
        )
    return attempt


def answers_of(attempt: Attempt) -> dict[str, str]:
    return dict(attempt.answers.values_list("question_id", "option_id"))


def _lock(attempt: Attempt) -> Attempt:
    return Attempt.objects.select_for_update().get(pk=attempt.pk)


def _finish(attempt: Attempt, result: Result, module: Module) -> None:
    attempt.finished_at = timezone.now()
    attempt.score = result.score
    attempt.total = result.total
    attempt.content_version = module.version
    if attempt.kind == Attempt.Kind.TEST:
        attempt.pass_mark = result.pass_mark
        attempt.passed = result.passed
    attempt.save()


def answer_quiz_question(
    user: AbstractBaseUser, module: Module, quiz: Quiz, question: Question, option_id: str
) -> tuple[Attempt, Verdict]:
    """Record one lesson-quiz answer; the attempt is scored once every question is answered."""
    verdict = grade_question(question, option_id)
    with transaction.atomic():
        attempt = _lock(start_attempt(user, module, quiz))
        if attempt.abandoned_at is not None:
            raise AttemptClosed(
                "You started this quiz again in another tab or window. Reload the page to "
                "answer in the new attempt.",
                attempt,
            )
        if attempt.answers.filter(question_id=question.id).exists():
            raise AlreadyAnswered(
                "You already answered this question in this attempt. Choose “Try again” "
                "to start a new attempt.",
                attempt,
            )
        Answer.objects.create(
            attempt=attempt, question_id=question.id, option_id=option_id, correct=verdict.correct
        )
        answers = answers_of(attempt)
        if all(q.id in answers for q in quiz.questions):
            current = {q.id: answers[q.id] for q in quiz.questions}
            _finish(attempt, grade(quiz, current, module.pass_mark), module)
    return attempt, verdict


def save_test_answers(attempt: Attempt, answers: Mapping[str, str]) -> int:
    """Store chosen options of an open test attempt; returns how many questions are answered."""
    with transaction.atomic():
        locked = _lock(attempt)
        if locked.is_finished:
            raise AttemptClosed(
                "This attempt was already submitted, so its answers can no longer change.",
                locked,
            )
        for question_id, option_id in answers.items():
            Answer.objects.update_or_create(
                attempt=locked,
                question_id=question_id,
                defaults={"option_id": option_id, "answered_at": timezone.now()},
            )
        return locked.answers.count()


def submit_test(attempt: Attempt, module: Module, answers: Mapping[str, str]) -> Result:
    """Grade a complete test attempt once; a second submission raises AttemptClosed."""
    assert module.test is not None
    result = grade(module.test, answers, module.pass_mark)
    with transaction.atomic():
        locked = _lock(attempt)
        if locked.is_finished:
            raise AttemptClosed(
                f"This attempt was already submitted and scored {locked.score}/{locked.total}; "
                "submitting it again changes nothing.",
                locked,
            )
        # Answers to questions no longer in the test would not match the score: drop them.
        locked.answers.exclude(question_id__in=list(answers)).delete()
        for verdict in result.verdicts:
            Answer.objects.update_or_create(
                attempt=locked,
                question_id=verdict.question.id,
                defaults={"option_id": verdict.chosen.id, "correct": verdict.correct},
            )
        _finish(locked, result, module)
    attempt.refresh_from_db()
    return result
