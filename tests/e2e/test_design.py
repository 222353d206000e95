"""Design: the theme follows the system until the visitor chooses, the choice is remembered,
and a 390 px phone never scrolls sideways; the lab's conversation and input share its screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import course_facts as facts
from tests.e2e import steps
from tests.e2e.browser import Visitor

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
BACKGROUND = "() => getComputedStyle(document.documentElement).backgroundColor"
WHITE, DARK = "rgb(255, 255, 255)", "rgb(15, 19, 24)"


def page_width(visitor: Visitor) -> int:
    return int(visitor.page.evaluate("() => document.documentElement.scrollWidth"))


def test_it_follows_the_system_theme_until_the_toggle_sets_one_that_is_remembered(tour):
    visitor = tour.visitor("reader")
    page = visitor.page
    page.emulate_media(color_scheme="light")
    visitor.goto(steps.lesson_url(facts.first_lesson()), "lesson 1 light")
    toggle = page.get_by_role("button", name="Dark theme")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert page.evaluate(BACKGROUND) == WHITE

    page.emulate_media(color_scheme="dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(BACKGROUND) == DARK
    visitor.check("lesson 1 with a dark system setting")

    toggle.click()  # a light theme on a dark system
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert page.evaluate(BACKGROUND) == WHITE
    page.reload()
    # Applied in <head> before the first paint, so the page never flashes the other theme.
    assert page.evaluate("() => document.documentElement.dataset.theme") == "light"
    assert page.evaluate(BACKGROUND) == WHITE
    visitor.check("lesson 1 light by choice on a dark system")

    page.emulate_media(color_scheme="light")
    page.get_by_role("button", name="Dark theme").click()
    visitor.goto("/", "home dark by choice on a light system")
    assert page.evaluate(BACKGROUND) == DARK
    expect(page.get_by_role("button", name="Dark theme")).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_learner_page_is_wider_than_a_phone(tour, theme):
    visitor = tour.visitor("phone")
    visitor.page.set_viewport_size(PHONE)
    visitor.page.emulate_media(color_scheme=theme)
    steps.sign_up(visitor, f"e2e-phone-{theme}")
    lesson = facts.first_lesson()
    for path, label in (
        ("/", "home"),
        (steps.lesson_url(lesson), "lesson 1"),
        (steps.quiz_url(lesson), "quiz 1"),
        (steps.test_url(), "module test"),
        ("/progress/", "my progress"),
    ):
        visitor.goto(path, f"{label} at 390 px {theme}")
        assert page_width(visitor) <= PHONE["width"], f"{label} is {page_width(visitor)} px wide"


def test_the_lab_conversation_and_its_input_share_a_phone_screen(tour):
    visitor = tour.visitor("phone")
    visitor.page.set_viewport_size(PHONE)
    steps.sign_up(visitor, "e2e-phone-lab")
    lab = facts.lesson_lab(facts.first_lesson())
    steps.chat_with_coach(visitor, lab)
    page = visitor.page
    page.goto(visitor.base_url + steps.lab_url(lab))  # a fresh visit: the input is focused
    page.wait_for_function(steps.CHAT_OPEN)
    visitor.check("lab 1 on a phone")
    box = page.get_by_label("Your message")
    expect(box).to_be_focused()
    transcript = page.locator("#transcript").bounding_box()
    send = page.get_by_role("button", name="Send", exact=True).bounding_box()
    assert transcript and send
    assert transcript["y"] >= 0, f"the transcript starts above the screen: {transcript}"
    assert transcript["height"] >= 160, f"the transcript is too short to read: {transcript}"
    assert send["y"] + send["height"] <= PHONE["height"], f"Send is below the screen: {send}"
    assert page_width(visitor) <= PHONE["width"]
