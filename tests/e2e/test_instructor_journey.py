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
