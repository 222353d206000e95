"""The lab chat as a learner uses it: formatted while streaming, scrolling, the page's own ids."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from labs.drills import DRILLS_BY_KEY
from tests.e2e import course_facts as facts
from tests.e2e import steps
from tests.e2e.conftest import INSTRUCTOR

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
    # On the real-API path, what the last response's rate-limit headers left is shown.
    reply.get_by_text("Under the hood").click()
    expect(reply.locator("dt:has-text('Rate-limit headroom') + dd")).to_contain_text(
        "of 50 requests left this minute"
    )
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


def run_drill(visitor, page, key: str, question: str):
    """Aim a drill at the next reply, send, wait for the reply to end; the reply's article."""
    finished = page.locator(".chat-assistant:not(.chat-greeting)")
    before = finished.count()
    page.get_by_label("Make the next reply face:").select_option(key)
    expect(page.locator("#fault-drill-about")).to_have_text(DRILLS_BY_KEY[key].expect)
    page.get_by_label("Your message").fill(question)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(finished).to_have_count(before + 1)
    expect(page.locator(".chat-streaming")).to_have_count(0, timeout=30_000)
    reply = page.locator(f"#{finished.last.get_attribute('id')}")
    reply.get_by_text("Under the hood").click()
    return reply


def test_the_timeline_shows_a_429_storm_and_a_dropped_stream(tour):
    learner = tour.visitor("learner")
    steps.sign_up(learner, "e2e-timeline")
    page = steps.open_lab(learner, facts.lesson_lab(facts.first_lesson()), "lab before drills")

    storm = run_drill(learner, page, "rate-limit-storm", "How long should I wait after a 429?")
    chart = storm.get_by_role("img", name=re.compile("Timeline of the reply: 3 attempts, 2 waits"))
    expect(chart).to_be_visible()
    expect(chart.locator(".tl-wait")).to_have_count(2)
    expect(chart.locator(".tl-stream")).to_have_count(1)
    expect(storm.locator(".timeline-steps li").filter(has_text="retry-after 1s")).to_have_count(2)
    storm.locator(".turn-timeline").scroll_into_view_if_needed()
    learner.check("timeline of a 429 storm")
    look_at_timeline(learner, page, storm, "storm-timeline")

    dropped = run_drill(learner, page, "dropped-stream", "What if the stream breaks?")
    chart = dropped.get_by_role("img", name=re.compile("Timeline of the reply: 2 attempts"))
    expect(chart.locator(".tl-stream.tl-failed")).to_have_count(1)
    expect(dropped.locator(".timeline-steps")).to_contain_text("the stream broke")
    expect(dropped.locator(".chat-notice")).to_have_count(0)  # the final reply has no notice
    dropped.locator(".turn-timeline").scroll_into_view_if_needed()
    learner.check("timeline of a dropped stream")
    look_at_timeline(learner, page, dropped, "timeline")


# Every text of a timeline as drawn: its size on screen (the font size times the scale the SVG
# applies), its box, and for a bar's word the bar's left and right edges.
TIMELINE_TEXTS = """
figure => {
  const chart = figure.querySelector(".timeline-chart");
  const edge = chart.getBoundingClientRect();
  return [...chart.querySelectorAll("text")]
    .filter(text => getComputedStyle(text).visibility !== "hidden")
    .map(text => {
      const box = text.getBoundingClientRect();
      const inBar = text.classList.contains("tl-bar-text");
      const bar = inBar ? text.parentElement.querySelector("rect").getBoundingClientRect() : null;
      return {
        text: text.textContent,
        px: parseFloat(getComputedStyle(text).fontSize) * text.getScreenCTM().a,
        box: [box.left, box.top, box.right, box.bottom],
        bar: bar ? [bar.left, bar.right] : null,
        chart: [edge.left, edge.top, edge.right, edge.bottom],
      };
    });
}
"""


def readable_timeline(reply, where: str) -> list[str]:
    """The timeline's visible texts, after checking each is at least 12 px on screen, inside
    the chart (not cut off), clear of every other text, and a bar's word inside its bar."""
    texts = reply.locator(".turn-timeline").evaluate(TIMELINE_TEXTS)
    for t in texts:
        assert t["px"] >= 12, f"{where}: {t['text']!r} is drawn at {t['px']:.1f} px"
        left, top, right, bottom = t["box"]
        c_left, c_top, c_right, c_bottom = t["chart"]
        inside = left >= c_left - 0.5 and right <= c_right + 0.5
        assert inside and top >= c_top - 0.5 and bottom <= c_bottom + 0.5, (
            f"{where}: {t['text']!r} {t['box']} is cut off by the chart {t['chart']}"
        )
        if t["bar"]:
            assert t["bar"][0] <= left and right <= t["bar"][1], (
                f"{where}: {t['text']!r} {t['box']} spills out of its bar {t['bar']}"
            )
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            wide = min(a["box"][2], b["box"][2]) - max(a["box"][0], b["box"][0])
            high = min(a["box"][3], b["box"][3]) - max(a["box"][1], b["box"][1])
            assert wide <= 0.5 or high <= 0.5, f"{where}: {a['text']!r} overlaps {b['text']!r}"
    return [t["text"] for t in texts]


