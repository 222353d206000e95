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


def test_it_takes_the_whole_module_as_a_learner(tour):
    learner = tour.visitor("learner")
    lesson = facts.first_lesson()
    lab = facts.lesson_lab(lesson)
    steps.sign_up(learner, "e2e-learner")
    steps.read_first_lesson(learner)
    steps.answer_quiz(learner, lesson)
    reply = steps.chat_with_coach(learner, lab)
    steps.reload_sees_conversation(learner, lab, reply)
    steps.run_rate_limit_drill(learner, lab)
    failing, passing = facts.failing_and_passing(facts.module_test(), facts.module().pass_mark)
    results = [
        steps.submit_module_test(learner, failing, "failing"),
        steps.submit_module_test(learner, passing, "passing"),
    ]
    assert results[0].startswith("Not passed yet"), results[0]
    assert results[1].startswith("Passed"), results[1]
    steps.see_progress(learner, results)
