"""Read answer forms into question/option ids, refusing anything a learner's form can't send.

Pure functions over `{field name: [values]}` (what `QueryDict.lists()` gives), so a tampered,
stale or incomplete form is rejected with a message the learner can act on, before anything is
stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from course.content import Question, Quiz

ANSWER_PREFIX = "q-"  # module-test fields are named q-<question id>
RELOAD = "Reload the page to get the current questions, then choose again."

FormData = Mapping[str, Sequence[str]]


class BadSubmission(ValueError):
    """A form that cannot be accepted; `message` is written for the learner."""

    def __init__(
        self,
        message: str,
        *,
        question_id: str = "",
        status: int = 400,
        unanswered: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.question_id = question_id
        self.status = status
        self.unanswered = unanswered  # every question a submitted test left without an answer


def answer_field(question_id: str) -> str:
    return f"{ANSWER_PREFIX}{question_id}"


def single(data: FormData, name: str, *, what: str, question_id: str = "") -> str | None:
    """The field's one value, None when absent or empty; two values are refused."""
    values = [value for value in data.get(name, ()) if value != ""]
    if len(values) > 1:
        raise BadSubmission(
            f"The form sent {len(values)} values for {what}; choose exactly one and try again.",
            question_id=question_id,
        )
    return values[0] if values else None


def parse_attempt_id(data: FormData) -> int:
    raw = single(data, "attempt", what="the attempt")
    if raw is None or not raw.isascii() or not raw.isdigit() or int(raw) == 0:
        raise BadSubmission(
            "This form does not name a valid attempt. Reload the test page to continue "
            "your attempt; the answers you saved are kept."
        )
    return int(raw)


def _option_checked(question: Question, option_id: str) -> None:
    if question.option(option_id) is None:
        raise BadSubmission(
            f"That answer is not one of the options for this question. {RELOAD}",
            question_id=question.id,
        )


def parse_quiz_answer(data: FormData, quiz: Quiz) -> tuple[Question, str]:
    """A lesson-quiz form: one `question` id and the chosen `option` id."""
    question_id = single(data, "question", what="the question")
    if question_id is None:
        raise BadSubmission(f"The form did not say which question it answers. {RELOAD}")
    question = quiz.question(question_id)
    if question is None:
        raise BadSubmission(f"This quiz has no question '{question_id}' any more. {RELOAD}")
    option_id = single(data, "option", what="this question", question_id=question.id)
    if option_id is None:
        raise BadSubmission(
            "Choose one of the options before checking your answer.", question_id=question.id
        )
    _option_checked(question, option_id)
    return question, option_id


def parse_test_answers(data: FormData, quiz: Quiz, *, require_all: bool) -> dict[str, str]:
    """Module-test fields `q-<question id>` -> {question id: option id}.

    Saving part-way through accepts any subset; submitting (`require_all`) names every
    unanswered question by its number so the learner can find it.
    """
    answers: dict[str, str] = {}
    for name in data:
        if not name.startswith(ANSWER_PREFIX):
            continue
        question_id = name.removeprefix(ANSWER_PREFIX)
        question = quiz.question(question_id)
        if question is None:
            raise BadSubmission(f"This test has no question '{question_id}' any more. {RELOAD}")
        option_id = single(
            data,
            name,
            what=f"question {quiz.questions.index(question) + 1}",
            question_id=question_id,
        )
        if option_id is not None:
            _option_checked(question, option_id)
            answers[question_id] = option_id
    if require_all:
        missing = [n for n, q in enumerate(quiz.questions, start=1) if q.id not in answers]
        if missing:
            numbers = ", ".join(str(n) for n in missing)
            plural = "s" if len(missing) > 1 else ""
            raise BadSubmission(
                f"Answer every question before submitting: question{plural} {numbers} "
                f"{'are' if plural else 'is'} unanswered. Your other choices are kept below.",
                question_id=quiz.questions[missing[0] - 1].id,
                unanswered=tuple(quiz.questions[n - 1].id for n in missing),
            )
    return answers


def posted_choices(data: FormData, quiz: Quiz) -> dict[str, str]:
    """The well-formed choices in a form that was refused, so the page can show them again."""
    choices = {}
    for question in quiz.questions:
        values = [v for v in data.get(answer_field(question.id), ()) if v]
        if len(values) == 1 and question.option(values[0]) is not None:
            choices[question.id] = values[0]
    return choices
