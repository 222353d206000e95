"""A learner who uses only the keyboard: sign up, the lesson quiz, and a chat with the coach.

No clicks: every control is reached with Tab (`Visitor.tab_to`) and used with Enter, Space,
the arrow keys or typing. Where focus goes after each action is part of what is checked.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, expect

from tests.e2e import course_facts as facts
from tests.e2e import steps
from tests.e2e.browser import Visitor

pytestmark = pytest.mark.e2e

FOCUSED = "el => el === document.activeElement"


def has_focus(locator: Locator) -> bool:
    return locator.evaluate(FOCUSED)


def sign_up_by_keyboard(visitor: Visitor, username: str) -> None:
    page = visitor.goto("/accounts/signup/", "sign up")
    for label, text in (
        ("Username", username),
        ("Email", steps.email_of(username)),
        ("Password", steps.PASSWORD),
        ("Password confirmation", steps.PASSWORD),
    ):
        visitor.tab_to(page.get_by_label(label, exact=True))
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_be_visible()
    visitor.check("home signed in")


def choose_option(visitor: Visitor, question, option_id: str) -> None:
    """Tab into the question's radio group, arrow to the option, Tab to the button, Enter."""
    page = visitor.page
    radios = page.locator(f"#q-{question.id}-body input[type=radio]")
    visitor.tab_to(radios.first)
    # The options' order is the attempt's own (shuffled), so read it from the page.
    ids = radios.evaluate_all("inputs => inputs.map(input => input.value)")
    # Arrow keys move through the group and check what they land on, as in every browser.
    for _ in range(ids.index(option_id)):
        page.keyboard.press("ArrowDown")
    if ids.index(option_id) == 0:
        page.keyboard.press("Space")
    chosen = page.locator(f"#q-{question.id}-{option_id}")
    expect(chosen).to_be_checked()
    assert has_focus(chosen), "focus left the option the learner chose"
    visitor.tab_to(page.locator(f"#q-{question.id}-body").get_by_role("button"))
    page.keyboard.press("Enter")


def answer_quiz_by_keyboard(visitor: Visitor, lesson) -> None:
    quiz = facts.lesson_quiz(lesson)
    page = visitor.goto(steps.quiz_url(lesson), "quiz by keyboard")
    page.evaluate(steps.NO_RELOAD_MARK)
    for index, question in enumerate(quiz.questions):
        wrong = index == 0
        option_id = facts.wrong_option_id(question) if wrong else question.correct_option.id
        choose_option(visitor, question, option_id)
        feedback = page.locator(f"#q-{question.id}-feedback")
        explanation = question.explanation_incorrect if wrong else question.explanation_correct
        expect(feedback).to_contain_text(facts.plain(explanation))
        # The answered question takes the focus: the next Tab goes on from here, not from the top.
        body = page.locator(f"#q-{question.id}-body")
        expect(body).to_have_class(re.compile("is-answered"))
        page.wait_for_function(
            "id => document.getElementById(id)?.contains(document.activeElement)",
            arg=f"q-{question.id}-body",
        )
    assert page.evaluate(steps.STILL_HERE), "answering by keyboard reloaded the page"
    total = len(quiz.questions)
    expect(page.locator("#quiz-summary-body")).to_contain_text(
        f"You scored {total - 1} out of {total}"
    )
    visitor.check("quiz answered by keyboard")


def chat_by_keyboard(visitor: Visitor, lab) -> None:
    page = steps.open_lab(visitor, lab, "lab by keyboard")
    box = page.get_by_label("Your message")
    replies = page.locator(steps.FINISHED_REPLIES)
    before = replies.count()
    visitor.tab_to(page.get_by_role("button", name="Use the suggested opener"))
    page.keyboard.press("Enter")
    expect(box).to_have_value(lab.opener)
    assert has_focus(box), "the opener is in the box but the focus is not"
    # Enter sends (Shift+Enter would start a new line).
    page.keyboard.press("Enter")
    expect(page.locator(".chat-user .chat-text").last).to_have_text(lab.opener)
    expect(box).to_have_value("")
    expect(replies).to_have_count(before + 1)
    expect(page.locator("#transcript")).to_have_attribute("aria-busy", "false")
    assert has_focus(box), "after sending, the focus left the message box"
    # Ready for the next message at once: typing goes straight into the box.
    page.keyboard.type("And what about 529?")
    expect(box).to_have_value("And what about 529?")
    visitor.check("lab reply by keyboard")


def test_it_answers_a_quiz_and_chats_using_only_the_keyboard(tour):
    learner = tour.visitor("keyboard learner")
    lesson = facts.first_lesson()
    sign_up_by_keyboard(learner, "e2e-keyboard")
    answer_quiz_by_keyboard(learner, lesson)
    chat_by_keyboard(learner, facts.lesson_lab(lesson))
