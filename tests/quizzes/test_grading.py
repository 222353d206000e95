from __future__ import annotations

import pytest

from course.content import Option, Question, Quiz
from quizzes.grading import InvalidAnswers, grade, grade_question, needed_to_pass, passes, percent


def _question(qid: str, correct: str = "b", feedback: dict[str, str] | None = None) -> Question:
    feedback = feedback or {}
    options = tuple(
        Option(oid, f"Option {oid}", oid == correct, feedback.get(oid, "")) for oid in "abcd"
    )
    return Question(qid, f"Prompt {qid}", options, f"Correct. {qid}", f"Not quite. {qid}")


QUESTION = _question("q1", feedback={"c": "C confuses pacing with waiting."})


@pytest.mark.parametrize(
    ("option_id", "correct", "explanation", "feedback"),
    [
        ("b", True, "Correct. q1", ""),
        ("a", False, "Not quite. q1", ""),
        ("c", False, "Not quite. q1", "C confuses pacing with waiting."),
        ("d", False, "Not quite. q1", ""),
    ],
)
def test_grade_question_gives_the_stored_explanation_and_option_feedback(
    option_id, correct, explanation, feedback
):
    verdict = grade_question(QUESTION, option_id)
    assert verdict.correct is correct
    assert verdict.explanation == explanation
    assert verdict.feedback == feedback
    assert verdict.correct_option.id == "b"
    assert verdict.chosen.id == option_id


def test_an_option_of_another_question_is_refused():
    with pytest.raises(InvalidAnswers, match="not an option"):
        grade_question(QUESTION, "z")


QUIZ = Quiz("lesson", "Lesson quiz", tuple(_question(f"q{i}", "abcd"[i % 4]) for i in range(3)))


@pytest.mark.parametrize(
    ("answers", "score"),
    [
        ({"q0": "a", "q1": "b", "q2": "c"}, 3),
        ({"q0": "a", "q1": "b", "q2": "d"}, 2),
        ({"q0": "b", "q1": "a", "q2": "c"}, 1),
        ({"q0": "d", "q1": "d", "q2": "d"}, 0),
    ],
)
def test_grade_counts_correct_answers_in_quiz_order(answers, score):
    result = grade(QUIZ, answers, pass_mark=80)
    assert result.score == score
    assert result.total == 3
    assert [v.question.id for v in result.verdicts] == ["q0", "q1", "q2"]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"q0": "a", "q1": "b"}, "unanswered question.*q2"),
        ({"q0": "a", "q1": "b", "q2": "c", "q9": "a"}, "unknown question.*q9"),
        ({"q0": "a", "q1": "b", "q2": "x"}, "not an option"),
    ],
)
def test_grade_refuses_incomplete_or_foreign_answers(answers, message):
    with pytest.raises(InvalidAnswers, match=message):
        grade(QUIZ, answers, pass_mark=80)


@pytest.mark.parametrize(
    ("score", "total", "pass_mark", "passed"),
    [
        (12, 15, 80, True),  # exactly 80 %: passes
        (11, 15, 80, False),  # 73 %
        (15, 15, 80, True),
        (0, 15, 80, False),
        (4, 5, 80, True),
        (3, 5, 80, False),
        (1, 3, 34, False),  # 33.3 % is below 34 %
        (1, 3, 33, True),
        (0, 0, 80, False),  # an empty test never passes
    ],
)
def test_pass_mark_boundary(score, total, pass_mark, passed):
    assert passes(score, total, pass_mark) is passed


def test_grading_a_whole_test_applies_the_80_percent_boundary():
    test = Quiz("test", "Test", tuple(_question(f"t{i}") for i in range(15)), is_test=True)
    twelve = {f"t{i}": ("b" if i < 12 else "a") for i in range(15)}
    eleven = {f"t{i}": ("b" if i < 11 else "a") for i in range(15)}
    assert (grade(test, twelve, 80).score, grade(test, twelve, 80).passed) == (12, True)
    assert (grade(test, eleven, 80).score, grade(test, eleven, 80).passed) == (11, False)


@pytest.mark.parametrize(
    ("total", "pass_mark", "needed"), [(15, 80, 12), (3, 80, 3), (10, 75, 8), (15, 100, 15)]
)
def test_needed_to_pass(total, pass_mark, needed):
    assert needed_to_pass(total, pass_mark) == needed
    assert passes(needed, total, pass_mark) and not passes(needed - 1, total, pass_mark)


@pytest.mark.parametrize(
    ("score", "total", "shown"), [(12, 15, 80), (11, 15, 73), (2, 3, 66), (0, 0, 0)]
)
def test_percent_rounds_down(score, total, shown):
    assert percent(score, total) == shown
