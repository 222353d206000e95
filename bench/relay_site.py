"""The relay benchmark's side door into the site: Django in the bench process, same database.

It creates learners with logged-in sessions and lab conversations (so each websocket opens as
a page would), reads back the turn rows the server wrote, and measures the upstream half of a
turn (simulator alone; simulator + SDK + resilient client) in this process, as the baseline
that the server's own CPU per token is compared with.

With the simulator in a process of its own (`--upstream loopback`), the baseline is instead
what a client in this process sees from that simulator: its TTFT (a bare SDK stream), and the
CPU per token of SDK + resilient client over the SDK's default transport (as turns ran before
`resilient.transport`) and as a turn runs it now, neither including the simulator's.

ORM calls here are synchronous: call them outside `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from bench.learners import QUESTIONS, Seat


def setup_django(env: dict[str, str]) -> None:
    """Configure this process with the server's settings (same SQLite file, same coach)."""
    import django

    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    django.setup()


def make_seats(prefix: str, count: int) -> list[Seat]:
    """`count` learners, each logged in (a session row) with a conversation in one of the labs."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from course.registry import get_modules
    from labs.models import Conversation

    module = get_modules()[0]
    labs = module.labs
    user_model = get_user_model()
    unusable = make_password(None)
    users = user_model.objects.bulk_create(
        [user_model(username=f"{prefix}-{i}", password=unusable) for i in range(count)]
    )
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(user=user, module=module.slug, lab=labs[i % len(labs)].slug)
            for i, user in enumerate(users)
        ]
    )
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    sessions = []
    for user in users:
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(
            Session(
                session_key=secrets.token_hex(16),
                session_data=store.encode(data),
                expire_date=expires,
            )
        )
    Session.objects.bulk_create(sessions)
    return [
        Seat(session.session_key, conversation.pk)
        for session, conversation in zip(sessions, conversations, strict=True)
    ]


@dataclass(frozen=True)
class TurnRow:
    outcome: str
    ttft_ms: int | None
    output_tokens: int


def turn_rows(turn_ids: list[int]) -> dict[int, TurnRow]:
    from labs.models import CoachTurn

    rows = CoachTurn.objects.filter(pk__in=turn_ids).values_list(
        "pk", "outcome", "ttft_ms", "output_tokens"
    )
    return {pk: TurnRow(outcome, ttft, tokens) for pk, outcome, ttft, tokens in rows}


def outcomes_for(conversation_ids: list[int]) -> list[str]:
    from labs.models import CoachTurn

    return list(
        CoachTurn.objects.filter(conversation_id__in=conversation_ids).values_list(
            "outcome", flat=True
        )
    )


PROBES = 8  # TTFT probes, one at a time, against the simulator process


@dataclass(frozen=True)
class Upstream:
    """CPU per token of the upstream half of a turn, measured in this process."""

    streams: int
    tokens: int
    cpu_seconds: float
    ttfts: list[float]
    # Over loopback: `ttfts` come from probes one at a time (the simulator's own TTFT as a
    # client sees it); these from the `streams` at once, which also wait for this process.
    loaded_ttfts: list[float] = field(default_factory=list)

    @property
    def cpu_per_token(self) -> float:
        return self.cpu_seconds / self.tokens if self.tokens else float("nan")


def _prompt() -> tuple[str, list[dict[str, Any]]]:
    from course.registry import get_modules
    from labs.coach import system_prefix
    from resilient import cached_system

    module = get_modules()[0]
    lab = module.labs[0]
    return module.labs[0].slug, cached_system(system_prefix(lab, module.lesson(lab.lesson)))


async def _measure(streams: int, make_client: Callable[[], Any], model: str) -> Upstream:
    """CPU per token of `streams` replies at once, each from a client `make_client()` gives."""
    from django.conf import settings

    from resilient import Completed, TextDelta

    _, system = _prompt()
    tokens = 0
    ttfts: list[float] = []

    async def one(index: int) -> None:
        nonlocal tokens
        begun = time.perf_counter()
        first = None
        events = make_client().stream(
            model=model,
            max_tokens=settings.COACH_MAX_TOKENS,
            system=system,
            messages=[{"role": "user", "content": QUESTIONS[index % len(QUESTIONS)]}],
        )
        async for event in events:
            if isinstance(event, TextDelta):
                if first is None:
                    first = time.perf_counter() - begun
            elif isinstance(event, Completed):
                # A piece of text is whatever one read brought: count the reply's tokens.
                tokens += event.usage.output_tokens
        if first is not None:
            ttfts.append(first)

    cpu = time.process_time()
    await asyncio.gather(*(one(i) for i in range(streams)))
    return Upstream(streams, tokens, time.process_time() - cpu, ttfts)


async def _through_client(streams: int) -> Upstream:
    """Simulator + SDK + resilient client: what a turn does before the relay."""
    from labs.backend import choose_backend, client_for

    backend = choose_backend()
    return await _measure(streams, lambda: client_for(backend, None), backend.model)


async def _simulator_alone(streams: int) -> Upstream:
    """The simulator's own share: raw SSE bytes through its transport, no SDK parsing."""
    import httpx2
    from django.conf import settings

    from labs.backend import offline_simulator

    _, system = _prompt()
    tokens = 0
    async with httpx2.AsyncClient(transport=offline_simulator().transport()) as http:

        async def one(index: int) -> None:
            nonlocal tokens
            body = {
                "model": settings.COACH_MODEL,
                "max_tokens": settings.COACH_MAX_TOKENS,
                "system": system,
                "messages": [{"role": "user", "content": QUESTIONS[index % len(QUESTIONS)]}],
                "stream": True,
            }
            async with http.stream(
                "POST", "http://simulator.invalid/v1/messages", content=json.dumps(body)
            ) as response:
                async for chunk in response.aiter_bytes():
                    tokens += chunk.count(b'"text_delta"')

        cpu = time.process_time()
        await asyncio.gather(*(one(i) for i in range(streams)))
        return Upstream(streams, tokens, time.process_time() - cpu, [])


