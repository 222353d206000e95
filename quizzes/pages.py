"""What a quiz page shows for each question: options in display order, the verdict if answered.

Built from content plus stored ids; the answer key enters a question's view only once that
question has an answer (a verdict), so a template cannot leak it by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from course.content import Option, Question, Quiz
from quizzes.grading import Verdict, grade_question
from quizzes.shuffle import option_order


@dataclass(frozen=True)
class QuestionView:
    number: int
    total: int
    question: Question
    options: tuple[Option, ...]  # display order; `correct` is never read by the form templates
    verdict: Verdict | None = None
    chosen_id: str = ""  # a choice shown checked (resumed test, or a form sent back with an error)
    error: str = ""

    @property
    def id(self) -> str:
        return self.question.id


def question_views(
    quiz: Quiz,
    answers: Mapping[str, str],
    *,
    reveal: bool,
    seed: int | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[QuestionView]:
    """One view per question. `reveal` grades the answered ones (lesson quizzes, test review);
    without it the chosen option is only shown checked (a test in progress)."""
    views = []
    for number, question in enumerate(quiz.questions, start=1):
        options = option_order(question, seed) if seed is not None else question.options
        chosen = answers.get(question.id, "")
        if question.option(chosen) is None:
            chosen = ""  # an answer to an option the content no longer has
        verdict = grade_question(question, chosen) if reveal and chosen else None
        views.append(
            QuestionView(
                number=number,
                total=len(quiz.questions),
                question=question,
                options=options,
                verdict=verdict,
                chosen_id=chosen,
                error=(errors or {}).get(question.id, ""),
            )
        )
    return views