def look_at_timeline(learner, page, reply, label: str) -> None:
    """The timeline at 1280 px and 390 px, light and dark, each checked by axe and pictured on
    its own; its text readable at both widths; no page wider than its screen."""
    figure = reply.locator(".turn-timeline")

    def readable(label: str, width: int, scheme: str) -> None:
        figure.screenshot(path=learner.folder / f"{label}-chart-{width}px-{scheme}.png")
        where = f"{label} at {width} px ({scheme})"
        shown = readable_timeline(reply, where)
        assert {"Attempt 1", "Attempt 2", "0 s"} <= set(shown), f"{where}: shows {shown}"

    learner.check_everywhere(label, focus=figure, also=readable)


def test_a_drill_is_left_out_of_the_operations_error_rate(tour):
    instructor = tour.visitor("instructor")
    steps.log_in(instructor, *INSTRUCTOR)
    ops = instructor.goto("/ops/?window=hour", "operations before the drill")
    turns_before = ops.locator('[data-figure="turns"]').inner_text()
    error_rate_before = ops.locator('[data-figure="error-rate"]').inner_text()

    learner = tour.visitor("learner")
    steps.sign_up(learner, "e2e-outage")
    page = steps.open_lab(learner, facts.lesson_lab(facts.first_lesson()), "lab before outage")
    reply = run_drill(learner, page, "outage", "What if the service stays down?")
    expect(reply.get_by_role("button", name="Try again")).to_be_visible()
    expect(reply.locator("dt:has-text('Why it stopped') + dd")).to_contain_text(
        "it used every attempt a chat reply is allowed"
    )
    expect(reply.locator("dt:has-text('Fault plan') + dd")).to_contain_text("Outage drill")
    learner.check("outage drill ended with Try again")

    ops = instructor.goto("/ops/?window=hour", "operations after the drill")
    expect(ops.locator('[data-figure="turns"]')).to_have_text(turns_before)
    expect(ops.locator('[data-figure="error-rate"]')).to_have_text(error_rate_before)
    expect(ops.locator("#drill-turns")).to_contain_text("degraded")
    expect(ops.locator("#drill-turns")).to_contain_text("left out of every figure and alert")


def test_stop_ends_the_reply_and_keeps_what_it_wrote(api_tour, api_site):
    api_site.script.reply = LONG_REPLY
    learner = api_tour.visitor("learner")
    steps.sign_up(learner, "e2e-stopper")
    page = steps.open_lab(learner, facts.lesson_lab(facts.first_lesson()), "lab before Stop")
    box = page.get_by_label("Your message")
    box.fill("Why back off?")
    page.get_by_role("button", name="Send", exact=True).click()
    stop = page.get_by_role("button", name=re.compile("^Stop"))
    expect(stop).to_be_visible()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_hidden()
    expect(page.locator(".chat-streaming")).to_contain_text("Backoff spreads")
    # Enter does not send while the coach replies, and the text typed stays in the box.
    box.fill("And jitter?")
    box.press("Enter")
    expect(page.locator("#chat-status")).to_contain_text("press Stop")
    expect(box).to_have_value("And jitter?")
    learner.check("reply streaming with Stop")
    stop.click()
    reply = page.locator(".chat-assistant").last
    expect(reply.locator(".badge")).to_have_text("Stopped")
    expect(page.locator("#chat-status")).to_have_text("Reply stopped")
    kept = reply.locator(".chat-rendered").inner_text()
    assert kept.startswith("Backoff spreads") and len(kept) < len(LONG_REPLY)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_visible()
    learner.check("reply stopped")
    page.get_by_role("button", name="Send", exact=True).click()  # "And jitter?" was kept
    expect(page.locator(".chat-user .chat-text").last).to_have_text("And jitter?")


def test_a_reload_mid_reply_shows_the_reply_so_far_and_continues(api_tour, api_site):
    api_site.script.reply = LONG_REPLY
    learner = api_tour.visitor("learner")
    steps.sign_up(learner, "e2e-reloader")
    page = steps.open_lab(learner, facts.lesson_lab(facts.first_lesson()), "lab before reload")
    page.get_by_label("Your message").fill("Why back off?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".chat-streaming")).to_contain_text("Backoff spreads retries out")
    page.reload()
    page.wait_for_function(steps.CHAT_OPEN)
    streaming = page.locator(".chat-streaming")
    expect(streaming).to_contain_text("Backoff spreads retries out")  # the reply so far
    expect(page.get_by_role("button", name=re.compile("^Stop"))).to_be_visible()
    so_far = len(streaming.inner_text())
    learner.check("reloaded mid-reply")
    page.wait_for_function(
        f"() => (document.querySelector('.chat-streaming')?.innerText.length ?? 1e9) > {so_far}"
    )  # and it keeps coming
    finished = page.locator(steps.FINISHED_REPLIES)
    expect(finished).to_have_count(1, timeout=30_000)
    expect(finished.last).to_contain_text(LONG_REPLY[-60:].strip())
    expect(page.locator("#chat-status")).to_have_text("Reply complete")
    learner.check("reply finished after the reload")
