"""Journey steps a learner takes, shared by the learner, instructor and keyboard journeys."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from labs.drills import DRILLS
from tests.e2e import course_facts as facts
from tests.e2e.browser import Visitor

PASSWORD = "a long learner passphrase 42"
# Marks the window object; if it survives an action, the page was not reloaded.
NO_RELOAD_MARK = "window.__journeyMark = 'still here'"
STILL_HERE = "() => window.__journeyMark === 'still here'"
# Round-trip latency while the module test autosaves: several saves are in flight at once.
SLOW_SAVE_MS = 300


def email_of(username: str) -> str:
    return f"{username}@example.org"


def sign_up(visitor: Visitor, username: str) -> None:
    page = visitor.goto("/", "home anonymous")
    page.get_by_role("link", name="Sign up").first.click()
    visitor.check("sign up")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(email_of(username))
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
    # Each choice autosaves. On a slow connection the saves overlap, and the status must still
    # end on the last one: all answered, none lost to a save that was dropped or overtaken.
    with visitor.slow_network(SLOW_SAVE_MS):
        for question_id, option_id in answers.items():
            page.locator(f"#tq-{question_id}-{option_id}").check()
        total = len(answers)
        expect(page.locator("#save-status")).to_contain_text(
            f"Saved · {total} of {total} answered", timeout=30_000
        )
    page.get_by_role("button", name="Submit the test").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(" out of ")
    visitor.check(f"module test {label} result")
    return heading.inner_text()


# Records how the streaming reply's text grows, one entry per visible change, and whether it
# was already formatted (a link, emphasis, a quote) before the final frame replaced it.
WATCH_GROWTH = """() => {
  window.__growth = [];
  window.__formatted = false;
  const log = document.getElementById('transcript');
  new MutationObserver(() => {
    const el = log.querySelector('.chat-streaming');
    if (!el) return;
    const n = el.textContent.length;
    const g = window.__growth;
    if (n > 0 && g[g.length - 1] !== n) g.push(n);
    if (el.querySelector('a, em, strong, blockquote')) window.__formatted = true;
  }).observe(log, {subtree: true, childList: true, characterData: true});
}"""


# Coach replies that have finished (a reply streaming is formatted too, but not yet final).
FINISHED_REPLIES = ".chat-assistant:not(.chat-greeting) .chat-rendered:not(.chat-streaming)"

# hx-ws keeps the chat's socket on the section; Send before it is open would be lost.
CHAT_OPEN = "() => document.getElementById('chat')?._htmx?.ws?.connection?.socket?.readyState === 1"


def open_lab(visitor: Visitor, lab, label: str):
    page = visitor.goto(lab_url(lab), label)
    page.wait_for_function(CHAT_OPEN)
    return page


def chat_with_coach(visitor: Visitor, lab) -> str:
    """Send the suggested opener; the reply grows in steps, then completes. Returns its text."""
    page = open_lab(visitor, lab, "lab 1")
    replies = page.locator(FINISHED_REPLIES)
    before = replies.count()
    page.evaluate(WATCH_GROWTH)
    page.get_by_role("button", name="Use the suggested opener").click()
    expect(page.get_by_label("Your message")).to_have_value(lab.opener)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".chat-user .chat-text").last).to_have_text(lab.opener)
    expect(replies).to_have_count(before + 1)
    growth = page.evaluate("() => window.__growth")
    assert len(growth) >= 3, f"the reply appeared in {len(growth)} visible step(s): {growth}"
    assert page.evaluate("() => window.__formatted"), "the reply was plain text until it ended"
    reply = replies.last.inner_text()
    assert reply.strip(), "the finished reply is empty"
    visitor.check("lab 1 reply")
    return reply


def reload_sees_conversation(visitor: Visitor, lab, reply: str) -> None:
    page = visitor.page
    page.reload()
    expect(page.locator(".chat-user .chat-text").last).to_have_text(lab.opener)
    first_line = reply.strip().splitlines()[0]
    expect(page.locator(".chat-assistant .chat-rendered").last).to_contain_text(first_line)
    visitor.check("lab 1 reloaded")


def run_rate_limit_drill(visitor: Visitor, lab) -> None:
    """The "429 storm" drill: two 429s, a wait each, then a reply; the panel shows it all."""
    page = open_lab(visitor, lab, "lab 1 before the drill")
    replies = page.locator(FINISHED_REPLIES)
    before = replies.count()
    storm = next(drill for drill in DRILLS if drill.label == "429 storm")
    page.get_by_label("Make the next reply face:").select_option(storm.key)
    page.get_by_label("Your message").fill("How long should I wait after a 429?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(replies).to_have_count(before + 1, timeout=30_000)
    reply = page.locator(".chat-assistant").last
    reply.get_by_text("Under the hood").click()
    panel = reply.locator(".under-the-hood")
    expect(panel.locator("dt:has-text('Attempts') + dd")).to_have_text("3")
    waits = panel.locator("dt:has-text('Waits') + dd li")
    expect(waits).to_have_count(2)
    for index in range(2):
        expect(waits.nth(index)).to_contain_text("429")
    expect(panel.locator("dt:has-text('Outcome') + dd")).to_contain_text("omplete")
    visitor.check("lab 1 after the 429 storm")


def see_progress(visitor: Visitor, results: list[str]) -> None:
    page = visitor.page
    page.get_by_role("link", name="My progress").first.click()
    expect(page.get_by_role("heading", name="My progress")).to_be_visible()
    rows = page.locator("table.attempts").last.locator("tbody tr")
    expect(rows).to_have_count(len(results))
    expect(rows.locator(".tag-wrong", has_text="Not passed")).to_have_count(1)
    expect(rows.locator(".tag-right", has_text="Passed")).to_have_count(1)
    chart = page.get_by_role("img", name=re.compile("test scores over time"))
    expect(chart).to_be_visible()
    expect(chart.locator(".marker")).to_have_count(len(results))
    visitor.check("my progress")
