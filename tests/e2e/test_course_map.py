"""Home as a course map: each lesson with its quiz and lab, overall progress, and "Continue"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import course_facts as facts
from tests.e2e import steps

pytestmark = pytest.mark.e2e


def test_it_shows_each_lesson_with_its_quiz_and_lab_and_continues_where_the_learner_left_off(tour):
    learner = tour.visitor("learner")
    steps.sign_up(learner, "e2e-mapper")
    page = learner.page
    module = facts.module()
    blocks = page.locator(".map-block")
    expect(blocks).to_have_count(len(module.lessons) + 1)  # and the module test
    for index, lesson in enumerate(module.lessons):
        block = blocks.nth(index)
        expect(block.get_by_role("link", name=lesson.title)).to_be_visible()
        expect(block.get_by_role("link", name=f"Lesson {lesson.number} quiz")).to_be_visible()
        lab = facts.lesson_lab(lesson)
        expect(block.get_by_role("link", name=lab.title)).to_be_visible()
        expect(block).to_contain_text("Not read yet")
    total = len(module.lessons) * 3 + 1
    expect(page.locator(".progress-figure")).to_have_text(f"0 of {total} steps done")

    first = facts.first_lesson()
    page.get_by_role("link", name=re.compile(r"^Start")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first.title)
    learner.check("lesson 1 from Start")
    page.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_text("You marked this lesson as read.")).to_be_visible()

    learner.goto("/", "home after lesson 1")
    expect(page.locator(".progress-figure")).to_have_text(f"1 of {total} steps done")
    expect(page.locator("progress")).to_have_attribute("value", "1")
    expect(blocks.first.locator(".map-lesson")).to_contain_text("Read")
    continue_button = page.get_by_role("link", name=re.compile(r"^Continue"))
    expect(continue_button).to_contain_text("Lesson 1 quiz")

    # One answer: the quiz is in progress, and Continue leads back to it.
    quiz = facts.lesson_quiz(first)
    question = quiz.questions[0]
    continue_button.click()
    learner.check("quiz 1 from Continue")
    page.locator(f"label[for='q-{question.id}-{question.correct_option.id}']").click()
    page.locator(f"#q-{question.id}-body").get_by_role("button", name="Check answer").click()
    expect(page.locator(f"#q-{question.id}-feedback")).not_to_be_empty()
    learner.goto("/", "home with quiz 1 in progress")
    expect(blocks.first.locator(".map-quiz")).to_contain_text(
        f"In progress · 1 of {len(quiz.questions)} answered"
    )
    expect(page.get_by_role("link", name=re.compile(r"^Continue"))).to_have_attribute(
        "href", steps.quiz_url(first)
    )
