from __future__ import annotations

import html as htmllib
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from quizzes.models import Answer, Attempt
from quizzes.shuffle import option_order

URL = reverse("quiz", args=["quizfix", "alpha"])
RIGHT = {"alpha-q1": "opt-a", "alpha-q2": "opt-b", "alpha-q3": "opt-c"}


def answer(client, question, option, **extra):
    return client.post(URL, {"question": question, "option": option}, **extra)


def strip_tokens(html: str) -> str:
    return re.sub(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1", html)


def test_the_quiz_page_shows_every_question_as_an_accessible_radio_group(
    learner_client, quiz_content
):
    html = learner_client.get(URL).content.decode()
    assert html.count("<fieldset") == 3
    assert html.count("<legend") == 3
    assert "Question 1 about <code>alpha</code>?" in html
    assert '<input type="radio" name="option" id="q-alpha-q1-opt-a" value="opt-a" required>' in html
    assert '<label for="q-alpha-q1-opt-a">Option A of alpha-q1</label>' in html
    assert html.count('role="status"') >= 3  # a live region per question for the feedback


def test_the_answer_key_is_not_in_the_page_before_answering(learner_client, quiz_content):
    """Moving `correct: true` to another option must not change a byte of the page."""
    before = strip_tokens(learner_client.get(URL).content.decode())
    path = quiz_content / "quizzes" / "01-alpha.yaml"
    text = path.read_text()
    edited = text.replace("    correct: true\n", "").replace(
        "  - id: opt-d\n", "  - id: opt-d\n    correct: true\n"
    )
    assert edited != text
    path.write_text(edited)
    after = strip_tokens(learner_client.get(URL).content.decode())
    assert before == after
    for question in ("alpha-q1", "alpha-q2", "alpha-q3"):
        assert f"Why {question} works" not in before
        assert f"Why {question} is subtle" not in before
        assert f"Feedback for option D of {question}" not in before


def test_answering_with_htmx_returns_the_feedback_without_a_reload(learner_client, quiz_content):
    response = answer(learner_client, "alpha-q1", "opt-d", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="q-alpha-q1-body"')
    assert "autofocus" in html
    assert '<div id="q-alpha-q1-feedback" hx-swap-oob="innerHTML">' in html
    assert "Not quite. Why alpha-q1 is subtle." in html
    assert "Feedback for option D of alpha-q1." in html
    assert "✗</span> Your answer · not correct" in html
    assert "✓</span> Correct answer" in html
    # Only the answered question is revealed.
    assert "alpha-q2 works" not in html and "alpha-q2 is subtle" not in html


def test_answering_without_javascript_posts_and_the_page_shows_the_feedback(
    learner_client, quiz_content
):
    response = answer(learner_client, "alpha-q1", "opt-a")
    assert response.status_code == 302
    assert response["Location"] == f"{URL}#q-alpha-q1"
    html = learner_client.get(URL).content.decode()
    assert "Correct. Why alpha-q1 works." in html
    assert "✓</span> Your answer · correct" in html
    assert 'name="question" value="alpha-q1"' not in html  # no form for it any more
    assert 'name="question" value="alpha-q2"' in html


def test_finishing_the_quiz_scores_it_and_shows_latest_and_best(
    learner_client, learner, quiz_content
):
    answer(learner_client, "alpha-q1", "opt-a")
    answer(learner_client, "alpha-q2", "opt-a")
    response = answer(learner_client, "alpha-q3", "opt-c", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "You scored 2 out of 3</strong> on this attempt." in html
    assert '<div id="quiz-summary-body" hx-swap-oob="innerHTML">' in html
    attempt = Attempt.objects.get(user=learner)
    assert (attempt.score, attempt.total, attempt.is_finished) == (2, 3, True)
    assert attempt.content_version

    assert learner_client.post(reverse("quiz_retake", args=["quizfix", "alpha"])).status_code == 302
    for question, option in RIGHT.items():
        answer(learner_client, question, option)
    learner_client.post(reverse("quiz_retake", args=["quizfix", "alpha"]))
    for question in RIGHT:
        answer(learner_client, question, "opt-d")
    html = learner_client.get(URL).content.decode()
    assert re.search(r"<dt>Latest</dt><dd>0/3</dd>", html)
    assert re.search(r"<dt>Best</dt><dd>3/3</dd>", html)
    assert re.search(r"<dt>Finished attempts</dt><dd>3</dd>", html)
    assert Attempt.objects.filter(user=learner).count() == 3


RETAKE = reverse("quiz_retake", args=["quizfix", "alpha"])


def option_orders(html: str) -> dict[str, list[str]]:
    """Each question's option ids in the order the page shows them."""
    orders: dict[str, list[str]] = {}
    for question, option in re.findall(r'id="q-(alpha-q\d)-(opt-[a-d])"', html):
        orders.setdefault(question, []).append(option)
    return orders


def test_options_are_shuffled_per_attempt_and_stay_put_on_reload(learner_client, quiz_content):
    first = option_orders(learner_client.get(URL).content.decode())
    assert sorted(first) == sorted(RIGHT) and all(len(ids) == 4 for ids in first.values())
    assert first != {q: ["opt-a", "opt-b", "opt-c", "opt-d"] for q in RIGHT}, "not shuffled"
    assert option_orders(learner_client.get(URL).content.decode()) == first
    answer(learner_client, "alpha-q1", "opt-a")
    learner_client.post(RETAKE)
    assert option_orders(learner_client.get(URL).content.decode()) != first


def test_looking_at_a_quiz_stores_nothing(learner_client, quiz_content):
    for extra in ({}, {"HTTP_SEC_PURPOSE": "prefetch"}, {"HTTP_HX_REQUEST": "true"}):
        assert learner_client.get(URL, **extra).status_code == 200
    assert not Attempt.objects.exists()
    assert "Not started" in learner_client.get("/").content.decode()


def reviewed_order(html: str, question: str) -> list[str]:
    letters = re.findall(rf'<span class="option-text">Option ([A-D]) of {question}</span>', html)
    return [f"opt-{letter.lower()}" for letter in letters]


def test_the_first_answer_stores_the_attempt_in_the_order_the_page_showed(
    learner_client, learner, quiz_content
):
    shown = option_orders(learner_client.get(URL).content.decode())
    response = answer(learner_client, "alpha-q1", "opt-b", HTTP_HX_REQUEST="true")
    assert "Not quite. Why alpha-q1 is subtle." in response.content.decode()
    assert reviewed_order(response.content.decode(), "alpha-q1") == shown["alpha-q1"]
    attempt = Attempt.objects.get(user=learner)
    assert list(attempt.answers.values_list("question_id", "option_id")) == [("alpha-q1", "opt-b")]
    reloaded = learner_client.get(URL).content.decode()
    assert "1 of 3 answered in this attempt." in reloaded
    assert reviewed_order(reloaded, "alpha-q1") == shown["alpha-q1"]
    assert option_orders(reloaded) == {q: shown[q] for q in ("alpha-q2", "alpha-q3")}


def test_an_empty_attempt_stored_by_a_visit_counts_nowhere_and_keeps_its_order(
    learner_client, learner, instructor_client, module
):
    """Visits used to store an attempt before the first answer; those rows are kept as they are."""
    empty = Attempt.objects.create(
        user=learner, module="quizfix", quiz="alpha", kind="quiz", content_version=module.version
    )
    assert empty.seed is None
    shown = option_orders(learner_client.get(URL).content.decode())
    assert shown == {
        q.id: [o.id for o in option_order(q, empty.pk)] for q in module.quizzes["alpha"].questions
    }
    assert "No finished attempts yet" in learner_client.get(URL).content.decode()
    assert "Not started" in learner_client.get("/").content.decode()
    progress = learner_client.get(reverse("progress")).content.decode()
    assert re.search(r"Lesson Alpha quiz</a></th>\s*<td>—</td>\s*<td>not taken yet</td>", progress)
    report = instructor_client.get(reverse("analytics")).content.decode()
    assert "0 finished attempts, 0 learners</summary>" in report
    export = instructor_client.get(reverse("analytics_csv", args=["quizfix"])).content.decode()
    assert export.count("\n") == 1  # the header alone

    answer(learner_client, "alpha-q1", "opt-a")
    assert Attempt.objects.get(user=learner).pk == empty.pk  # answered in the same attempt
    assert option_orders(learner_client.get(URL).content.decode())["alpha-q2"] == shown["alpha-q2"]


def test_try_again_part_way_keeps_the_answers_for_analytics_and_starts_afresh(
    learner_client, learner, instructor_client, quiz_content
):
    answer(learner_client, "alpha-q1", "opt-d")
    page = learner_client.get(URL).content.decode()
    assert "1 of 3 answered in this attempt." in page
    assert '<button type="submit" aria-describedby="retake-help">Try again</button>' in page
    response = learner_client.post(RETAKE, follow=True)
    html = response.content.decode()
    assert "A new attempt: the options are in a new order." in html
    assert 'name="question" value="alpha-q1"' in html  # the question can be answered again
    assert "Try again</button>" not in html  # nothing answered in the new attempt yet
    abandoned, current = Attempt.objects.filter(user=learner).order_by("id")
    assert abandoned.abandoned_at is not None and abandoned.finished_at is None
    assert list(abandoned.answers.values_list("question_id", "option_id")) == [
        ("alpha-q1", "opt-d")
    ]
    assert current.abandoned_at is None and not current.answers.exists()
    # Kept for the instructors, never scored for the learner.
    report = instructor_client.get(reverse("analytics")).content.decode()
    assert "0 finished attempts, 0 learners, 1 restarted before the end" in report
    export = instructor_client.get(reverse("analytics_csv", args=["quizfix"])).content.decode()
    assert abandoned.abandoned_at.isoformat() in export


def test_try_again_twice_without_answering_leaves_no_empty_attempts(
    learner_client, learner, quiz_content
):
    answer(learner_client, "alpha-q1", "opt-a")
    learner_client.post(RETAKE)
    learner_client.post(RETAKE)
    assert Attempt.objects.filter(user=learner).count() == 2
    assert Attempt.objects.filter(user=learner, abandoned_at__isnull=False).count() == 1


def test_an_answered_question_cannot_be_changed_within_an_attempt(
    learner_client, learner, quiz_content
):
    answer(learner_client, "alpha-q1", "opt-d")
    response = answer(learner_client, "alpha-q1", "opt-a", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "You already answered this question" in response.content.decode()
    assert list(Answer.objects.values_list("option_id", flat=True)) == ["opt-d"]


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"question": "nope", "option": "opt-a"}, 400, "This quiz has no question"),
        ({"question": "alpha-q1", "option": "nope"}, 400, "not one of the options"),
        ({"question": "alpha-q1"}, 400, "Choose one of the options"),
        ({"question": "alpha-q1", "option": ["opt-a", "opt-b"]}, 400, "choose exactly one"),
        ({"question": ["alpha-q1", "alpha-q2"], "option": "opt-a"}, 400, "choose exactly one"),
        ({"option": "opt-a"}, 400, "did not say which question"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_answers_are_refused_logged_and_store_nothing(
    learner_client, learner, quiz_content, caplog, data, status, message, htmx
):
    answer(learner_client, "alpha-q2", "opt-b")  # an attempt already in progress
    before = list(Answer.objects.values_list("attempt_id", "question_id", "option_id"))
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with caplog.at_level(logging.WARNING, logger="quizzes.views"):
        response = learner_client.post(URL, data, **extra)
    assert response.status_code == status
    assert message in response.content.decode()
    assert ("<html" in response.content.decode()) is not htmx
    assert list(Answer.objects.values_list("attempt_id", "question_id", "option_id")) == before
    assert Attempt.objects.get(user=learner).finished_at is None
    assert any(r.message == "quiz submission rejected" for r in caplog.records)


def test_a_refused_answer_keeps_the_learners_choice(learner_client, quiz_content):
    response = learner_client.post(
        URL, {"question": "alpha-q1", "option": "bogus"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'id="q-alpha-q1-error"' in html and 'aria-describedby="q-alpha-q1-error"' in html


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_quiz_that_does_not_exist_is_a_404(learner_client, quiz_content, method, caplog):
    url = reverse("quiz", args=["quizfix", "gamma"])
    with caplog.at_level(logging.WARNING, logger="quizzes.views"):
        response = getattr(learner_client, method)(url, {"question": "x", "option": "y"})
    assert response.status_code == 404
    assert "has no quiz 'gamma'" in htmllib.unescape(response.content.decode())
    assert not Attempt.objects.exists()
    assert any(r.message == "unknown quiz requested" for r in caplog.records)
    assert learner_client.get(reverse("quiz", args=["nomodule", "alpha"])).status_code == 404


def test_a_broken_quiz_file_says_so_without_breaking_the_others(
    learner_client, instructor_client, quiz_content
):
    (quiz_content / "quizzes" / "02-beta.yaml").write_text("lesson: beta\ntitle: [broken\n")
    response = learner_client.get(reverse("quiz", args=["quizfix", "beta"]))
    assert response.status_code == 500
    assert "can't be shown right now" in response.content.decode()
    assert learner_client.get(URL).status_code == 200
    staff_view = instructor_client.get(reverse("quiz", args=["quizfix", "beta"])).content.decode()
    assert "02-beta.yaml" in staff_view


def goes_to_login_then(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == reverse("login")
    return parse_qs(parts.query)["next"][0]


def test_anonymous_learners_log_in_and_come_back_to_the_same_quiz(anon_client, db, quiz_content):
    for response in (anon_client.get(URL), answer(anon_client, "alpha-q1", "opt-a")):
        assert response.status_code == 302
        assert goes_to_login_then(response["Location"]) == URL
    htmx = answer(anon_client, "alpha-q1", "opt-a", HTTP_HX_REQUEST="true")
    assert goes_to_login_then(htmx["HX-Redirect"]) == URL
    assert not Attempt.objects.exists()


def test_the_quiz_status_appears_on_the_module_path(learner_client, quiz_content):
    for question, option in RIGHT.items():
        answer(learner_client, question, option)
    html = learner_client.get("/").content.decode()
    assert "✓</span> Best 3/3" in html


def test_a_quiz_begun_but_not_finished_is_in_progress_on_the_map(learner_client, quiz_content):
    answer(learner_client, "alpha-q1", "opt-a")
    html = learner_client.get("/").content.decode()
    assert "◐</span> In progress · 1 of 3 answered" in html


def test_learners_do_not_see_each_others_attempts(
    learner_client, other_learner, quiz_content, client
):
    answer(learner_client, "alpha-q1", "opt-d")
    client.force_login(other_learner)
    html = client.get(URL).content.decode()
    assert "Why alpha-q1 is subtle" not in html
    assert 'name="question" value="alpha-q1"' in html
