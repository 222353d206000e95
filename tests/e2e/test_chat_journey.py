"""The lab chat as a learner uses it: formatted while streaming, scrolling, the page's own ids."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import course_facts as facts
from tests.e2e import steps

pytestmark = pytest.mark.e2e

FORMATTED_REPLY = (
    "Start with **exponential backoff** and honour *retry-after* when the server sends it.\n\n"
    "## Chat alert\n\n"
    "A heading in a reply stays inside that reply. Wait about one second, then two, then "
    "four, and add jitter so that clients spread out instead of returning together.\n\n"
    "- cap the number of attempts\n- cap the whole call with a deadline\n"
    "- log each attempt with its reason\n\n"
    "> A 429 means slow down, not give up.\n\n"
    "Which of these would your batch job need first, and how would you know it worked?"
)
# Quiet at the top of the transcript, read while the next reply streams below.
LONG_REPLY = " ".join(["Backoff spreads retries out over time so the service can recover."] * 30)


def test_a_reply_is_formatted_while_it_streams_and_its_heading_takes_no_page_id(api_tour, api_site):
    api_site.script.reply = FORMATTED_REPLY
    learner = api_tour.visitor("learner")
    steps.sign_up(learner, "e2e-formatted")
    lab = facts.lesson_lab(facts.first_lesson())
    page = steps.open_lab(learner, lab, "lab on the API path")
    page.get_by_label("Your message").fill("How should I retry after a 429?")
    page.get_by_role("button", name="Send", exact=True).click()

    streaming = page.locator(".chat-streaming")
    expect(streaming.locator("strong")).to_have_text("exponential backoff")
    assert streaming.count() == 1, "bold before the final frame: the reply is still streaming"
    learner.check("reply formatted while streaming")

    last = page.locator(".chat-assistant").last
    expect(last.locator(".chat-rendered h2")).to_have_text("Chat alert", timeout=30_000)
    reply = page.locator(f"#{last.get_attribute('id')}")
    expect(page.locator("#chat-status")).to_have_text("Reply complete")
    assert page.locator("[id=chat-alert]").count() == 1
    assert reply.locator(".chat-rendered [id]").count() == 0, "the coach's markdown made an id"
    learner.check("reply with a Chat alert heading")

    # The page still works: Enter sends, and the status line is the page's own.
    api_site.script.reply = "Then measure how long each wait really was."
    box = page.get_by_label("Your message")
    box.fill("And after that?")
    box.press("Enter")
    expect(page.locator(".chat-user .chat-text").last).to_have_text("And after that?")
    expect(page.locator(".chat-assistant .chat-rendered").last).to_have_text(
        "Then measure how long each wait really was."
    )
    expect(page.locator("#chat-status")).to_have_text("Reply complete")
    expect(reply.locator("h2")).to_have_text("Chat alert")
    learner.check("second reply after the heading")


def scroll_state(page) -> dict:
    return page.locator("#transcript").evaluate(
        "log => ({top: log.scrollTop, height: log.scrollHeight, client: log.clientHeight})"
    )


def test_the_view_stays_put_when_the_reader_scrolls_up_and_opens_at_the_latest(api_tour, api_site):
    learner = api_tour.visitor("learner")
    steps.sign_up(learner, "e2e-scroller")
    lab = facts.lesson_lab(facts.first_lesson())
    page = steps.open_lab(learner, lab, "lab before scrolling")
    api_site.script.reply = LONG_REPLY
    finished = page.locator(
        ".chat-assistant:not(.chat-greeting) .chat-rendered:not(.chat-streaming)"
    )
    for count, question in enumerate(("Why back off?", "Why add jitter?"), start=1):
        page.get_by_label("Your message").fill(question)
        page.get_by_role("button", name="Send", exact=True).click()
        expect(finished).to_have_count(count, timeout=30_000)
    state = scroll_state(page)
    assert state["height"] > state["client"] * 1.5, "the transcript must overflow for this test"
    assert state["top"] + state["client"] >= state["height"] - 2, "following the reply"

    # Reading an earlier message while the next reply streams: the view stays where it is.
    page.get_by_label("Your message").fill("And a deadline?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".chat-streaming")).to_have_count(1)
    page.locator("#transcript").evaluate("log => { log.scrollTop = 0; }")
    jump = page.get_by_role("button", name=re.compile("Jump to latest"))
    expect(jump).to_be_visible()
    page.wait_for_timeout(1000)  # a second of streamed frames
    assert scroll_state(page)["top"] == 0, "a frame pulled the view down"
    learner.check("scrolled up while a reply streams")
    expect(finished).to_have_count(3, timeout=30_000)
    assert scroll_state(page)["top"] == 0, "the final frame pulled the view down"

    jump.click()
    state = scroll_state(page)
    assert state["top"] + state["client"] >= state["height"] - 2
    expect(jump).to_be_hidden()

    # A return visit opens at the latest message.
    page.reload()
    page.wait_for_function(steps.CHAT_OPEN)
    state = scroll_state(page)
    assert state["top"] + state["client"] >= state["height"] - 2, "opened at the oldest message"
    learner.check("lab reopened at the latest message")
