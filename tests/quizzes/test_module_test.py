from __future__ import annotations

import html as htmllib
import logging
import re

import pytest
from django.urls import reverse

from quizzes.models import Answer, Attempt

TEST = reverse("module_test", args=["quizfix"])
START = reverse("module_test_start", args=["quizfix"])
SAVE = reverse("module_test_save", args=["quizfix"])
SUBMIT = reverse("module_test_submit", args=["quizfix"])


def start(client) -> Attempt:
    client.post(START)
    return Attempt.objects.filter(quiz="test", finished_at__isnull=True).latest("id")


def key(module) -> dict[str, str]:
    return {q.id: q.correct_option.id for q in module.test.questions}


def wrong(module, question_id: str) -> str:
    question = module.test.question(question_id)
    return next(o.id for o in question.options if not o.correct)


def form(attempt, answers: dict[str, str]) -> dict[str, object]:
    return {"attempt": str(attempt.pk), **{f"q-{q}": o for q, o in answers.items()}}


def with_score(module, right: int) -> dict[str, str]:
    answers = key(module)
    for question_id in list(answers)[right:]:
        answers[question_id] = wrong(module, question_id)
    return answers


def option_order_on_page(html: str, question_id: str) -> list[str]:
    return re.findall(rf'name="q-{question_id}" id="tq-{question_id}-[^"]+" value="([^"]+)"', html)


def test_the_intro_page_offers_to_start(learner_client, quiz_content):
    html = learner_client.get(TEST).content.decode()
    assert "15 questions · pass mark 80 %" in html
    assert f'action="{START}"' in html
    assert not Attempt.objects.exists()  # looking does not start an attempt


def test_the_test_form_has_15_radio_groups_and_no_answer_key(learner_client, module):
    start(learner_client)
    html = learner_client.get(TEST).content.decode()
    assert html.count('<fieldset class="question"') == 15
    assert html.count("<legend>") == 15
    assert html.count('type="radio"') == 60
    assert "Why t01 works" not in html and "is subtle" not in html and "Feedback for" not in html
    # Saving on change must not wait for the whole form to be valid (htmx validates forms).
    assert f'hx-post="{SAVE}" hx-trigger="change" hx-sync="queue last" hx-validate="false"' in html
    assert f'formaction="{SAVE}"' in html


@pytest.mark.parametrize("right", [12, 15])
def test_passing_scores(learner_client, module, right):
    attempt = start(learner_client)
    response = learner_client.post(SUBMIT, form(attempt, with_score(module, right)))
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert (attempt.score, attempt.total, attempt.passed) == (right, 15, True)


@pytest.mark.parametrize("right", [0, 11])
def test_failing_scores(learner_client, module, right):
    attempt = start(learner_client)
    learner_client.post(SUBMIT, form(attempt, with_score(module, right)))
    attempt.refresh_from_db()
    assert (attempt.score, attempt.passed) == (right, False)


def test_the_result_page_reviews_every_question_and_announces_the_score(learner_client, module):
    attempt = start(learner_client)
    answers = with_score(module, 11)
    response = learner_client.post(SUBMIT, form(attempt, answers), follow=True)
    html = response.content.decode()
    assert '<h1 id="result-title" tabindex="-1" autofocus>Not passed yet: 11 out of 15</h1>' in html
    assert re.search(r'role="status">\s*You scored 11 out of 15 \(73 %\)', html)
    assert "The pass mark is 80 % (12 of 15)" in html
    assert html.count('class="question review"') == 15
    assert html.count("Your answer · correct") == 11
    assert html.count("Your answer · not correct") == 4
    assert html.count("✓</span> Correct answer") == 4
    assert "Correct. Why t01 works." in html
    assert "Not quite. Why t15 is subtle." in html
    stored = dict(Answer.objects.filter(attempt=attempt).values_list("question_id", "option_id"))
    assert stored == answers
    assert Attempt.objects.get(pk=attempt.pk).content_version == module.version


def test_options_are_shuffled_per_attempt_and_stable_for_each(learner_client, module):
    first = start(learner_client)
    page = learner_client.get(TEST).content.decode()
    orders = {q.id: option_order_on_page(page, q.id) for q in module.test.questions}
    assert all(sorted(order) == ["opt-a", "opt-b", "opt-c", "opt-d"] for order in orders.values())
    again = learner_client.get(TEST).content.decode()
    assert {q: option_order_on_page(again, q) for q in orders} == orders
    assert any(order != ["opt-a", "opt-b", "opt-c", "opt-d"] for order in orders.values())

    learner_client.post(SUBMIT, form(first, key(module)))
    review = learner_client.get(reverse("module_test_result", args=["quizfix", first.pk]))
    reviewed = re.findall(r'<span class="option-text">Option ([A-D]) of t01</span>',
                          review.content.decode())  # fmt: skip
    assert [f"opt-{letter.lower()}" for letter in reviewed] == orders["t01"]

    start(learner_client)
    second = learner_client.get(TEST).content.decode()
    assert {q: option_order_on_page(second, q) for q in orders} != orders


def test_an_attempt_in_progress_is_saved_and_resumed(learner_client, learner, module):
    attempt = start(learner_client)
    saved = learner_client.post(
        SAVE, form(attempt, {"t01": "opt-b", "t02": "opt-c"}), HTTP_HX_REQUEST="true"
    )
    assert saved.status_code == 200
    assert "Saved · 2 of 15 answered" in saved.content.decode()
    learner_client.post(SAVE, form(attempt, {"t01": "opt-a"}), HTTP_HX_REQUEST="true")

    learner_client.logout()
    learner_client.force_login(learner)
    html = learner_client.get(TEST).content.decode()
    assert 'id="tq-t01-opt-a" value="opt-a" required checked' in html
    assert 'id="tq-t02-opt-c" value="opt-c" required checked' in html
    assert html.count(" checked>") == 2
    assert '<span id="answered-count">2</span> of 15</strong> answered' in html
    assert f'name="attempt" value="{attempt.pk}"' in html
    assert learner_client.post(START).status_code == 302  # starting again resumes
    assert Attempt.objects.filter(user=learner).count() == 1


