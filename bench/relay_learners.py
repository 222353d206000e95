"""The relay benchmark's learners: websocket clients that behave like the lab page, and the
side door that logs them in and reads back the server's turn rows (synchronous Django calls).

A learner sends `{"action": "send", "message": ..., "faults": "none"}` and reads hx-ws frames
(`labs/frames.py`): `accepted` opens a turn, frames swapping `#msg-<id>-tail` carry the text as
it streams, `busy: false` closes it, `error` is a refusal. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect

QUESTIONS = (
    "How long should I wait before retrying after a 429 with a retry-after header?",
    "What does jitter add to exponential backoff, and which kind should I use?",
    "How do I cap what one learner can spend on tokens in a day?",
    "Why stream the reply instead of waiting for the whole message?",
    "Which timeouts should a streaming call have, and how long should each be?",
    "What should I log for every attempt so that an incident can be traced?",
)
TURN_TIMEOUT = 20.0  # seconds from a message to its final frame before the turn is an error
CONNECT_AT_ONCE = 32  # a listen backlog is short
STALLED_RECEIVE_BUFFER = 4096  # a tab whose machine sleeps: the kernel holds only a few KiB


@dataclass(frozen=True)
class Seat:
    """One learner's way in: the session cookie and the conversation the socket opens."""

    session_key: str
    conversation_id: int


@dataclass
class Turn:
    sent: float
    first_text: float | None = None
    done: float | None = None
    turn_id: int | None = None
    error: str = ""

    @property
    def ttft(self) -> float | None:
        return None if self.first_text is None else self.first_text - self.sent


def read_frame(turn: Turn, raw: str | bytes, now: float) -> bool:
    """Update `turn` with one frame; True when the turn is over (finished or refused)."""
    data = json.loads(raw)
    if data.get("error"):
        turn.error, turn.done = "refused", now
        return True
    if data.get("accepted"):
        turn.turn_id = data.get("turn")
    elif str(data.get("target")).endswith("-tail"):
        turn.first_text = turn.first_text or now
    elif data.get("busy") is False:
        turn.done = now
        return True
    return False


def connect_to(port: int, seat: Seat, sock: socket.socket | None = None) -> connect:
    return connect(
        f"ws://127.0.0.1:{port}/ws/labs/conversations/{seat.conversation_id}/",
        origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={seat.session_key}"},
        proxy=None,
        sock=sock,
        max_queue=1 if sock else 16,
        open_timeout=10,
        close_timeout=2,
        ping_interval=None,
    )


async def one_turn(ws: ClientConnection, message: str) -> Turn:
    turn = Turn(sent=time.perf_counter())
    await ws.send(json.dumps({"action": "send", "message": message, "faults": "none"}))
    try:
        async with asyncio.timeout(TURN_TIMEOUT):
            while not read_frame(turn, await ws.recv(), time.perf_counter()):
                pass
    except TimeoutError:
        turn.error = "timeout"
    return turn


async def converse(
    ws: ClientConnection, index: int, start_at: float, stop_at: float, think: float
) -> tuple[list[Turn], list[str]]:
    """Chat until `stop_at`: send, read the whole reply, pause `think` s, send again.

    (turns, errors): every failure is counted, none ends the run."""
    turns: list[Turn] = []
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    try:
        while time.perf_counter() < stop_at:
            turns.append(await one_turn(ws, QUESTIONS[(index + len(turns)) % len(QUESTIONS)]))
            if turns[-1].error == "timeout":
                break
            await asyncio.sleep(think)
    except Exception as exc:
        return turns, [f"{type(exc).__name__}: {exc}"[:200]]
    return turns, []


async def open_sockets(port: int, seats: list[Seat]) -> tuple[list[ClientConnection], list[str]]:
    """One socket per seat, a few at a time: (the open ones, connect errors)."""
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(seat: Seat) -> ClientConnection:
        async with gate:
            return await connect_to(port, seat)

    opened = await asyncio.gather(*(one(seat) for seat in seats), return_exceptions=True)
    sockets = [ws for ws in opened if isinstance(ws, ClientConnection)]
    errors = [f"connect: {e!r}"[:200] for e in opened if isinstance(e, BaseException)]
    return sockets, errors


async def close_all(sockets: list[ClientConnection]) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(10):
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


@contextlib.asynccontextmanager
async def stalled(port: int, seat: Seat) -> AsyncIterator[None]:
    """A socket that sends a message and never reads: a tiny kernel buffer, one queued frame,
    so whatever else the server produces for it waits in the server (or is never produced)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_RECEIVE_BUFFER)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    async with connect_to(port, seat, sock) as ws:
        await ws.send(json.dumps({"action": "send", "message": QUESTIONS[0], "faults": "none"}))
        yield


def setup_django(env: dict[str, str]) -> None:
    """This process with the server's settings (same SQLite file), for the side door."""
    import django

    os.environ.clear()
    os.environ.update({**env, "DJANGO_SETTINGS_MODULE": "config.settings"})
    django.setup()


def make_seats(prefix: str, count: int) -> list[Seat]:
    """`count` learners, each logged in (a session) with a conversation in one of the labs."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    from course.registry import get_modules
    from labs.models import Conversation

    module = get_modules()[0]
    seats = []
    for i in range(count):
        user = User.objects.create_user(f"{prefix}-{i}")
        lab = module.labs[i % len(module.labs)].slug
        conversation = Conversation.objects.create(user=user, module=module.slug, lab=lab)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        seats.append(Seat(str(session.session_key), conversation.pk))
    return seats


def turn_rows(turn_ids: list[int]) -> dict[int, tuple[str, int | None, int]]:
    """turn id -> (outcome, TTFT in ms, output tokens), as the server recorded each turn."""
    from labs.models import CoachTurn

    rows = CoachTurn.objects.filter(pk__in=turn_ids)
    return {
        pk: (outcome, ttft, tokens)
        for pk, outcome, ttft, tokens in rows.values_list(
            "pk", "outcome", "ttft_ms", "output_tokens"
        )
    }


def outcomes_for(seat: Seat) -> list[str]:
    from labs.models import CoachTurn

    turns = CoachTurn.objects.filter(conversation_id=seat.conversation_id)
    return list(turns.values_list("outcome", flat=True))
