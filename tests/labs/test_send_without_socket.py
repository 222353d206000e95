"""Send pressed while the chat's websocket is down: the form posts, nothing is stored, text kept."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from labs.models import Message
from labs.views import NO_CONNECTION_MESSAGE, NO_CONNECTION_STATUS
from tests.labs.conftest import LAB, MODULE, make_conversation

TEXT = 'How long after a 429 <should> I wait & retry?\nSecond line "quoted".'


def chat_form(page: str) -> str:
    found = re.search(r'<form id="chat-form"[^>]*>', page)
    assert found, "the lab page has no chat form"
    return found.group(0)


def test_the_chat_form_posts_to_its_conversation_page(learner, learner_client, fast_coach):
    conversation = make_conversation(learner)
    url = reverse("lab_conversation", args=[MODULE, LAB, conversation.pk])
    for page_url in (f"/modules/{MODULE}/labs/{LAB}/", url):
        form = chat_form(learner_client.get(page_url).content.decode())
        # Without a method the browser would submit a GET and put the message in the URL.
        assert 'method="post"' in form, form
        assert f'action="{url}"' in form, form


def test_a_posted_message_comes_back_in_the_box_with_an_alert_and_is_not_stored(
    learner, learner_client, fast_coach
):
    conversation = make_conversation(learner)
    url = reverse("lab_conversation", args=[MODULE, LAB, conversation.pk])
    response = learner_client.post(url, {"action": "send", "message": TEXT, "faults": "none"})

    assert response.status_code == NO_CONNECTION_STATUS
    page = response.content.decode()
    alert = re.search(r'<div id="chat-alert"[^>]*role="alert"[^>]*>(.*?)</div>', page, re.S)
    assert alert and escape(NO_CONNECTION_MESSAGE) in alert.group(1)
    box = re.search(r'<textarea id="chat-input"[^>]*>(.*?)</textarea>', page, re.S)
    assert box and box.group(1) == escape(TEXT), "the learner's text is not back in the box"
    assert not Message.objects.filter(conversation=conversation).exists()
    # The page still offers the live chat, so Send works again once the socket is back.
    assert f'hx-ws:connect="/ws/labs/conversations/{conversation.pk}/"' in page


def test_the_post_needs_the_csrf_token_like_any_form(learner, fast_coach):
    conversation = make_conversation(learner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    url = reverse("lab_conversation", args=[MODULE, LAB, conversation.pk])
    page = client.get(url).content.decode()
    token = re.search(
        r'<form id="chat-form".*?name="csrfmiddlewaretoken" value="([^"]+)"', page, re.S
    )
    assert token, "the chat form carries no CSRF token, so its native post would be refused"
    assert client.post(url, {"message": TEXT}).status_code == 403
    posted = client.post(url, {"message": TEXT, "csrfmiddlewaretoken": token.group(1)})
    assert posted.status_code == NO_CONNECTION_STATUS


def test_an_instructor_cannot_post_into_a_learners_conversation(
    learner, instructor_client, fast_coach
):
    conversation = make_conversation(learner)
    url = reverse("lab_conversation", args=[MODULE, LAB, conversation.pk])
    assert instructor_client.post(url, {"message": TEXT}).status_code == 403
    assert not Message.objects.filter(conversation=conversation).exists()


def test_another_learner_cannot_post_into_a_conversation(
    learner, other_learner, fast_coach, client
):
    conversation = make_conversation(learner)
    client.force_login(other_learner)
    url = reverse("lab_conversation", args=[MODULE, LAB, conversation.pk])
    assert client.post(url, {"message": TEXT}).status_code == 404
