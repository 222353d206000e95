"""Grading: pure functions from a quiz's content and the chosen option ids to a scored result.

Nothing here touches the database or the request, so every rule (what counts as correct, which
explanation is shown, where the pass mark falls) is checked by a parameter table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from course.content import Correction, Option, Question, Quiz


class InvalidAnswers(ValueError):
    """The answers do not fit the quiz: an unknown question or option, or a missing answer."""


@dataclass(frozen=True)
class Verdict:
    """One answered question: what was chosen, what was right, and what to tell the learner."""

    question: Question
    chosen: Option

    @property
    def correct(self) -> bool:
        return self.chosen.correct

    @property
    def correct_option(self) -> Option:
        return self.question.correct_option

    @property
    def explanation(self) -> str:
        q = self.question
        return q.explanation_correct if self.correct else q.explanation_incorrect

    @property
    def explanation_correction(self) -> Correction | None:
        """The note for the explanation shown, where it corrects the course text."""
        return self.question.correction(
            "explanation.correct" if self.correct else "explanation.incorrect"
        )

    @property
    def feedback(self) -> str:
        """The chosen option's own feedback, where the content gives one."""
        return self.chosen.feedback


@dataclass(frozen=True)
class Result:
    verdicts: tuple[Verdict, ...]
    pass_mark: int  # percent

    @property
    def score(self) -> int:
        return sum(verdict.correct for verdict in self.verdicts)

    @property
    def total(self) -> int:
        return len(self.verdicts)

    @property
    def percent(self) -> int:
        return percent(self.score, self.total)

    @property
    def passed(self) -> bool:
        return passes(self.score, self.total, self.pass_mark)


def percent(score: int, total: int) -> int:
    """Whole percent, rounded down so that a displayed 80 % is never a failed 79.9 %."""
    return score * 100 // total if total else 0


def passes(score: int, total: int, pass_mark: int) -> bool:
    # Integer arithmetic: 12/15 is exactly 80 %, and floats must not turn it into 79.999 %.
    return total > 0 and score * 100 >= pass_mark * total


def needed_to_pass(total: int, pass_mark: int) -> int:
    """The fewest correct answers that pass (12 of 15 at 80 %)."""
    return -(-pass_mark * total // 100)


def grade_question(question: Question, option_id: str) -> Verdict:
    option = question.option(option_id)
    if option is None:
        raise InvalidAnswers(f"'{option_id}' is not an option of question '{question.id}'")
    return Verdict(question, option)


def grade(quiz: Quiz, answers: Mapping[str, str], pass_mark: int) -> Result:
    """Grade a complete set of answers ({question id: option id}) in the quiz's order."""
    unknown = sorted(set(answers) - {question.id for question in quiz.questions})
    if unknown:
        raise InvalidAnswers(f"unknown question(s): {', '.join(unknown)}")
    missing = [question.id for question in quiz.questions if question.id not in answers]
    if missing:
        raise InvalidAnswers(f"unanswered question(s): {', '.join(missing)}")
    verdicts = tuple(grade_question(q, answers[q.id]) for q in quiz.questions)
    return Result(verdicts, pass_mark)
