"""An instructor follows one learner: analytics, the CSV of answers, the lab conversation, ops."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import course_facts as facts
from tests.e2e import steps
from tests.e2e.browser import Visitor
from tests.e2e.conftest import INSTRUCTOR

pytestmark = pytest.mark.e2e

LEARNER = "e2e-observed"
# The columns an instructor's spreadsheet relies on (the export has more).
CSV_NEEDS = ("attempt_id", "learner", "quiz", "kind", "question_id", "option_id", "correct")


@dataclass(frozen=True)
class QuizFigures:
    learners: int
    finished: int  # finished attempts of the first lesson's quiz


def figure(visitor: Visitor, term: str) -> str:
    cell = visitor.page.locator(f"xpath=//dt[normalize-space()='{term}']/following-sibling::dd[1]")
    return cell.first.inner_text().strip()


def read_analytics(visitor: Visitor, label: str) -> QuizFigures:
    page = visitor.goto("/", f"home before {label}")
    page.get_by_role("link", name="Analytics").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quiz and test analytics")
    visitor.check(label)
    quiz = facts.lesson_quiz(facts.first_lesson())
    summary = page.locator("details.quiz-report summary", has_text=quiz.title).inner_text()
    finished = re.search(r"(\d+) finished attempt", summary)
    assert finished, f"no attempt count in {summary!r}"
    return QuizFigures(int(figure(visitor, "Learners")), int(finished.group(1)))


def download_answers(visitor: Visitor) -> list[dict[str, str]]:
    page = visitor.page
    link = page.get_by_role("link", name=re.compile("Download attempts as CSV")).first
    with page.expect_download() as started:
        link.click()
    download = started.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    with Path(download.path()).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    missing = [name for name in CSV_NEEDS if name not in header]
    assert not missing, f"the CSV header lacks {missing}: {header}"
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def read_conversation(visitor: Visitor, lab, reply: str) -> None:
    page = visitor.goto("/labs/instructor/", "lab conversations")
    row = page.get_by_role("row").filter(has_text=LEARNER)
    expect(row).to_have_count(1)
    row.get_by_role("link").click()
    expect(page.get_by_role("note")).to_contain_text(f"Read-only view of {LEARNER}")
    expect(page.locator(".chat-user .chat-text").last).to_have_text(lab.opener)
    first_line = reply.strip().splitlines()[0]
    expect(page.locator(".chat-assistant .chat-rendered").last).to_contain_text(first_line)
    # Read-only: nothing to type into, nothing to send, and no live socket to the coach.
    expect(page.get_by_role("textbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_have_count(0)
    expect(page.get_by_role("button", name="Use the suggested opener")).to_have_count(0)
    assert page.evaluate("() => !document.querySelector('[hx-ws\\\\:connect]')")
    visitor.check("learner's conversation read-only")


def see_operations(visitor: Visitor) -> None:
    page = visitor.goto("/", "home before operations")
    page.get_by_role("link", name="Operations").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Operations")
    turns = page.locator("[data-figure='turns']")
    expect(turns).to_have_text(re.compile(r"^[1-9]\d*$"))
    expect(page.get_by_role("table", name="Turns by outcome and error kind")).to_be_visible()
    expect(page.get_by_role("button", name="Apply to the next turn")).to_be_visible()
    visitor.check("operations")


def test_it_follows_a_learner_as_an_instructor(tour):
    lesson = facts.first_lesson()
    lab = facts.lesson_lab(lesson)
    instructor = tour.visitor("instructor")
    steps.log_in(instructor, *INSTRUCTOR)
    before = read_analytics(instructor, "analytics before")

    learner = tour.visitor("learner")
    steps.sign_up(learner, LEARNER)
    steps.answer_quiz(learner, lesson)
    reply = steps.chat_with_coach(learner, lab)

    after = read_analytics(instructor, "analytics after")
    assert after.learners == before.learners + 1, (before, after)
    assert after.finished == before.finished + 1, (before, after)

    answers = [row for row in download_answers(instructor) if row["learner"] == LEARNER]
    quiz = facts.lesson_quiz(lesson)
    assert {row["quiz"] for row in answers} == {quiz.slug}, answers
    assert [row["question_id"] for row in answers] == [q.id for q in quiz.questions]
    # answer_quiz answers the first question wrong and the others right.
    assert [row["correct"] for row in answers] == ["false"] + ["true"] * (len(answers) - 1)

    read_conversation(instructor, lab, reply)
    see_operations(instructor)


# Pairs of chart labels whose boxes intersect (an overlap makes both unreadable).
OVERLAPS = """(svg) => {
  const boxes = Array.from(svg.querySelectorAll('text'))
    .filter((t) => t.textContent.trim())
    .map((t) => ({text: t.textContent.trim(), box: t.getBoundingClientRect()}));
  const hits = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].box, b = boxes[j].box, e = 0.5;
      const across = a.left < b.right - e && b.left < a.right - e;
      if (across && a.top < b.bottom - e && b.top < a.bottom - e) {
        hits.push([boxes[i].text, boxes[j].text]);
      }
    }
  }
  return hits;
}"""
MAIN_NAV = ["Analytics", "Lab conversations", "Operations"]


def staff_links(visitor: Visitor) -> list[str]:
    nav = visitor.page.get_by_role("navigation", name="Main")
    return [name for name in MAIN_NAV if nav.get_by_role("link", name=name).count() == 1]


def test_instructor_pages_name_the_learner_keep_their_navigation_and_read_well(tour):
    learner = tour.visitor("learner")
    name = "e2e-named"
    steps.sign_up(learner, name)
    lab = facts.lesson_lab(facts.first_lesson())
    steps.chat_with_coach(learner, lab)
    failing, _ = facts.failing_and_passing(facts.module_test(), facts.module().pass_mark)
    steps.submit_module_test(learner, failing, "for the histogram")

    instructor = tour.visitor("instructor")
    steps.log_in(instructor, *INSTRUCTOR)
    assert staff_links(instructor) == MAIN_NAV
    page = instructor.page
    page.get_by_role("link", name="Lab conversations").click()
    instructor.check("lab conversations")
    page.get_by_role("row").filter(has_text=name).first.get_by_role("link").click()
    expect(page.locator(".chat-user .chat-author").first).to_have_text(name)
    expect(page.locator(".chat-author", has_text="You")).to_have_count(0)
    instructor.check("the learner's conversation, named")
    assert staff_links(instructor) == MAIN_NAV, "the lab page lost the staff navigation"

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.get_by_role("link", name="Analytics").click()
        chart = page.get_by_role("img", name=re.compile("how many attempts got each score"))
        expect(chart).to_be_visible()
        assert chart.evaluate(OVERLAPS) == [], f"histogram labels overlap at {width} px"
        instructor.check(f"analytics at {width} px")

    page.get_by_role("link", name="Operations").click()
    instructor.check("operations")
    page.get_by_role("link", name="the operations runbook").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Operations runbook")
    expect(page.locator("#coach-error-rate-high")).to_have_count(1)
    instructor.check("runbook")
    assert staff_links(instructor) == MAIN_NAV
