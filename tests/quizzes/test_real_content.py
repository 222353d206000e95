"""The real module 8 content, taken end to end through the same views learners use."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from course.registry import get_module
from course.rendering import render_inline
from quizzes.models import Attempt
from tests.conftest import REPO

CONTENT = REPO / "content"


@pytest.fixture
def real_module(settings):
    settings.CONTENT_DIR = CONTENT
    module = get_module("production-patterns")
    assert module is not None, "content/module-08-production-patterns is missing"
    return module


def test_every_lesson_has_a_three_question_quiz_and_the_test_has_fifteen(real_module):
    assert sorted(real_module.quizzes) == sorted(lesson.slug for lesson in real_module.lessons)
    assert all(len(quiz.questions) == 3 for quiz in real_module.quizzes.values())
    assert real_module.test is not None and len(real_module.test.questions) == 15
    assert real_module.pass_mark == 80


def test_every_lesson_quiz_can_be_taken_with_feedback(learner_client, real_module):
    for slug, quiz in real_module.quizzes.items():
        url = reverse("quiz", args=[real_module.slug, slug])
        page = learner_client.get(url).content.decode()
        for question in quiz.questions:  # the answer key stays out until answered
            assert render_inline(question.explanation_correct) not in page
            assert render_inline(question.explanation_incorrect) not in page
        for question in quiz.questions:
            response = learner_client.post(
                url,
                {"question": question.id, "option": question.correct_option.id},
                HTTP_HX_REQUEST="true",
            )
            assert response.status_code == 200
            assert "Your answer · correct" in response.content.decode()
        assert "You scored 3 out of 3" in learner_client.get(url).content.decode()


def test_the_module_test_can_be_taken_and_reviewed(learner_client, real_module):
    learner_client.post(reverse("module_test_start", args=[real_module.slug]))
    attempt = Attempt.objects.get(quiz="test")
    page = learner_client.get(reverse("module_test", args=[real_module.slug])).content.decode()
    assert page.count('<fieldset class="question"') == 15
    answers = {f"q-{q.id}": q.correct_option.id for q in real_module.test.questions}
    wrong_three = list(answers)[:3]
    for field in wrong_three:
        question = real_module.test.question(field.removeprefix("q-"))
        answers[field] = next(o.id for o in question.options if not o.correct)
    response = learner_client.post(
        reverse("module_test_submit", args=[real_module.slug]),
        {"attempt": attempt.pk, **answers},
        follow=True,
    )
    html = response.content.decode()
    assert "Passed: 12 out of 15" in html
    assert len(re.findall(r'class="question review"', html)) == 15