def test_saving_without_javascript_redirects_with_a_message(learner_client, module):
    attempt = start(learner_client)
    response = learner_client.post(SAVE, form(attempt, {"t03": "opt-a"}), follow=True)
    assert "Your answers are saved (1 of 15 answered)" in response.content.decode()
    assert Answer.objects.get(attempt=attempt).option_id == "opt-a"


def test_submitting_twice_changes_nothing_and_says_why(learner_client, module):
    attempt = start(learner_client)
    learner_client.post(SUBMIT, form(attempt, with_score(module, 13)))
    response = learner_client.post(SUBMIT, form(attempt, key(module)))
    assert response.status_code == 409
    assert "already submitted and scored 13/15" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.score == 13
    late_save = learner_client.post(SAVE, form(attempt, {"t01": "opt-a"}), HTTP_HX_REQUEST="true")
    assert late_save.status_code == 409
    assert "Not saved" in late_save.content.decode()


def test_someone_elses_attempt_cannot_be_saved_submitted_or_read(
    learner_client, module, client, other_learner
):
    attempt = start(learner_client)
    learner_client.post(SAVE, form(attempt, {"t01": "opt-b"}))
    client.force_login(other_learner)
    for url in (SAVE, SUBMIT):
        response = client.post(url, form(attempt, key(module)))
        assert response.status_code == 403
        assert "belongs to another learner" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.finished_at is None
    assert list(Answer.objects.values_list("question_id", "option_id")) == [("t01", "opt-b")]
    learner_client.post(SUBMIT, form(attempt, key(module)))
    result = reverse("module_test_result", args=["quizfix", attempt.pk])
    assert client.get(result).status_code == 403


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"attempt": "abc"}, 400, "does not name a valid attempt"),
        ({"attempt": ["1", "2"]}, 400, "2 values for the attempt"),
        ({"attempt": "999999"}, 404, "no such attempt"),
        ({"q-t99": "opt-a"}, 400, "no question 't99'"),
        ({"q-t02": "opt-z"}, 400, "not one of the options"),
        ({"q-t03": ["opt-a", "opt-b"]}, 400, "2 values for question 3"),
        ({"q-t15": ""}, 400, "question 15 is unanswered"),
    ],
)
def test_bad_submissions_are_refused_and_leave_the_attempt_unchanged(
    learner_client, module, caplog, change, status, message
):
    attempt = start(learner_client)
    learner_client.post(SAVE, form(attempt, {"t01": "opt-d"}))
    data = {**form(attempt, key(module)), **change}
    with caplog.at_level(logging.WARNING, logger="quizzes.views"):
        response = learner_client.post(SUBMIT, data)
    assert response.status_code == status
    assert message in htmllib.unescape(response.content.decode())
    attempt.refresh_from_db()
    assert attempt.finished_at is None and attempt.score is None
    assert list(Answer.objects.values_list("question_id", "option_id")) == [("t01", "opt-d")]
    assert any(r.message == "quiz submission rejected" for r in caplog.records)


def test_a_refused_submission_keeps_the_choices_and_marks_every_gap(learner_client, module):
    attempt = start(learner_client)
    answers = key(module)
    del answers["t07"], answers["t11"]
    response = learner_client.post(SUBMIT, form(attempt, answers))
    html = response.content.decode()
    assert response.status_code == 400
    assert "questions 7, 11 are unanswered" in html
    assert '<a href="#tq-t07">Go to the first unanswered question</a>' in html
    for gap in ("t07", "t11"):
        assert f'class="question is-unanswered" id="tq-{gap}"' in html
        assert f'aria-describedby="tq-{gap}-error"' in html
        assert f'<p id="tq-{gap}-error" class="question-error">Not answered yet' in html
    assert html.count("is-unanswered") == 2
    assert html.count(" checked>") == 13


def test_anonymous_learners_are_sent_to_log_in_and_back_to_the_test(anon_client, db, quiz_content):
    for response in (anon_client.get(TEST), anon_client.post(SUBMIT, {"attempt": "1"})):
        assert response.status_code == 302
        assert response["Location"].endswith(f"?next={TEST}")


def test_a_module_without_a_test_answers_404(learner_client, quiz_content):
    (quiz_content / "test.yaml").unlink()
    assert learner_client.get(TEST).status_code == 404
    assert learner_client.post(START).status_code == 404


def test_the_path_shows_a_passed_test(learner_client, module):
    attempt = start(learner_client)
    learner_client.post(SUBMIT, form(attempt, with_score(module, 14)))
    assert "Passed · best 14/15" in learner_client.get("/").content.decode()


def test_the_map_shows_a_test_taken_but_not_passed_as_in_progress(learner_client, module):
    attempt = start(learner_client)
    learner_client.post(SUBMIT, form(attempt, with_score(module, 5)))
    html = learner_client.get("/").content.decode()
    assert "◐</span> Not passed yet · best 5/15" in html


def test_the_map_counts_the_answers_of_a_test_in_progress(learner_client, module):
    attempt = start(learner_client)
    first_two = dict(list(key(module).items())[:2])
    learner_client.post(SAVE, form(attempt, first_two))
    assert "In progress · 2 of 15 answered" in learner_client.get("/").content.decode()
