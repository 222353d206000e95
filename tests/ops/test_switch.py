"""The runbook's switch-over: offline coach or a cheaper model from the next turn, no restart."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client

from labs import switch
from labs.backend import choose_backend
from labs.models import CoachSwitch, CoachTurn
from tests.labs.conftest import communicator, make_conversation, receive, send, until_idle


@pytest.mark.django_db
def test_unset_switch_leaves_the_coaches_as_configured(settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test-never-sent"
    settings.COACH_MODEL = "claude-sonnet-4-6"
    assert switch.current() == switch.AUTO
    backend = choose_backend()
    assert (backend.kind, backend.model) == ("api", "claude-sonnet-4-6")


@pytest.mark.django_db
def test_switching_to_offline_and_a_cheaper_model_changes_the_next_choice(settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test-never-sent"
    assert choose_backend().kind == "api"
    switch.save(offline=True, model="claude-haiku-4-5", note="API outage")
    backend = choose_backend()
    assert (backend.kind, backend.model, backend.label) == (
        "offline",
        "claude-haiku-4-5",
        "Offline coach",
    )
    switch.save(offline=False, model="claude-haiku-4-5")
    assert (choose_backend().kind, choose_backend().model) == ("api", "claude-haiku-4-5")
    switch.save(offline=False, model="")
    assert choose_backend().model == settings.COACH_MODEL


@pytest.mark.django_db
def test_staff_switch_from_the_dashboard(instructor_client, instructor, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test-never-sent"
    response = instructor_client.post(
        "/ops/switch/", {"backend": "offline", "model_override": "", "note": "rate-limit storm"}
    )
    assert response.status_code == 302
    row = CoachSwitch.objects.get()
    assert (row.backend, row.updated_by, row.note) == ("offline", instructor, "rate-limit storm")
    assert choose_backend().offline
    page = instructor_client.get("/ops/").content.decode()
    assert (
        "rate-limit storm" in page and "From the next turn, coaches use the offline coach" in page
    )


@pytest.mark.django_db
def test_an_unpriced_model_is_refused_and_nothing_changes(instructor_client):
    response = instructor_client.post(
        "/ops/switch/", {"backend": "auto", "model_override": "claude-imaginary-9"}
    )
    assert response.status_code == 400
    assert "There is no price for &#x27;claude-imaginary-9&#x27;" in response.content.decode()
    assert not CoachSwitch.objects.exists()
    assert switch.current() == switch.AUTO


@pytest.mark.django_db
def test_learners_cannot_switch(learner_client, anon_client):
    assert learner_client.post("/ops/switch/", {"backend": "offline"}).status_code == 403
    assert anon_client.post("/ops/switch/", {"backend": "offline"}).status_code == 302
    assert not CoachSwitch.objects.exists()


@pytest.mark.django_db
def test_an_admin_edit_takes_effect_at_once(settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test-never-sent"
    admin = get_user_model().objects.create_superuser("root", password="x" * 12)
    client = Client()
    client.force_login(admin)
    assert choose_backend().kind == "api"  # now cached as "auto"
    response = client.post(
        "/admin/labs/coachswitch/add/", {"backend": "offline", "model_override": "", "note": ""}
    )
    assert response.status_code == 302
    assert choose_backend().kind == "offline"


@pytest.mark.django_db(transaction=True)
async def test_it_reads_the_switch_inside_the_event_loop():
    await database_sync_to_async(switch.save)(offline=True, model="claude-haiku-4-5")
    await switch.cache.adelete(switch.CACHE_KEY)  # as on another worker that has not cached it
    assert await switch.acurrent() == switch.Switch(offline=True, model="claude-haiku-4-5")
    # Read once, then from the cache for a few seconds.
    await CoachSwitch.objects.all().adelete()
    assert await switch.acurrent() == switch.Switch(offline=True, model="claude-haiku-4-5")


@pytest.mark.django_db(transaction=True)
async def test_runbook_switch_over_next_turn_uses_the_offline_coach(learner, fast_coach, settings):
    # With a key set, turns would go to the API; the switch must send the next one offline.
    settings.ANTHROPIC_API_KEY = "sk-ant-test-never-sent"
    await database_sync_to_async(switch.save)(offline=True, model="claude-haiku-4-5")
    conversation = await database_sync_to_async(make_conversation)(learner)
    comm = await communicator(learner, conversation.pk)
    connected, _ = await comm.connect()
    assert connected
    try:
        await send(comm, message="What does retry-after mean?")
        assert (await receive(comm))["accepted"] is True
        frames = await until_idle(comm)
    finally:
        await comm.disconnect()
    assert "Reply complete" in frames[-1]["content"]
    turn = await CoachTurn.objects.aget(conversation=conversation)
    assert (turn.backend, turn.model, turn.outcome) == ("offline", "claude-haiku-4-5", "completed")
