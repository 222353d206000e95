"""The lab page, reopening conversations, starting over, progress, and the instructors' view."""

from __future__ import annotations

import re
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from course.progress import activity, module_path
from course.registry import get_module
from labs.models import CoachTurn, Conversation, Message
from tests.labs.conftest import LAB, MODULE, make_conversation

LAB_URL = f"/modules/{MODULE}/labs/{LAB}/"


def chat(conversation: Conversation, *pairs: tuple[str, str]) -> None:
    for role, text in pairs:
        Message.objects.create(conversation=conversation, role=role, text=text)


def test_it_shows_mission_opener_greeting_and_offline_label(learner_client, fast_coach):
    response = learner_client.get(LAB_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Design a retry strategy for a batch pipeline." in page
    assert 'data-opener="How should I retry when I get a 429?"' in page
    assert "Use the suggested opener" in page
    assert "Offline coach" in page
    assert 'name="faults"' in page and "429 storm — the coach is told to slow down twice" in page
    transcript = page.split('id="transcript"', 1)[1]
    # The greeting is the first message, escaped like any text.
    assert transcript.index("Hello! Tell me about your batch &lt;and&gt; its volume.") < (
        transcript.find("chat-user") if "chat-user" in transcript else len(transcript)
    )
    assert 'role="log"' in page and 'aria-busy="false"' in page
    conversation = Conversation.objects.get()
    assert f'hx-ws:connect="/ws/labs/conversations/{conversation.pk}/"' in page
    assert 'role="status"' in page and 'role="alert"' in page


def test_a_learner_sees_no_developer_text(learner_client, fast_coach):
    page = learner_client.get(LAB_URL).content.decode()
    for developer_text in ("ANTHROPIC_API_KEY", "content/", "529*6", "retry_after=", "drop@"):
        assert developer_text not in page, developer_text
    assert "Outage — the service stays overloaded, so the coach gives up" in page


def test_staff_see_the_operator_hints(instructor_client, fast_coach):
    page = instructor_client.get(LAB_URL).content.decode()
    assert "ANTHROPIC_API_KEY" in page and "<code>content/</code>" in page


def test_the_api_backend_is_labelled_with_its_model_and_has_no_drills(
    learner_client, fast_coach, settings
):
    settings.ANTHROPIC_API_KEY = "sk-test"
    settings.COACH_MODEL = "claude-haiku-4-5"
    page = learner_client.get(LAB_URL).content.decode()
    assert "claude-haiku-4-5" in page and "Offline coach" not in page
    assert 'name="faults"' not in page


def test_reloading_shows_the_whole_conversation(learner, learner_client, fast_coach):
    conversation = make_conversation(learner)
    chat(
        conversation,
        ("user", "First <b>question</b>"),
        ("assistant", "**Bold** answer <script>alert(1)</script>"),
        ("user", "Second question"),
    )
    page = learner_client.get(LAB_URL).content.decode()
    first = page.index("First &lt;b&gt;question&lt;/b&gt;")
    assert first < page.index("<strong>Bold</strong> answer") < page.index("Second question")
    assert "<script>alert(1)" not in page


def test_a_failed_reply_offers_try_again_after_reload(learner, learner_client, fast_coach):
    conversation = make_conversation(learner)
    chat(conversation, ("user", "Hello"))
    reply = Message.objects.create(
        conversation=conversation, role="assistant", status="failed", text=""
    )
    CoachTurn.objects.create(
        conversation=conversation,
        user=learner,
        assistant_message=reply,
        module=MODULE,
        lab=LAB,
        model="m",
        backend="offline",
        outcome="degraded",
        degraded_kind="overloaded",
        started=timezone.now(),
    )
    page = learner_client.get(LAB_URL).content.decode()
    assert "The AI service is overloaded" in page and "Try again" in page
    assert "Under the hood" in page


def test_new_conversation_starts_over_and_earlier_ones_can_be_reopened(
    learner, learner_client, fast_coach
):
    old = make_conversation(learner)
    chat(old, ("user", "An old question"))
    Conversation.objects.filter(pk=old.pk).update(title="An old question")
    response = learner_client.post(f"{LAB_URL}new/")
    new = Conversation.objects.latest("id")
    assert response.status_code == 302
    assert response["Location"] == reverse("lab_conversation", args=[MODULE, LAB, new.pk])
    page = learner_client.get(response["Location"]).content.decode()
    assert "An old question" in page  # listed, not in the transcript
    assert "chat-user" not in page.split('id="transcript"', 1)[1].split("</div>\n    <p id")[0]
    reopened = learner_client.get(reverse("lab_conversation", args=[MODULE, LAB, old.pk]))
    assert "An old question" in reopened.content.decode().split('id="transcript"', 1)[1]


def test_learners_cannot_open_another_learners_conversation(
    learner, other_learner, fast_coach, client
):
    conversation = make_conversation(learner)
    client.force_login(other_learner)
    response = client.get(reverse("lab_conversation", args=[MODULE, LAB, conversation.pk]))
    assert response.status_code == 404


def test_instructors_read_any_conversation_without_a_socket(learner, instructor_client, fast_coach):
    conversation = make_conversation(learner)
    chat(conversation, ("user", "A learner question"))
    url = reverse("lab_conversation", args=[MODULE, LAB, conversation.pk])
    page = instructor_client.get(url).content.decode()
    assert "A learner question" in page and "Read-only view of ada" in page
    assert "hx-ws:connect" not in page and 'id="chat-form"' not in page


def test_the_read_only_conversation_names_the_learner_on_their_messages(
    learner, learner_client, instructor_client, fast_coach
):
    conversation = make_conversation(learner)
    chat(conversation, ("user", "A learner question"))
    url = reverse("lab_conversation", args=[MODULE, LAB, conversation.pk])
    author = re.compile(r'class="chat-message chat-user[^"]*">\s*<p class="chat-author">([^<]+)')
    assert author.findall(instructor_client.get(url).content.decode()) == ["ada"]
    assert author.findall(learner_client.get(url).content.decode()) == ["You"]


def test_instructors_see_per_lab_totals(learner, instructor_client, learner_client, fast_coach):
    conversation = make_conversation(learner)
    chat(conversation, ("user", "Q"))
    for cost in ("0.010000", "0.002500"):
        CoachTurn.objects.create(
            conversation=conversation,
            user=learner,
            module=MODULE,
            lab=LAB,
            model="m",
            backend="offline",
            outcome="completed",
            input_tokens=100,
            output_tokens=50,
            cost_usd=Decimal(cost),
            started=timezone.now(),
        )
    page = instructor_client.get(reverse("labs_instructor")).content.decode()
    assert f"{MODULE} / {LAB}" in page and "$0.0125" in page and "<td>200</td>" in page
    assert learner_client.get(reverse("labs_instructor")).status_code == 403


def test_anonymous_visitors_see_the_mission_and_a_login_link(anon_client, fast_coach, db):
    page = anon_client.get(LAB_URL).content.decode()
    assert "Design a retry strategy" in page and "Log in to chat" in page
    assert "hx-ws:connect" not in page


def test_unknown_labs_are_404(learner_client, fast_coach):
    assert learner_client.get(f"/modules/{MODULE}/labs/nope/").status_code == 404


def test_progress_counts_conversations_and_lists_them(learner, fast_coach):
    for _ in range(2):
        chat(make_conversation(learner), ("user", "Q"))
    make_conversation(learner)  # empty: not counted
    steps = {step.key: step for step in module_path(get_module(MODULE), learner)}
    assert steps[f"lab:{LAB}"].status == "2 conversations"
    links = [link for link in activity(learner) if link.section == "Lab conversations"]
    assert len(links) == 2 and links[0].url.startswith(LAB_URL)
