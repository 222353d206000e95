"""Journey steps a learner takes, shared by the learner, instructor and keyboard journeys."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e import course_facts as facts
from tests.e2e.browser import Visitor

PASSWORD = "a long learner passphrase 42"
# Marks the window object; if it survives an action, the page was not reloaded.
NO_RELOAD_MARK = "window.__journeyMark = 'still here'"
STILL_HERE = "() => window.__journeyMark === 'still here'"


def sign_up(visitor: Visitor, username: str) -> None:
    page = visitor.goto("/", "home anonymous")
    page.get_by_role("link", name="Sign up").first.click()
    visitor.check("sign up")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_be_visible()
    visitor.check("home signed in")


def log_in(visitor: Visitor, username: str, password: str) -> None:
    page = visitor.goto("/accounts/login/", "log in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_be_visible()
    visitor.check(f"home as {username}")


def lesson_url(lesson) -> str:
    return f"/modules/{facts.module().slug}/lessons/{lesson.slug}/"


def quiz_url(lesson) -> str:
    return f"/modules/{facts.module().slug}/quizzes/{lesson.slug}/"


def lab_url(lab) -> str:
    return f"/modules/{facts.module().slug}/labs/{lab.slug}/"


def test_url() -> str:
    return f"/modules/{facts.module().slug}/test/"


def read_first_lesson(visitor: Visitor) -> None:
    lesson = facts.first_lesson()
    page = visitor.page
    page.get_by_role("link", name=re.compile(re.escape(lesson.title))).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(lesson.title)
    visitor.check("lesson 1")
    page.evaluate(NO_RELOAD_MARK)
    page.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_text("You marked this lesson as read.")).to_be_visible()
    assert page.evaluate(STILL_HERE), "marking the lesson read reloaded the page"
    visitor.check("lesson 1 read")


def answer_quiz(visitor: Visitor, lesson, *, wrong_first: bool = True) -> None:
    """Answer every question; the first one wrong. Each explanation appears without a reload."""
    quiz = facts.lesson_quiz(lesson)
    page = visitor.goto(quiz_url(lesson), "quiz 1")
    page.evaluate(NO_RELOAD_MARK)
    for index, question in enumerate(quiz.questions):
        wrong = wrong_first and index == 0
        option_id = facts.wrong_option_id(question) if wrong else question.correct_option.id
        page.locator(f"label[for='q-{question.id}-{option_id}']").click()
        page.locator(f"#q-{question.id}-body").get_by_role("button", name="Check answer").click()
        feedback = page.locator(f"#q-{question.id}-feedback")
        explanation = question.explanation_incorrect if wrong else question.explanation_correct
        expect(feedback).to_contain_text(facts.plain(explanation))
        expect(feedback.locator(".verdict-wrong" if wrong else ".verdict-right")).to_be_visible()
    assert page.evaluate(STILL_HERE), "answering a quiz question reloaded the page"
    total = len(quiz.questions)
    expect(page.locator("#quiz-summary-body")).to_contain_text(
        f"You scored {total - 1 if wrong_first else total} out of {total}"
    )
    visitor.check("quiz 1 answered")


def submit_module_test(visitor: Visitor, answers: dict[str, str], label: str) -> str:
    """Start an attempt, choose every answer, submit; return the result heading."""
    page = visitor.goto(test_url(), f"module test before {label}")
    page.get_by_role("button", name="Start the test").click()
    visitor.check(f"module test {label} started")
    for question_id, option_id in answers.items():
        page.locator(f"#tq-{question_id}-{option_id}").check()
    expect(page.locator("#save-status")).to_contain_text(f"{len(answers)} of {len(answers)}")
    page.get_by_role("button", name="Submit the test").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(" out of ")
    visitor.check(f"module test {label} result")
    return heading.inner_text()
