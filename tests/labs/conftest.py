"""Lab fixtures: a small coaching module, a fast offline coach, and websocket helpers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from labs import backend, frames, store
from labs.models import CoachTurn, Conversation
from resilient.simulator import SimulatorTransport

FIXTURE = Path(__file__).parent / "fixtures" / "module-01-coach"
MODULE = "coaching"
LAB = "retry-lab"


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    """Personas are created per test; the production hasher would cost ~1 s each time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lab_content(tmp_path, settings) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root / FIXTURE.name)
    settings.CONTENT_DIR = root
    return root / FIXTURE.name


class Waits:
    """Records the client's retry pauses instead of sleeping through them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def fast_coach(settings, monkeypatch, lab_content) -> Waits:
    """Offline coach with no pacing, no real retry sleeps, and a frame per token."""
    settings.ANTHROPIC_API_KEY = ""
    settings.COACH_TTFT = 0.0
    settings.COACH_TOKENS_PER_SECOND = 0.0
    settings.COACH_FAULTS = ""
    waits = Waits()
    monkeypatch.setattr(backend, "retry_sleep", waits)
    monkeypatch.setattr(frames, "FRAME_INTERVAL", 0.0)
    return waits


BILLED_KEY = "sk-test-billed-coach"


@pytest.fixture
def billed_coach(fast_coach, settings, monkeypatch) -> Waits:
    """The real-API path, whose turns are billed and held to the budgets, answered in process
    by the offline coach's simulator (the SDK's HTTP transport is the one seam replaced)."""
    settings.ANTHROPIC_API_KEY = BILLED_KEY
    settings.COACH_GOVERNOR = "off"
    offline_sdk = backend._sdk
    billed: dict[int, anthropic.AsyncAnthropic] = {}

    def sdk(chosen: backend.Backend) -> anthropic.AsyncAnthropic:
        if chosen.offline:
            return offline_sdk(chosen)
        simulator = backend.offline_simulator()  # paced as the settings say at this turn
        if id(simulator) not in billed:
            billed[id(simulator)] = anthropic.AsyncAnthropic(
                api_key=BILLED_KEY,
                base_url="http://billed-coach.invalid",
                max_retries=0,
                http_client=httpx2.AsyncClient(transport=SimulatorTransport(simulator)),
            )
        return billed[id(simulator)]

    monkeypatch.setattr(backend, "_sdk", sdk)
    return fast_coach


def make_conversation(user, lab: str = LAB) -> Conversation:
    return Conversation.objects.create(user=user, module=MODULE, lab=lab)


def past_turn(conversation: Conversation, cost: str, **fields: Any) -> CoachTurn:
    """A billed turn that finished earlier, counted in its day's spend as a finished turn is."""
    started = fields.pop("started", timezone.now())
    backend_kind = fields.pop("backend", "api")
    turn = CoachTurn.objects.create(
        conversation=conversation,
        user=conversation.user,
        module=conversation.module,
        lab=conversation.lab,
        model="claude-sonnet-4-6",
        backend=backend_kind,
        outcome="completed",
        cost_usd=Decimal(cost),
        started=started,
        finished=started,
        **fields,
    )
    store.add_daily_spend(turn)
    return turn


async def communicator(
    user=None, conversation_id: int = 0, *, origin: str | None = "http://testserver"
) -> WebsocketCommunicator:
    from config.asgi import application

    headers = []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if user is not None:
        client = Client()
        await sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(
        application, f"/ws/labs/conversations/{conversation_id}/", headers=headers
    )


@contextlib.asynccontextmanager
async def connected(
    user=None, conversation_id: int = 0, **options: Any
) -> AsyncIterator[WebsocketCommunicator]:
    """A lab socket, its connection accepted, disconnected however the test ends."""
    comm = await communicator(user, conversation_id, **options)
    accepted, _ = await comm.connect()
    assert accepted
    try:
        yield comm
    finally:
        await comm.disconnect()


async def receive(comm: WebsocketCommunicator, timeout: float = 5) -> dict[str, Any]:
    return json.loads(await comm.receive_from(timeout=timeout))


async def until_idle(comm: WebsocketCommunicator, timeout: float = 10) -> list[dict[str, Any]]:
    """Frames up to and including the one that ends the turn (`busy: false`)."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await receive(comm, timeout)
            got.append(frame)
            if frame.get("busy") is False:
                return got


async def send(comm: WebsocketCommunicator, **values: Any) -> None:
    values.setdefault("action", "send")
    values.setdefault("headers", {"HX-Request": "true"})
    await comm.send_to(text_data=json.dumps(values))
