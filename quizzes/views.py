"""Lesson quizzes (answer one question at a time) and the module test (answer all, then submit)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from course.access import HtmxHttpRequest, get_module_or_404
from course.content import Module, Quiz
from quizzes.access import learner, learner_required
from quizzes.attempts import (
    AttemptClosed,
    AttemptError,
    answer_quiz_question,
    answers_of,
    latest_attempt,
    next_seed,
    open_attempt,
    owned_attempt,
    restart_quiz,
    save_test_answers,
    start_attempt,
    submit_test,
)
from quizzes.grading import needed_to_pass
from quizzes.models import TEST_SLUG, Attempt
from quizzes.pages import QuestionView, question_views
from quizzes.progress import summarise
from quizzes.submission import (
    BadSubmission,
    FormData,
    parse_attempt_id,
    parse_quiz_answer,
    parse_test_answers,
    posted_choices,
)

logger = logging.getLogger(__name__)

UNANSWERED = "Not answered yet: choose one option."


def _form(request: HtmxHttpRequest) -> FormData:
    return dict(request.POST.lists())


def _log_rejection(request: HtmxHttpRequest, module: Module, quiz: str, problem: str) -> None:
    fields = sorted(key for key in request.POST if key != "csrfmiddlewaretoken")
    logger.warning(
        "quiz submission rejected",
        extra={
            "user_id": request.user.pk,
            "course_module": module.slug,
            "quiz": quiz,
            "problem": problem,
            "fields": fields,
        },
    )


def _missing(request: HtmxHttpRequest, module: Module, key: str, what: str) -> HttpResponse:
    """A quiz that does not exist is a 404; one whose file is broken says so (500)."""
    broken = module.broken.get(key)
    if broken is not None:
        logger.error("broken quiz requested", extra={"path": broken.path, "quiz": key})
        context = {"module": module, "broken": broken, "what": what}
        return render(request, "quizzes/unavailable.html", context, status=500)
    logger.warning(
        "unknown quiz requested",
        extra={"course_module": module.slug, "quiz": key, "method": request.method},
    )
    message = f"Module {module.number} has no {what} '{key}'. Pick one from the course page."
    if what == "module test":
        message = f"Module {module.number} has no module test yet."
    return render(request, "404.html", {"message": message}, status=404)


def _finished(user: Any, module: Module, quiz: Quiz) -> list[Attempt]:
    slug = TEST_SLUG if quiz.is_test else quiz.slug
    return list(
        Attempt.objects.filter(
            user_id=user.pk, module=module.slug, quiz=slug, finished_at__isnull=False
        ).order_by("-finished_at", "-id")
    )


# --- Lesson quizzes -------------------------------------------------------------------------


def _quiz_context(
    request: HtmxHttpRequest, module: Module, quiz: Quiz, attempt: Attempt | None
) -> dict[str, Any]:
    answers = answers_of(attempt) if attempt else {}
    # Options in the attempt's own order: shuffled per attempt, the same on every reload. Before
    # the first answer stores the attempt, the page shows the order it will be stored with.
    user = learner(request)
    seed = attempt.option_seed if attempt else next_seed(user, module, quiz)
    questions = question_views(quiz, answers, reveal=True, seed=seed)
    return {
        "module": module,
        "quiz": quiz,
        "lesson": module.lesson(quiz.slug),
        "next_lesson": module.neighbours(quiz.slug)[1],
        "attempt": attempt,
        "questions": questions,
        "answered_count": sum(1 for view in questions if view.verdict),
        "summary": summarise(_finished(user, module, quiz)),
        "quiz_url": reverse("quiz", args=[module.slug, quiz.slug]),
    }


@require_http_methods(["GET", "POST"])
@learner_required("quiz")
def quiz(request: HtmxHttpRequest, module: str, slug: str) -> HttpResponse:
    mod = get_module_or_404(module)
    item = mod.quizzes.get(slug)
    if item is None:
        return _missing(request, mod, slug, "quiz")
    if request.method == "POST":
        return _answer(request, mod, item)
    # Looking writes nothing (a prefetch or a visit that never answers leaves no attempt): the
    # first answer stores the attempt.
    attempt = latest_attempt(learner(request), mod, item)
    return render(request, "quizzes/quiz.html", _quiz_context(request, mod, item, attempt))


def _answer(request: HtmxHttpRequest, module: Module, quiz: Quiz) -> HttpResponse:
    data = _form(request)
    try:
        question, option_id = parse_quiz_answer(data, quiz)
    except BadSubmission as exc:
        return _quiz_rejected(request, module, quiz, exc.message, exc.question_id, exc.status)
    try:
        attempt, _verdict = answer_quiz_question(
            learner(request), module, quiz, question, option_id
        )
    except AttemptError as exc:
        return _quiz_rejected(request, module, quiz, exc.message, question.id, exc.status)
    if request.htmx:
        context = _quiz_context(request, module, quiz, attempt)
        context["qv"] = next(v for v in context["questions"] if v.id == question.id)
        context["just_answered"] = True
        return render(request, "quizzes/quiz.html#answered", context)
    return redirect(f"{reverse('quiz', args=[module.slug, quiz.slug])}#q-{question.id}")


def _quiz_rejected(
    request: HtmxHttpRequest,
    module: Module,
    quiz: Quiz,
    message: str,
    question_id: str,
    status: int,
) -> HttpResponse:
    _log_rejection(request, module, quiz.slug, message)
    attempt = latest_attempt(learner(request), module, quiz)
    context = _quiz_context(request, module, quiz, attempt)
    posted = request.POST.get("option", "")
    views: list[QuestionView] = context["questions"]
    for index, view in enumerate(views):
        if view.id == question_id:
            chosen = posted if view.verdict is None and view.question.option(posted) else ""
            views[index] = dataclasses.replace(
                view, error=message, chosen_id=chosen or view.chosen_id
            )
            context["qv"] = views[index]
    if request.htmx:
        template = "quizzes/quiz.html#question" if "qv" in context else "quizzes/quiz.html#stale"
        return render(request, template, {**context, "error": message}, status=status)
    return render(request, "quizzes/quiz.html", {**context, "error": message}, status=status)


@require_POST
@learner_required("quiz")
def quiz_retake(request: HtmxHttpRequest, module: str, slug: str) -> HttpResponse:
    mod = get_module_or_404(module)
    item = mod.quizzes.get(slug)
    if item is None:
        return _missing(request, mod, slug, "quiz")
    restart_quiz(learner(request), mod, item)
    messages.info(request, "A new attempt: the options are in a new order. Good luck!")
    return redirect("quiz", mod.slug, item.slug)


# --- The module test ------------------------------------------------------------------------


def _test_or_missing(request: HtmxHttpRequest, module: Module) -> Quiz | HttpResponse:
    return module.test if module.test is not None else _missing(request, module, "test", "test")


def _test_page(
    request: HtmxHttpRequest,
    module: Module,
    test: Quiz,
    attempt: Attempt | None,
    *,
    chosen: dict[str, str] | None = None,
    error: BadSubmission | AttemptError | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "module": module,
        "test": test,
        "attempt": attempt,
        "history": _finished(learner(request), module, test),
        "error": error,
    }
    if attempt is not None and not attempt.is_finished:
        answers = {**answers_of(attempt), **(chosen or {})}
        errors = {}
        if isinstance(error, BadSubmission):
            errors = dict.fromkeys(error.unanswered, UNANSWERED) or {
                error.question_id: error.message
            }
        views = question_views(test, answers, reveal=False, seed=attempt.option_seed, errors=errors)
        context["questions"] = views
        context["answered"] = sum(1 for view in views if view.chosen_id)
    return render(request, "quizzes/test.html", context, status=status)


@require_GET
@learner_required("module_test")
def module_test(request: HtmxHttpRequest, module: str) -> HttpResponse:
    mod = get_module_or_404(module)
    test = _test_or_missing(request, mod)
    if isinstance(test, HttpResponse):
        return test
    return _test_page(request, mod, test, open_attempt(learner(request), mod, test))


@require_POST
@learner_required("module_test")
def module_test_start(request: HtmxHttpRequest, module: str) -> HttpResponse:
    mod = get_module_or_404(module)
    test = _test_or_missing(request, mod)
    if isinstance(test, HttpResponse):
        return test
    start_attempt(learner(request), mod, test)
    return redirect(f"{reverse('module_test', args=[mod.slug])}#test-form")


def _test_rejected(
    request: HtmxHttpRequest,
    module: Module,
    test: Quiz,
    data: FormData,
    error: BadSubmission | AttemptError,
    attempt: Attempt | None,
) -> HttpResponse:
    _log_rejection(request, module, TEST_SLUG, error.message)
    if request.htmx:
        context = {"module": module, "test": test, "error": error}
        return render(request, "quizzes/test.html#save-status", context, status=error.status)
    if isinstance(error, AttemptClosed) and error.attempt is not None:
        context = {"module": module, "message": error.message, "attempt": error.attempt}
        return render(request, "quizzes/test_refused.html", context, status=error.status)
    if attempt is not None and not attempt.is_finished:
        return _test_page(
            request,
            module,
            test,
            attempt,
            chosen=posted_choices(data, test),
            error=error,
            status=error.status,
        )
    context = {"module": module, "message": error.message, "attempt": None}
    return render(request, "quizzes/test_refused.html", context, status=error.status)


@dataclass(frozen=True)
class _PostedTest:
    module: Module
    test: Quiz
    data: FormData
    attempt: Attempt


def _posted_test(request: HtmxHttpRequest, module: str) -> _PostedTest | HttpResponse:
    """The module test and the learner's own attempt a save or submit names, or the refusal."""
    mod = get_module_or_404(module)
    test = _test_or_missing(request, mod)
    if isinstance(test, HttpResponse):
        return test
    data = _form(request)
    try:
        attempt = owned_attempt(learner(request), parse_attempt_id(data), mod, test)
    except (BadSubmission, AttemptError) as exc:
        return _test_rejected(request, mod, test, data, exc, None)
    return _PostedTest(mod, test, data, attempt)


