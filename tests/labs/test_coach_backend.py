"""The backend switch, escaping of coach output, and the real course labs."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.utils.html import escape

from course.registry import get_modules
from labs.backend import OFFLINE_LABEL, choose_backend, offline_simulator
from labs.fragments import simulated_cost
from labs.models import CoachTurn, Conversation, Message
from labs.switch import AUTO
from tests.labs.conftest import (
    connected,
    make_conversation,
    receive,
    send,
    until_idle,
)
from tests.reply_frames import reply_id, shown, text_frames


def test_the_backend_is_chosen_from_settings_at_call_time(settings):
    settings.ANTHROPIC_API_KEY = ""
    assert choose_backend(AUTO).label == OFFLINE_LABEL and choose_backend(AUTO).offline
    settings.ANTHROPIC_API_KEY = "sk-live"
    settings.COACH_MODEL = "claude-haiku-4-5"
    chosen = choose_backend(AUTO)
    assert chosen.kind == "api" and chosen.label == "claude-haiku-4-5"


@pytest.mark.django_db(transaction=True)
async def test_coach_output_is_sanitised_alike_while_streaming_and_when_done(
    learner, fast_coach, monkeypatch
):
    evil = "<script>alert(1)</script> **safe** <img src=x onerror=alert(2)>"
    monkeypatch.setattr(offline_simulator(), "responder", lambda request: evil)
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="Say something nasty")
        await receive(comm)
        frames = await until_idle(comm)
    streamed = shown(frames[:-1], reply_id(frames))
    assert "<script" not in streamed.html and "<img" not in streamed.html
    assert "<strong>safe</strong>" in streamed.html  # formatted before the reply ends
    final = frames[-1]["content"]
    assert "<script" not in final and "<img" not in final
    assert streamed.html in final


REAL_MODULES = [m for m in get_modules(django_settings.CONTENT_DIR) if m.labs]


@pytest.mark.skipif(not REAL_MODULES, reason="the course labs are not written yet")
@pytest.mark.django_db
def test_every_real_lab_page_renders(learner_client):
    for module in REAL_MODULES:
        for lab in module.labs:
            page = learner_client.get(f"/modules/{module.slug}/labs/{lab.slug}/")
            assert page.status_code == 200, lab.slug
            text = page.content.decode()
            assert escape(lab.greeting)[:40] in text
            assert module.lesson(lab.lesson) is not None, lab.slug


@pytest.mark.skipif(not REAL_MODULES, reason="the course labs are not written yet")
@pytest.mark.django_db(transaction=True)
async def test_the_coach_prefix_is_cached_across_turns_of_a_real_lab(
    learner, settings, monkeypatch
):
    from labs import backend, frames

    settings.ANTHROPIC_API_KEY = ""
    settings.COACH_TTFT = 0.0
    settings.COACH_TOKENS_PER_SECOND = 0.0
    settings.COACH_FAULTS = ""
    monkeypatch.setattr(frames, "FRAME_INTERVAL", 0.04)
    module = REAL_MODULES[0]
    lab = module.labs[0]
    conversation = await Conversation.objects.acreate(
        user=learner, module=module.slug, lab=lab.slug
    )
    async with connected(learner, conversation.pk) as comm:
        for question in ("How should I handle a 429?", "And what about jitter?"):
            await send(comm, message=question)
            await receive(comm)
            assert "Reply complete" in (await until_idle(comm))[-1]["content"]
    turns = [t async for t in CoachTurn.objects.filter(conversation=conversation)]
    assert turns[0].cache_write_tokens + turns[0].cache_read_tokens > 1024
    assert turns[1].cache_read_tokens > 1024
    first, second = (simulated_cost(turn) for turn in turns)
    assert second < first or turns[0].cache_read_tokens > 0
    reply = await Message.objects.filter(role="assistant").afirst()
    assert "Lesson" in reply.text
    assert backend.offline_simulator().stats.completed >= 2


@pytest.mark.django_db(transaction=True)
async def test_a_real_api_turn_streams_over_loopback_in_paced_frames(
    learner, lab_content, settings
):
    """The real-API path end to end: the SDK's aiohttp client (reads paced to the frame
    interval) to the simulator served on a loopback socket, relayed in coalesced frames, stored
    whole. That pacing gives fewer pieces is tested in `tests/resilient`."""
    from labs.offline import offline_responder
    from resilient.simulator import Simulator, SimulatorConfig
    from tests.resilient.conftest import serving

    sim = Simulator(
        SimulatorConfig(ttft=0.05, tokens_per_second=200, ping_interval=0.05),
        responder=offline_responder,
    )
    async with serving(sim) as url:
        settings.ANTHROPIC_API_KEY = "sk-loopback-test"
        settings.ANTHROPIC_BASE_URL = url
        settings.COACH_GOVERNOR = "off"
        settings.COACH_FAULTS = ""
        conversation = await database_sync_to_async(make_conversation)(learner)
        async with connected(learner, conversation.pk) as comm:
            await send(comm, message="How long should I wait after a 429?")
            await receive(comm)
            frames = await until_idle(comm)
    turn = await CoachTurn.objects.aget(conversation=conversation)
    reply = await Message.objects.filter(conversation=conversation, role="assistant").alast()
    assert turn.backend == "api" and turn.outcome == "completed" and reply is not None
    streamed = text_frames(frames, reply.pk)
    # ~200 tokens at 200 a second, read every 40 ms: several frames, each many tokens.
    assert 5 <= len(streamed) <= turn.output_tokens / 4
    streamed_html = shown(frames[:-1], reply.pk).html
    assert streamed_html and streamed_html in frames[-1]["content"]


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


async def test_the_real_api_goes_through_the_proxy_the_environment_names(settings, monkeypatch):
    """An operator behind a proxy sets `HTTPS_PROXY` (here `HTTP_PROXY`: the test's proxy and
    API speak plain HTTP) and `NO_PROXY`, as for any other program."""
    from labs import backend
    from resilient import Completed, Degraded
    from resilient.simulator import Simulator, SimulatorConfig
    from tests.resilient.conftest import serving

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setattr(backend, "retry_sleep", lambda seconds: asyncio.sleep(0))
    settings.COACH_GOVERNOR = "off"
    # A name that resolves nowhere: only a proxy can reach it. The simulator plays the proxy
    # (it answers a request sent to it in proxy form as it answers any other).
    settings.ANTHROPIC_BASE_URL = "http://api.anthropic.invalid"
    api = backend.Backend("api", "claude-haiku-4-5", "claude-haiku-4-5")
    ask = {"max_tokens": 50, "messages": [{"role": "user", "content": "Through the proxy?"}]}
    sim = Simulator(SimulatorConfig())
    async with serving(sim) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
        settings.ANTHROPIC_API_KEY = "sk-through-the-proxy"
        events = [e async for e in backend.client_for(api, None).stream(model=api.model, **ask)]
        assert isinstance(events[-1], Completed) and sim.stats.completed == 1

        monkeypatch.setenv("NO_PROXY", "api.anthropic.invalid")
        settings.ANTHROPIC_API_KEY = "sk-around-the-proxy"
        events = [e async for e in backend.client_for(api, None).stream(model=api.model, **ask)]
        assert isinstance(events[-1], Degraded) and events[-1].kind == "network"
        assert sim.stats.attempts == 1
