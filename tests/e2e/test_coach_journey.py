"""The offline coach as a learner meets it in a lab: it declines what is off topic, shows the
lesson's code when asked, and works the learner's numbers with the arithmetic shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import course_facts as facts
from tests.e2e import steps

pytestmark = pytest.mark.e2e

# Replies stream at the e2e site's pace (40 tokens a second): a code reply takes a while.
REPLY_MS = 60_000


def ask(page, question: str):
    """Send `question` and return the finished reply's rendered element."""
    replies = page.locator(steps.FINISHED_REPLIES)
    before = replies.count()
    page.get_by_label("Your message").fill(question)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".chat-user .chat-text").last).to_have_text(question)
    expect(replies).to_have_count(before + 1, timeout=REPLY_MS)
    expect(page.locator("#chat-status")).to_have_text("Reply complete")
    # Pinned by its message's id: `.last` would move on to the next reply.
    message = replies.last.locator("xpath=ancestor::article[1]").get_attribute("id")
    return page.locator(f"#{message} .chat-rendered")


def look(learner, page, label: str) -> None:
    """Screenshots at 1280 px and 390 px, light and dark, each checked by axe."""
    learner.check_everywhere(label, focus=page.locator(steps.FINISHED_REPLIES).last)


def test_the_offline_coach_declines_shows_code_and_works_the_numbers(tour):
    learner = tour.visitor("learner")
    steps.sign_up(learner, "e2e-coached")
    lab = facts.module().lab("token-budget-design")
    page = steps.open_lab(learner, lab, "lab 2")

    off_topic = ask(page, "What's the capital of France?")
    expect(off_topic).to_contain_text("That's outside what I can help with here")
    expect(off_topic).to_contain_text("Prompt Caching")
    assert off_topic.locator("a, blockquote, pre").count() == 0, "a decline quotes nothing"
    look(learner, page, "off-topic declined")

    code = ask(page, "Give me a Python example of marking my system prompt with cache_control.")
    block = code.locator("pre code")
    expect(block).to_contain_text("def ask_with_cached_docs")
    expect(block).to_contain_text('"cache_control": {"type": "ephemeral"}')
    source = code.get_by_role("link", name="Lesson 2 · Prompt Caching")
    expect(source.first).to_have_attribute(
        "href", f"{steps.lesson_url(facts.module().lesson(lab.lesson))}#prompt-caching"
    )
    look(learner, page, "code reply")

    numbers = ask(
        page, "What does a request with 2,000 input + 500 output tokens cost at $3/$15 per million?"
    )
    expect(numbers).to_contain_text("Input: 2,000 tokens × $3 per million = $0.006")
    expect(numbers).to_contain_text("Output: 500 tokens × $15 per million = $0.0075")
    expect(numbers).to_contain_text("Per request: $0.006 + $0.0075 = $0.0135")
    # The offline coach bills nothing: its price is shown as simulated.
    article = numbers.locator("xpath=ancestor::article[1]")
    article.get_by_text("Under the hood").click()
    cost = article.locator(".under-the-hood dt:has-text('Cost') + dd")
    expect(cost).to_contain_text("nothing billed: the offline coach is simulated")
    expect(cost).to_contain_text("(simulated)")
    look(learner, page, "worked numbers")

    # The section link goes to the section of the lesson page.
    source.first.click()
    expect(page.locator("#prompt-caching")).to_be_in_viewport()
    learner.check("lesson section from the coach's link")