def _bare_sdk() -> Any:
    import anthropic
    from django.conf import settings

    return anthropic.AsyncAnthropic(
        api_key=str(settings.ANTHROPIC_API_KEY),
        base_url=settings.ANTHROPIC_BASE_URL,
        max_retries=0,
    )


async def _ttft_probes(count: int) -> list[float]:
    """The simulator's TTFT as a bare SDK client sees it, one stream at a time.

    One at a time so that the figure is the upstream's, not this process's: 50 paced streams
    through the SDK already need about a core of CPU here.
    """
    from django.conf import settings

    _, system = _prompt()
    sdk = _bare_sdk()
    ttfts: list[float] = []
    try:
        for index in range(count):
            begun = time.perf_counter()
            async with sdk.messages.stream(
                model=settings.COACH_MODEL,
                max_tokens=settings.COACH_MAX_TOKENS,
                system=system,
                messages=[{"role": "user", "content": QUESTIONS[index % len(QUESTIONS)]}],
            ) as stream:
                async for _ in stream.text_stream:
                    ttfts.append(time.perf_counter() - begun)
                    break  # leaving the block closes the response: the simulator stops
    finally:
        await sdk.close()
    return ttfts


async def _default_transport(streams: int) -> Upstream:
    """SDK + resilient client as turns ran it before `resilient.transport`: the SDK's default
    HTTP client, a read per event. The ratio against `_through_client` is what the lean
    transport and paced reads save."""
    from django.conf import settings

    from resilient import ResilientClient

    sdk = _bare_sdk()
    try:
        await _measure(1, lambda: ResilientClient(sdk), settings.COACH_MODEL)  # opens a connection
        return await _measure(streams, lambda: ResilientClient(sdk), settings.COACH_MODEL)
    finally:
        await sdk.close()


def loopback_baselines(streams: int) -> tuple[Upstream, Upstream]:
    """(SDK + resilient client over the SDK's default transport, as a turn runs it) against
    the simulator process, `streams` at once.

    Needs this process's settings to name the simulator (`ANTHROPIC_BASE_URL`) and a key, so
    that `choose_backend()` picks the real-API path, as the server's turns do.
    """
    probes = asyncio.run(_ttft_probes(PROBES))
    alone = asyncio.run(_default_transport(streams))
    alone = replace(alone, ttfts=probes, loaded_ttfts=alone.ttfts)

    async def warm_then_measure() -> Upstream:
        # One event loop for both: the labs' SDK client is cached, and a pooled connection
        # opened under an earlier `asyncio.run` is dead in the next one (a connection error
        # and a retry in the measured streams).
        await _through_client(1)
        return await _through_client(streams)

    return alone, asyncio.run(warm_then_measure())


def upstream_baselines(streams: int) -> tuple[Upstream, Upstream]:
    """(simulator alone, simulator + SDK + resilient client), `streams` at once, paced.

    One stream of each first, unmeasured: it builds the SDK client and the coach's passage
    index, which the server has also done (in its warm-up) before it is measured.
    """
    asyncio.run(_simulator_alone(1))
    asyncio.run(_through_client(1))
    return asyncio.run(_simulator_alone(streams)), asyncio.run(_through_client(streams))
