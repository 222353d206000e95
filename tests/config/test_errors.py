"""Error pages a learner can reach: styled, with a way back, in DEBUG as in production."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import bad_request, server_error

from tests.labs.conftest import LAB, MODULE, make_conversation


def is_styled(html: str) -> bool:
    return 'class="error-page"' in html and "/static/css/site.css" in html


@pytest.mark.parametrize("debug", [True, False])
def test_another_learners_conversation_is_the_styled_404_also_with_debug_on(
    settings, learner, other_learner, fast_coach, debug
):
    settings.DEBUG = debug
    conversation = make_conversation(learner)
    client = Client()
    client.force_login(other_learner)
    response = client.get(reverse("lab_conversation", args=[MODULE, LAB, conversation.pk]))
    html = response.content.decode()
    assert response.status_code == 404
    assert is_styled(html) and "Page not found" in html
    assert "Using the URLconf" not in html  # Django's technical page
    assert 'href="/progress/"' in html  # the learner's own way on


def test_an_unknown_module_is_the_styled_404_with_debug_on(settings, learner_client, db):
    settings.DEBUG = True
    response = learner_client.get("/modules/no-such-module/lessons/intro/")
    assert response.status_code == 404 and is_styled(response.content.decode())


def test_the_500_page_is_styled_and_leads_home_without_knowing_the_request(db):
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert is_styled(html) and "Something went wrong on our side" in html
    assert 'href="/">Back to the course</a>' in html
    assert "Log in" not in html  # rendered without the request, it does not guess who is here


def test_a_bad_request_is_styled(learner):
    request = RequestFactory().get("/")
    request.user = learner
    response = bad_request(request, Exception("unreadable"))
    html = response.content.decode()
    assert response.status_code == 400
    assert is_styled(html) and "could not be handled" in html


def test_an_expired_form_says_so_and_that_nothing_was_saved(learner):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "ada", "password": "x"})
    html = response.content.decode()
    assert response.status_code == 403
    assert is_styled(html) and "This form has expired" in html and "Nothing was saved" in html


def test_a_staff_page_refuses_a_learner_with_the_styled_403(learner_client, db):
    response = learner_client.get(reverse("analytics"))
    html = response.content.decode()
    assert response.status_code == 403 and is_styled(html)
    assert "for instructors" in html
