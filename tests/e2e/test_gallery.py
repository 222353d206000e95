"""Every page a visitor can reach, at 390 px and 1280 px in the light and the dark theme: each
screenshotted into artifacts/e2e/, checked with axe (no serious or critical violation) and never
wider than the screen. The journeys test behaviour; these tests are the complete picture."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from playwright.sync_api import expect

from tests.e2e import course_facts as facts
from tests.e2e import steps
from tests.e2e.browser import Visitor
from tests.e2e.conftest import INSTRUCTOR

# Four screenshots and four axe runs per page take longer than the suite's usual test.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def show(visitor: Visitor, path: str, label: str) -> None:
    visitor.page.goto(visitor.base_url + path)
    visitor.check_everywhere(label)


def course_pages(visitor: Visitor, prefix: str) -> None:
    module = facts.module()
    for lesson in module.lessons:
        show(visitor, steps.lesson_url(lesson), f"{prefix} lesson {lesson.number}")
        show(visitor, steps.quiz_url(lesson), f"{prefix} quiz {lesson.number}")
        lab = module.lab_for_lesson(lesson.slug)
        if lab is not None:
            show(visitor, steps.lab_url(lab), f"{prefix} lab {lab.number}")


def learner_with_history(visitor: Visitor, username: str) -> str:
    """Sign up, read lesson 1, answer its quiz, chat in its lab, fail the test once; return the
    test result's path."""
    first = facts.first_lesson()
    steps.sign_up(visitor, username)
    steps.read_first_lesson(visitor)
    steps.answer_quiz(visitor, first)
    steps.chat_with_coach(visitor, facts.lesson_lab(first))
    failing, _ = facts.failing_and_passing(facts.module_test(), facts.module().pass_mark)
    steps.submit_module_test(visitor, failing, "for the gallery")
    return visitor.page.url.removeprefix(visitor.base_url)


def conversation_path(visitor: Visitor) -> str:
    visitor.page.goto(visitor.base_url + "/progress/")
    visitor.check("my progress, for the conversation link")
    link = visitor.page.locator("a[href*='/conversations/']").first.get_attribute("href")
    assert link, "My progress lists no lab conversation"
    return link


def test_every_page_of_an_anonymous_visitor(tour):
    anonymous = tour.visitor("anonymous")
    module = facts.module()
    for path, label in (
        ("/", "home"),
        ("/accounts/login/", "log in"),
        ("/accounts/signup/", "sign up"),
        ("/accounts/password/reset/", "reset password"),
        ("/accounts/password/reset/sent/", "reset link sent"),
        ("/accounts/password/reset/MQ/not-a-token/", "reset link invalid"),
        (f"/modules/{module.slug}/lessons/no-such-lesson/", "404 unknown lesson"),
    ):
        show(anonymous, path, label)
    course_pages(anonymous, "anonymous")


def test_every_page_of_a_learner(tour):
    learner = tour.visitor("learner")
    result = learner_with_history(learner, "e2e-gallery")
    show(learner, "/", "home with progress")
    course_pages(learner, "learner")
    show(learner, result, "test result")
    show(learner, steps.test_url(), "module test start")
    page = learner.page
    page.get_by_role("button", name="Start the test").click()
    learner.check_everywhere("module test in progress")
    page.get_by_role("button", name="Submit the test").click()  # every question unanswered
    expect(page.locator("fieldset.question.is-unanswered").first).to_be_visible()
    learner.check_everywhere("module test with gaps")
    show(learner, "/progress/", "my progress")
    show(learner, "/accounts/", "account")
    show(learner, "/accounts/password/change/", "change password")
    show(learner, "/analytics/", "403 analytics as a learner")
    conversation = conversation_path(learner)

    other = tour.visitor("other learner")
    steps.sign_up(other, "e2e-gallery-other")
    show(other, conversation, "404 another learner's conversation")


def test_every_page_of_an_instructor(tour):
    learner = tour.visitor("learner")
    learner_with_history(learner, "e2e-gallery-observed")
    conversation = conversation_path(learner)

    instructor = tour.visitor("instructor")
    steps.log_in(instructor, *INSTRUCTOR)
    for path, label in (
        ("/analytics/", "analytics"),
        ("/labs/instructor/", "lab conversations"),
        (conversation, "a learner's conversation, read-only"),
        ("/ops/", "operations"),
        ("/ops/runbook/", "runbook"),
    ):
        show(instructor, path, label)

    # The 500 page is rendered without the request; shown here as the server would send it.
    instructor.page.goto(instructor.base_url + "/")
    instructor.check("home before the 500 page")
    instructor.page.set_content(render_to_string("500.html"))
    expect(instructor.page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Something went wrong")
    )
    instructor.check_everywhere("500")
