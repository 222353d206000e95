"""Lesson quizzes: "Try again" starts a new attempt with the options in a new order. The module
test: a submit with gaps marks every unanswered question and shows the first one above the
sticky Submit bar, and the answered counter follows every choice."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import course_facts as facts
from tests.e2e import steps

pytestmark = pytest.mark.e2e

OPTION_ORDER = "() => Array.from(document.querySelectorAll('input[name=option]'), i => i.id)"


def test_try_again_starts_a_new_attempt_with_the_options_in_a_new_order(tour):
    learner = tour.visitor("learner")
    steps.sign_up(learner, "e2e-retry")
    lesson = facts.first_lesson()
    quiz = facts.lesson_quiz(lesson)
    page = learner.goto(steps.quiz_url(lesson), "quiz 1")
    first_order = page.evaluate(OPTION_ORDER)
    page.reload()
    assert page.evaluate(OPTION_ORDER) == first_order, "the order changed on a reload"

    question = quiz.questions[0]
    page.locator(f"label[for='q-{question.id}-{facts.wrong_option_id(question)}']").click()
    page.locator(f"#q-{question.id}-body").get_by_role("button", name="Check answer").click()
    expect(page.locator(f"#q-{question.id}-feedback .verdict-wrong")).to_be_visible()
    summary = page.locator("#quiz-summary-body")
    expect(summary).to_contain_text(f"1 of {len(quiz.questions)} answered in this attempt")
    learner.check("quiz 1 one answer wrong")

    summary.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("status").first).to_contain_text("A new attempt")
    learner.check("quiz 1 new attempt")
    # Every question can be answered again, and the options are in a new order.
    expect(page.get_by_role("button", name=re.compile("^Check answer"))).to_have_count(
        len(quiz.questions)
    )
    assert page.evaluate(OPTION_ORDER) != first_order
    steps.answer_quiz(learner, lesson, wrong_first=False)


def test_submitting_the_test_with_gaps_marks_every_gap_and_shows_the_first(tour):
    learner = tour.visitor("learner")
    learner.page.set_viewport_size({"width": 390, "height": 844})
    steps.sign_up(learner, "e2e-gaps")
    test = facts.module_test()
    page = learner.goto(steps.test_url(), "module test before starting")
    page.get_by_role("button", name="Start the test").click()
    learner.check("module test started")
    counter = page.locator("#answered-count")
    expect(counter).to_have_text("0")

    answered = {q.id: q.correct_option.id for i, q in enumerate(test.questions) if i % 3 == 0}
    for count, (question_id, option_id) in enumerate(answered.items(), start=1):
        page.locator(f"label[for='tq-{question_id}-{option_id}']").click()
        expect(counter).to_have_text(str(count))  # before any save comes back
    total = len(test.questions)
    expect(page.locator("#save-status")).to_contain_text(f"{len(answered)} of {total} answered")

    page.evaluate(steps.NO_RELOAD_MARK)
    page.get_by_role("button", name="Submit the test").click()
    gaps = [q for q in test.questions if q.id not in answered]
    marked = page.locator("fieldset.question.is-unanswered")
    expect(marked).to_have_count(len(gaps))
    assert page.evaluate(steps.STILL_HERE), "a submit with gaps left the page"
    expect(page.locator("#gap-status")).to_contain_text("not answered yet")
    first = page.locator(f"#tq-{gaps[0].id}")
    expect(first.locator("input[type=radio]").first).to_be_focused()
    # The first gap is on screen and not under the sticky Submit bar.
    box = first.bounding_box()
    bar = page.locator(".test-actions").bounding_box()
    assert box and bar and box["y"] >= 0, box
    assert box["y"] + 40 <= bar["y"], f"the question's start is behind the Submit bar: {box} {bar}"
    for gap in gaps:
        expect(page.locator(f"#tq-{gap.id}")).to_contain_text("Not answered yet")
    learner.check("module test with gaps marked")

    # Answering a gap clears its mark and counts at once.
    page.locator(f"label[for='tq-{gaps[0].id}-{gaps[0].correct_option.id}']").click()
    expect(marked).to_have_count(len(gaps) - 1)
    expect(counter).to_have_text(str(len(answered) + 1))
    for gap in gaps[1:]:
        page.locator(f"label[for='tq-{gap.id}-{gap.correct_option.id}']").click()
    expect(counter).to_have_text(str(total))
    expect(marked).to_have_count(0)
    page.get_by_role("button", name="Submit the test").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(" out of ")
    learner.check("module test result")