@require_POST
@learner_required("module_test")
def module_test_save(request: HtmxHttpRequest, module: str) -> HttpResponse:
    posted = _posted_test(request, module)
    if isinstance(posted, HttpResponse):
        return posted
    mod, test, data, attempt = posted.module, posted.test, posted.data, posted.attempt
    try:
        answered = save_test_answers(attempt, parse_test_answers(data, test, require_all=False))
    except (BadSubmission, AttemptError) as exc:
        return _test_rejected(request, mod, test, data, exc, attempt)
    total = len(test.questions)
    if request.htmx:
        context = {"module": mod, "test": test, "answered": answered, "saved": True}
        return render(request, "quizzes/test.html#save-status", context)
    messages.success(
        request,
        f"Your answers are saved ({answered} of {total} answered). Come back any time to finish.",
    )
    return redirect("module_test", mod.slug)


@require_POST
@learner_required("module_test")
def module_test_submit(request: HtmxHttpRequest, module: str) -> HttpResponse:
    posted = _posted_test(request, module)
    if isinstance(posted, HttpResponse):
        return posted
    mod, test, data, attempt = posted.module, posted.test, posted.data, posted.attempt
    try:
        submit_test(attempt, mod, parse_test_answers(data, test, require_all=True))
    except (BadSubmission, AttemptError) as exc:
        return _test_rejected(request, mod, test, data, exc, attempt)
    return redirect("module_test_result", mod.slug, attempt.pk)


@require_GET
@learner_required("module_test_result")
def module_test_result(request: HtmxHttpRequest, module: str, attempt: int) -> HttpResponse:
    mod = get_module_or_404(module)
    test = _test_or_missing(request, mod)
    if isinstance(test, HttpResponse):
        return test
    item = Attempt.objects.filter(pk=attempt, module=mod.slug, quiz=TEST_SLUG).first()
    if item is None:
        return render(
            request, "404.html", {"message": "There is no such test attempt."}, status=404
        )
    if item.user_id != request.user.pk and not request.user.is_staff:
        return render(
            request,
            "403.html",
            {"message": "This attempt belongs to another learner."},
            status=403,
        )
    if not item.is_finished:
        return redirect("module_test", mod.slug)
    context = {
        "module": mod,
        "test": test,
        "attempt": item,
        "questions": question_views(test, answers_of(item), reveal=True, seed=item.option_seed),
        "is_own": item.user_id == request.user.pk,
        "needed": needed_to_pass(item.total or 0, item.pass_mark or mod.pass_mark),
    }
    return render(request, "quizzes/test_result.html", context)
