"""What a learner sees when the site says no: a message too long for the chat, a chat whose
session logged out in another tab, a login paused after too many wrong passwords. Each at
phone and desktop width, in the light and the dark theme."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import course_facts as facts
from tests.e2e import steps
from tests.e2e.browser import Visitor

pytestmark = pytest.mark.e2e

LIMIT = 4000  # CHAT_MAX_MESSAGE_CHARS's default, which the test site keeps
WIDTHS = {"phone": 390, "desktop": 1280}


def look(visitor: Visitor, label: str) -> None:
    """Check the page as it is at each width and theme (a screenshot and axe each time)."""
    page = visitor.page
    for width_name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        for theme in ("light", "dark"):
            page.emulate_media(color_scheme=theme)
            visitor.check(f"{label} {width_name} {theme}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="light")


def sockets_opened(page) -> list[str]:
    opened: list[str] = []
    page.on("websocket", lambda ws: opened.append(ws.url))
    return opened


def test_a_message_over_the_limit_is_refused_on_the_page_and_kept(tour):
    visitor = tour.visitor("long-writer")
    steps.sign_up(visitor, "long-writer")
    lab = facts.lesson_lab(facts.first_lesson())
    page = steps.open_lab(visitor, lab, "lab before a long message")
    text = "Why does jitter help? " * 250  # 5,500 characters
    box = page.get_by_label("Your message")
    box.fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    alert = page.locator("#chat-alert")
    expect(alert).to_contain_text(
        f"That message is {len(text):,} characters long; the limit is {LIMIT:,}."
    )
    expect(box).to_have_value(text)  # nothing the learner typed is lost
    assert page.evaluate(steps.CHAT_OPEN), "the chat's socket closed over a long message"
    expect(page.locator(".chat-user")).to_have_count(0)  # nothing was sent
    look(visitor, "lab message too long")


def test_logging_out_in_another_tab_closes_the_chat_without_reconnecting(tour):
    visitor = tour.visitor("leaver")
    steps.sign_up(visitor, "leaver")
    lab = facts.lesson_lab(facts.first_lesson())
    page = steps.open_lab(visitor, lab, "lab before logging out elsewhere")
    opened = sockets_opened(page)
    other = visitor.context.new_page()
    other.goto(visitor.base_url + "/")
    other.get_by_role("button", name=re.compile("Log out")).click()
    expect(other.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    other.close()
    expect(page.locator("#chat-status")).to_have_text(
        "You have logged out, so the chat is closed. Log in again to keep chatting."
    )
    page.wait_for_timeout(2000)  # hx-ws would have tried again within a second
    assert opened == [], f"the page reconnected after logging out: {opened}"
    look(visitor, "lab after logging out elsewhere")


def test_too_many_wrong_passwords_pause_logging_in_and_say_for_how_long(tour):
    visitor = tour.visitor("forgetful")
    steps.sign_up(visitor, "forgetful")
    page = visitor.page
    page.get_by_role("button", name=re.compile("Log out")).click()
    page.goto(visitor.base_url + "/accounts/login/")
    for _ in range(5):
        page.get_by_label("Username").fill("forgetful")
        page.get_by_label("Password").fill("not my password")
        page.get_by_role("button", name=re.compile("Log in", re.I)).click()
    expect(page.get_by_role("alert").first).to_contain_text("logging in is paused for 15 minutes")
    expect(page.get_by_label("Username")).to_have_value("forgetful")
    look(visitor, "login paused")


def test_a_frame_too_large_for_the_server_closes_the_chat_once_and_says_why(tour):
    visitor = tour.visitor("bypasser")
    steps.sign_up(visitor, "bypasser")
    lab = facts.lesson_lab(facts.first_lesson())
    page = steps.open_lab(visitor, lab, "lab before an oversized frame")
    opened = sockets_opened(page)
    # What the page itself never sends (it refuses long messages first): straight onto the socket.
    page.evaluate(
        "() => document.getElementById('chat')._htmx.ws.connection.socket.send("
        "JSON.stringify({action: 'send', message: 'x'.repeat(300000)}))"
    )
    expect(page.locator("#chat-alert")).to_contain_text("the limit is 4,000")
    expect(page.locator("#chat-status")).to_contain_text("That message was too long to send")
    page.wait_for_timeout(2000)  # hx-ws would have reconnected within a second
    assert opened == [], f"the page reconnected after the server refused the frame: {opened}"
    look(visitor, "lab after an oversized frame")
