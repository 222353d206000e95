from __future__ import annotations

import os
import re
import time

from django.urls import reverse

from course.models import LessonRead

LESSON = reverse("lesson", args=["sample", "first"])


def test_home_is_a_map_of_lessons_each_with_its_quiz_and_lab(anon_client, sample_content):
    response = anon_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    blocks = html.split('<li class="map-block')[1:]
    assert len(blocks) == 3  # two lessons and the module test
    assert "Lesson 1" in blocks[0] and "Lab 1" in blocks[0] and "Lesson 2" not in blocks[0]
    assert "Lesson 2" in blocks[1] and "Lab 1" not in blocks[1]
    assert "Module test" in blocks[2]
    assert "Module 1 · Sample Module" in html


def test_an_anonymous_visitor_is_offered_the_first_lesson_and_no_progress(
    anon_client, sample_content
):
    html = anon_client.get("/").content.decode()
    assert "<progress" not in html
    first = reverse("lesson", args=["sample", "first"])
    assert f'<a class="button continue" href="{first}">Start' in html


def test_home_shows_overall_progress_and_continues_after_the_furthest_step(
    learner_client, learner, sample_content
):
    LessonRead.objects.create(user=learner, module="sample", lesson="first")
    html = learner_client.get("/").content.decode()
    assert "<strong>1 of " in html and '<progress max="' in html and 'value="1"' in html
    assert "✓</span> Read" in html
    assert "○</span> Not read yet" in html
    # Lesson 1 is read, so the next step is the one after it on the path.
    after = re.search(r'<a class="button continue" href="([^"]+)">Continue', html)
    assert after, "no Continue button"
    assert after.group(1) != reverse("lesson", args=["sample", "first"])


def test_lessons_are_readable_anonymously_with_code_glossary_and_pager(anon_client, sample_content):
    response = anon_client.get(LESSON)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 id="lesson-title">First Lesson</h1>' in html
    assert '<pre class="highlight"' in html
    assert "<dt>RPM</dt><dd>Requests per minute.</dd>" in html
    assert f'href="{reverse("lesson", args=["sample", "second"])}"' in html
    assert "Log in</a> to mark lessons as read" in html


def test_an_unknown_lesson_is_a_404(anon_client, sample_content):
    assert anon_client.get(reverse("lesson", args=["sample", "nope"])).status_code == 404
    assert anon_client.get(reverse("lesson", args=["nope", "first"])).status_code == 404


def test_mark_as_read_is_stored_per_learner_and_shown_on_home(
    learner_client, learner, other_learner, sample_content
):
    response = learner_client.post(reverse("mark_read", args=["sample", "first"]))
    assert response.status_code == 302
    assert LessonRead.objects.filter(user=learner, lesson="first").count() == 1
    assert not LessonRead.objects.filter(user=other_learner).exists()
    assert "You marked this lesson as read" in learner_client.get(LESSON).content.decode()
    assert "is-done" in learner_client.get("/").content.decode()


def test_mark_as_read_with_htmx_returns_just_the_toggle(learner_client, sample_content):
    response = learner_client.post(
        reverse("mark_read", args=["sample", "first"]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.strip().startswith('<div id="read-toggle"')
    assert "<html" not in html
    response = learner_client.post(
        reverse("mark_read", args=["sample", "first"]), {"read": "0"}, HTTP_HX_REQUEST="true"
    )
    assert "Mark as read" in response.content.decode()
    assert not LessonRead.objects.exists()


def test_marking_read_twice_keeps_one_mark(learner_client, sample_content):
    for _ in range(2):
        learner_client.post(reverse("mark_read", args=["sample", "first"]))
    assert LessonRead.objects.count() == 1


def test_anonymous_mark_as_read_goes_to_login(anon_client, sample_content):
    response = anon_client.post(reverse("mark_read", args=["sample", "first"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_edited_lesson_shows_on_the_next_load_without_restart(anon_client, sample_content):
    path = sample_content / "lessons" / "01-first.md"
    assert "A story paragraph." in anon_client.get(LESSON).content.decode()
    path.write_text(path.read_text().replace("A story paragraph.", "A brand new story."))
    later = time.time() + 5
    os.utime(path, (later, later))
    html = anon_client.get(LESSON).content.decode()
    assert "A brand new story." in html and "A story paragraph." not in html


def test_a_broken_lesson_shows_its_own_error_page_and_the_rest_keeps_working(
    anon_client, instructor_client, sample_content, caplog
):
    path = sample_content / "lessons" / "01-first.md"
    path.write_text(path.read_text().replace("random.random()", "random.random("))

    response = anon_client.get(LESSON)
    assert response.status_code == 500
    assert "This lesson can't be shown right now" in response.content.decode()
    assert "lesson file failed to load" in caplog.text
    staff_view = instructor_client.get(LESSON).content.decode()
    assert "01-first.md:24: Python code block does not compile" in staff_view
    assert anon_client.get(reverse("lesson", args=["sample", "second"])).status_code == 200
    assert anon_client.get("/").status_code == 200


def test_pages_have_a_skip_link_and_landmarks(anon_client, sample_content):
    html = anon_client.get(LESSON).content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html and '<nav class="site-nav" aria-label="Main">' in html


def test_htmx_posts_carry_the_csrf_token(anon_client, sample_content):
    html = anon_client.get("/").content.decode()
    # htmx 4 inherits attributes only when asked to (`:inherited`).
    assert 'hx-headers:inherited=\'{"X-CSRFToken": "' in html
