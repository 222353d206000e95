"""The instructors' report for one module: counts, pass rate, score histogram, item statistics.

`build` is pure (rows in, report out) so the numbers are tested on hand-computed data; `load`
is the only part that queries the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Count

from course.charts import Histogram, histogram_chart
from course.content import Module, Option, Quiz
from quizzes.grading import needed_to_pass
from quizzes.models import TEST_SLUG, Answer, Attempt
from quizzes.stats import ItemStats, Response, histogram, item_stats, share


@dataclass(frozen=True)
class AttemptRow:
    id: int
    user_id: int
    quiz: str
    score: int
    total: int
    passed: bool | None


@dataclass(frozen=True)
class AnswerRow:
    attempt_id: int
    question_id: str
    option_id: str


@dataclass(frozen=True)
class QuestionReport:
    number: int
    prompt: str
    stats: ItemStats
    wrong_option: Option | None


@dataclass(frozen=True)
class QuizReport:
    quiz: Quiz
    attempts: int
    learners: int
    mean_percent: float | None
    pass_rate: float | None  # test only: share of attempts that passed
    learners_passed: float | None  # test only: share of its learners with at least one pass
    counts: list[int]
    pass_score: int  # fewest questions right that pass
    chart: Histogram | None
    questions: list[QuestionReport]
    restarted: int = 0  # attempts the learner left with "Try again" before the last question


@dataclass(frozen=True)
class ModuleReport:
    module: Module
    learners: int
    attempts: int
    test: QuizReport | None
    quizzes: list[QuizReport] = field(default_factory=list)


def _quiz_report(
    module: Module,
    quiz: Quiz,
    attempts: list[AttemptRow],
    answers: list[AnswerRow],
    restarted: int = 0,
) -> QuizReport:
    by_id = {attempt.id: attempt for attempt in attempts}
    by_question: dict[str, list[Response]] = {}
    for answer in answers:
        attempt = by_id.get(answer.attempt_id)
        if attempt is not None:
            by_question.setdefault(answer.question_id, []).append(
                Response(answer.option_id, attempt.score)
            )
    questions = []
    for number, question in enumerate(quiz.questions, start=1):
        responses = by_question.get(question.id, [])
        stats = item_stats(
            question.id,
            question.correct_option.id,
            responses,
            [option.id for option in question.options],
        )
        wrong = question.option(stats.wrong_option) if stats.wrong_option else None
        questions.append(QuestionReport(number, question.prompt, stats, wrong))
    total = len(quiz.questions)
    counts = histogram([a.score for a in attempts if a.total == total], total)
    percents = [a.score * 100 / a.total for a in attempts if a.total]
    learners = {a.user_id for a in attempts}
    passers = {a.user_id for a in attempts if a.passed}
    return QuizReport(
        quiz=quiz,
        attempts=len(attempts),
        learners=len(learners),
        mean_percent=sum(percents) / len(percents) if percents else None,
        pass_rate=share(sum(1 for a in attempts if a.passed), len(attempts))
        if quiz.is_test
        else None,
        learners_passed=share(len(passers), len(learners)) if quiz.is_test else None,
        counts=counts,
        pass_score=needed_to_pass(total, module.pass_mark),
        chart=histogram_chart(counts, needed_to_pass(total, module.pass_mark))
        if quiz.is_test and attempts
        else None,
        questions=questions,
        restarted=restarted,
    )


def build(
    module: Module,
    attempts: list[AttemptRow],
    answers: list[AnswerRow],
    restarted: Mapping[str, int] | None = None,
) -> ModuleReport:
    """Report over finished attempts (`attempts`) and their answers; `restarted` counts the
    abandoned attempts per quiz slug."""
    restarted = restarted or {}

    def of(slug: str) -> list[AttemptRow]:
        return [attempt for attempt in attempts if attempt.quiz == slug]

    return ModuleReport(
        module=module,
        learners=len({attempt.user_id for attempt in attempts}),
        attempts=len(attempts),
        test=_quiz_report(module, module.test, of(TEST_SLUG), answers) if module.test else None,
        quizzes=[
            _quiz_report(module, quiz, of(slug), answers, restarted.get(slug, 0))
            for slug, quiz in module.quizzes.items()
        ],
    )


def load(module: Module) -> ModuleReport:
    finished = Attempt.objects.filter(module=module.slug, finished_at__isnull=False)
    attempts = [
        AttemptRow(pk, user_id, quiz, score or 0, total or 0, passed)
        for pk, user_id, quiz, score, total, passed in finished.values_list(
            "pk", "user_id", "quiz", "score", "total", "passed"
        )
    ]
    answers = [
        AnswerRow(*row)
        for row in Answer.objects.filter(attempt__in=finished).values_list(
            "attempt_id", "question_id", "option_id"
        )
    ]
    abandoned = (
        Attempt.objects.filter(module=module.slug, abandoned_at__isnull=False)
        .values_list("quiz")
        .annotate(n=Count("id"))
    )
    return build(module, attempts, answers, dict(abandoned))
