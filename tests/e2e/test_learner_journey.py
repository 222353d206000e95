"""A learner's path through module 8 in a real browser; every page screenshotted and audited."""

from __future__ import annotations

import pytest

from tests.e2e import course_facts as facts
from tests.e2e import steps

pytestmark = pytest.mark.e2e


def test_it_signs_up_reads_lesson_one_and_answers_quiz_one(tour):
    learner = tour.visitor("learner")
    steps.sign_up(learner, "e2e-reader")
    steps.read_first_lesson(learner)
    steps.answer_quiz(learner, facts.first_lesson())
