from __future__ import annotations

import pytest

from course.content import Option, Question, Quiz
from quizzes.submission import (
    BadSubmission,
    parse_attempt_id,
    parse_quiz_answer,
    parse_test_answers,
    posted_choices,
)

QUIZ = Quiz(
    "lesson",
    "Quiz",
    tuple(
        Question(f"q{i}", "P", tuple(Option(o, o, o == "a") for o in "abcd"), "C", "N")
        for i in (1, 2, 3)
    ),
)


def test_a_quiz_answer_names_the_question_and_option():
    question, option = parse_quiz_answer({"question": ["q2"], "option": ["c"]}, QUIZ)
    assert (question.id, option) == ("q2", "c")


@pytest.mark.parametrize(
    ("data", "message", "question_id"),
    [
        ({"question": ["q9"], "option": ["a"]}, "no question 'q9'", ""),
        ({"question": ["q1"], "option": ["z"]}, "not one of the options", "q1"),
        ({"question": ["q1"]}, "Choose one of the options", "q1"),
        ({"question": ["q1"], "option": [""]}, "Choose one of the options", "q1"),
        ({"question": ["q1"], "option": ["a", "b"]}, "2 values", "q1"),
        ({"question": ["q1", "q2"], "option": ["a"]}, "2 values", ""),
        ({"option": ["a"]}, "did not say which question", ""),
    ],
)
def test_bad_quiz_forms_are_refused_with_a_learner_message(data, message, question_id):
    with pytest.raises(BadSubmission, match=message) as caught:
        parse_quiz_answer(data, QUIZ)
    assert caught.value.status == 400
    assert caught.value.question_id == question_id


def test_test_answers_may_be_partial_while_saving():
    data = {"attempt": ["5"], "q-q1": ["a"], "q-q3": ["d"], "csrfmiddlewaretoken": ["x"]}
    assert parse_test_answers(data, QUIZ, require_all=False) == {"q1": "a", "q3": "d"}


@pytest.mark.parametrize(
    ("data", "require_all", "message"),
    [
        ({"q-q1": ["a"], "q-q2": ["b"]}, True, "question 3 is unanswered"),
        ({"q-q1": ["a"]}, True, "questions 2, 3 are unanswered"),
        ({"q-q1": ["a"], "q-q2": ["b"], "q-q3": ["c"], "q-q7": ["a"]}, False, "no question 'q7'"),
        ({"q-q1": ["nope"]}, False, "not one of the options"),
        ({"q-q1": ["a", "b"]}, False, "2 values for question 1"),
    ],
)
def test_bad_test_forms_are_refused(data, require_all, message):
    with pytest.raises(BadSubmission, match=message):
        parse_test_answers(data, QUIZ, require_all=require_all)


@pytest.mark.parametrize(
    ("raw", "expected"), [(["12"], 12), (["0"], None), (["abc"], None), (["1.5"], None),
                          (["١٢"], None), ([], None), (["3", "4"], None), (["-2"], None)]
)  # fmt: skip
def test_attempt_ids_must_be_one_positive_whole_number(raw, expected):
    if expected is None:
        with pytest.raises(BadSubmission):
            parse_attempt_id({"attempt": raw})
    else:
        assert parse_attempt_id({"attempt": raw}) == expected


def test_posted_choices_keeps_only_the_well_formed_ones():
    data = {"q-q1": ["a"], "q-q2": ["zz"], "q-q3": ["a", "b"], "q-q9": ["a"]}
    assert posted_choices(data, QUIZ) == {"q1": "a"}
