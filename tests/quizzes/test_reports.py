from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from course.models import LessonRead
from course.progress import ActivityLink
from quizzes.models import Answer, Attempt

ANALYTICS = reverse("analytics")
CSV_URL = reverse("analytics_csv", args=["quizfix"])


def finished_test(user, module, score, passed=None, *, answers=None, days_ago=0):
    when = timezone.now() - timedelta(days=days_ago)
    attempt = Attempt.objects.create(
        user=user, module="quizfix", quiz="test", kind="test", content_version=module.version,
        pass_mark=80, started_at=when, finished_at=when, score=score, total=15,
        passed=score >= 12 if passed is None else passed,
    )  # fmt: skip
    for question_id, option_id in (answers or {}).items():
        correct = module.test.question(question_id).correct_option.id == option_id
        Answer.objects.create(
            attempt=attempt, question_id=question_id, option_id=option_id, correct=correct
        )
    return attempt


def test_analytics_is_for_staff_only(anon_client, learner_client, instructor_client, module):
    response = anon_client.get(ANALYTICS)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert anon_client.get(CSV_URL).status_code == 302
    refused = learner_client.get(ANALYTICS)
    assert refused.status_code == 403
    assert "for instructors" in refused.content.decode()
    assert learner_client.get(CSV_URL).status_code == 403
    assert instructor_client.get(ANALYTICS).status_code == 200
    assert instructor_client.get(CSV_URL).status_code == 200


def test_only_staff_see_the_analytics_link(learner_client, instructor_client, module):
    assert f'href="{ANALYTICS}"' not in learner_client.get("/").content.decode()
    assert f'href="{ANALYTICS}">Analytics</a>' in instructor_client.get("/").content.decode()


def test_analytics_shows_counts_pass_rate_histogram_and_item_statistics(instructor_client, module):
    # The hand-computed set from test_stats: t01 right for totals 5, 4, 3; wrong (opt-b) for 2, 1.
    users = get_user_model().objects
    chosen = ["opt-d", "opt-d", "opt-b", "opt-d", "opt-b"]
    for index, (score, option) in enumerate(zip([5, 4, 2, 3, 1], chosen, strict=True)):
        learner = users.create_user(f"learner{index}")
        finished_test(learner, module, score, answers={"t01": option})
    best = users.get(username="learner0")
    finished_test(best, module, 12, answers={"t01": "opt-d"})
    html = instructor_client.get(ANALYTICS).content.decode()
    assert re.search(r"<dt>Learners</dt><dd>5</dd>", html)
    assert re.search(r"<dt>Module test attempts</dt><dd>6</dd>", html)
    assert re.search(r"<dt>Test pass rate \(attempts\)</dt><dd>17 %</dd>", html)
    assert re.search(r"<dt>Learners who passed</dt><dd>20 %</dd>", html)
    assert '<svg class="histogram"' in html and "<title id=" in html
    assert "1 at 1; 1 at 2; 1 at 3; 1 at 4; 1 at 5; 1 at 12;" in html
    row = re.search(r"<td>1</td>\s*<td>Test question 1.*?</tr>", html, re.S).group(0)
    # Six responses now: right for 5, 4, 3, 12 and wrong for 2, 1.
    assert "<td>6</td>" in row
    assert "<td>67 %</td>" in row
    assert "Option B of t01 (2)" in row


def test_discrimination_matches_the_hand_computed_value(instructor_client, module):
    users = get_user_model().objects
    chosen = ["opt-d", "opt-d", "opt-b", "opt-d", "opt-b"]
    for index, (score, option) in enumerate(zip([5, 4, 2, 3, 1], chosen, strict=True)):
        finished_test(users.create_user(f"l{index}"), module, score, answers={"t01": option})
    html = instructor_client.get(ANALYTICS).content.decode()
    row = re.search(r"<td>1</td>\s*<td>Test question 1.*?</tr>", html, re.S).group(0)
    assert "<td>60 %</td>" in row
    assert "<td>+0.72" in row  # corrected: 1.5 * sqrt(3/13), the item left out of the total


def test_the_csv_has_one_row_per_answer(instructor_client, learner, module):
    attempt = finished_test(learner, module, 12, answers={"t01": "opt-d", "t02": "opt-a"})
    learner.username = "=cmd|evil"
    learner.save()
    response = instructor_client.get(CSV_URL)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["attempt_id"], r["question_id"], r["option_id"], r["correct"]) for r in rows] == [
        (str(attempt.pk), "t01", "opt-d", "true"),
        (str(attempt.pk), "t02", "opt-a", "false"),
    ]
    assert rows[0]["attempt_score"] == "12" and rows[0]["passed"] == "true"
    assert rows[0]["content_version"] == module.version
    assert rows[0]["learner"] == "'=cmd|evil"  # never runs as a spreadsheet formula


def test_my_progress_lists_reading_quizzes_test_attempts_and_a_chart(
    learner_client, learner, module
):
    LessonRead.objects.create(user=learner, module="quizfix", lesson="alpha")
    url = reverse("quiz", args=["quizfix", "alpha"])
    for question in ("alpha-q1", "alpha-q2", "alpha-q3"):
        learner_client.post(url, {"question": question, "option": "opt-a"})
    finished_test(learner, module, 9, days_ago=3)
    finished_test(learner, module, 13, days_ago=1)
    html = learner_client.get(reverse("progress")).content.decode()
    assert "Lessons read: 1 of 2" in html
    assert re.search(r"Lesson Alpha quiz</a></th>\s*<td>1/3</td>", html)
    assert "Lesson Beta quiz" in html and "not taken yet" in html
    assert '<svg class="score-chart"' in html and 'role="img"' in html
    assert re.search(
        r"attempt 1 on \d+ \w+, 9/15, not passed; attempt 2 on \d+ \w+, 13/15, passed", html
    )
    assert '<circle class="marker marker-pass"' in html
    assert '<rect class="marker marker-fail"' in html
    assert html.index("13/15 (86 %)") < html.index("9/15 (60 %)")  # table newest first


def test_my_progress_lists_lab_conversations_from_other_apps(learner_client, module, monkeypatch):
    def labs(user):
        link = ActivityLink(
            "Lab conversations", "Designing Retry Strategies", "/labs/1/", "3 messages"
        )
        return [link]

    monkeypatch.setattr("quizzes.reports.activity", labs)
    html = learner_client.get(reverse("progress")).content.decode()
    assert "<h3>Lab conversations</h3>" in html
    assert '<a href="/labs/1/">Designing Retry Strategies</a> — 3 messages' in html


def test_my_progress_needs_a_login(anon_client, db):
    response = anon_client.get(reverse("progress"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("page", ["changelist", "change"])
def test_attempts_are_visible_in_the_admin(client, learner, module, page, django_user_model):
    attempt = finished_test(learner, module, 12, answers={"t01": "opt-d"})
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(admin)
    url = (
        reverse("admin:quizzes_attempt_changelist")
        if page == "changelist"
        else reverse("admin:quizzes_attempt_change", args=[attempt.pk])
    )
    response = client.get(url)
    assert response.status_code == 200
    assert "ada" in response.content.decode()
