"""Pages that report on attempts: a learner's "My progress", instructors' analytics and CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from course.access import get_module_or_404
from course.charts import ScoreChart, ScorePoint, score_chart
from course.content import Lesson, Module, Quiz
from course.progress import ActivityLink, activity, read_lessons
from course.registry import get_modules
from quizzes import analytics as module_analytics
from quizzes.access import learner, staff_required
from quizzes.models import TEST_SLUG, Answer, Attempt
from quizzes.progress import QuizSummary, finished_attempts, summarise


@dataclass(frozen=True)
class ModuleProgress:
    module: Module
    lessons: list[tuple[Lesson, bool]]
    read: int
    quizzes: list[tuple[Quiz, QuizSummary]]
    test_attempts: list[Attempt]  # finished, newest first
    open_test: Attempt | None
    chart: ScoreChart | None


def _module_progress(user: AbstractBaseUser, module: Module) -> ModuleProgress:
    read = read_lessons(user, module)
    finished = finished_attempts(user, module)
    tests = finished.get(TEST_SLUG, [])
    points = [
        ScorePoint(a.finished_at or a.started_at, a.score or 0, a.total or 0, bool(a.passed))
        for a in reversed(tests)
    ]
    open_test = Attempt.objects.filter(
        user_id=user.pk,
        module=module.slug,
        quiz=TEST_SLUG,
        finished_at__isnull=True,
        abandoned_at__isnull=True,
    ).first()
    return ModuleProgress(
        module=module,
        lessons=[(lesson, lesson.slug in read) for lesson in module.lessons],
        read=sum(1 for lesson in module.lessons if lesson.slug in read),
        quizzes=[
            (quiz, summarise(finished.get(slug, []))) for slug, quiz in module.quizzes.items()
        ],
        test_attempts=tests,
        open_test=open_test,
        chart=score_chart(points, module.pass_mark) if points else None,
    )


@require_GET
@login_required
def progress(request: HttpRequest) -> HttpResponse:
    user = learner(request)
    modules = [_module_progress(user, module) for module in get_modules()]
    sections: dict[str, list[ActivityLink]] = {}
    for link in activity(user):
        sections.setdefault(link.section, []).append(link)
    context: dict[str, Any] = {"modules": modules, "activity": sections}
    return render(request, "quizzes/progress.html", context)


@require_GET
@staff_required
def analytics(request: HttpRequest) -> HttpResponse:
    reports = [module_analytics.load(module) for module in get_modules()]
    return render(request, "quizzes/analytics.html", {"reports": reports})


CSV_COLUMNS = [
    "attempt_id",
    "learner",
    "module",
    "quiz",
    "kind",
    "content_version",
    "started_at",
    "finished_at",
    "attempt_score",
    "attempt_total",
    "passed",
    "question_id",
    "option_id",
    "correct",
    "answered_at",
    "abandoned_at",
]


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (usernames are learner-chosen)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@staff_required
def attempts_csv(request: HttpRequest, module: str) -> HttpResponse:
    mod = get_module_or_404(module)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{mod.slug}-attempts-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    rows = (
        Answer.objects.filter(attempt__module=mod.slug)
        .select_related("attempt", "attempt__user")
        .order_by("attempt_id", "id")
    )
    for answer in rows.iterator(chunk_size=2000):
        attempt = answer.attempt
        values = [
            attempt.pk,
            attempt.user.get_username(),
            attempt.module,
            attempt.quiz,
            attempt.kind,
            attempt.content_version,
            attempt.started_at.isoformat(),
            attempt.finished_at.isoformat() if attempt.finished_at else "",
            attempt.score,
            attempt.total,
            "" if attempt.passed is None else str(attempt.passed).lower(),
            answer.question_id,
            answer.option_id,
            "" if answer.correct is None else str(answer.correct).lower(),
            answer.answered_at.isoformat(),
            attempt.abandoned_at.isoformat() if attempt.abandoned_at else "",
        ]
        writer.writerow([spreadsheet_safe(value) for value in values])
    return response
