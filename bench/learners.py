"""Websocket clients that behave like the lab page: chatting learners, idle tabs, a stalled tab.

A learner speaks the page's protocol (`labs/consumers.py`, `labs/frames.py`): it sends
`{"action": "send", "message": ..., "faults": "none"}` and reads hx-ws JSON frames. The
frame carrying `accepted` opens a turn (and names it), frames replacing `#msg-<id>-tail`
carry the streamed text, rendered (the reply's last block, with the blocks that settled
appended to `#msg-<id>-settled` in an `<hx-partial>`), the frame with `busy: false` closes
it, and a frame with `error` is a refusal. Every wait is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import os
import re
import socket
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect

from resilient.simulator.tokens import split_stream_tokens

QUESTIONS = (
    "How long should I wait before retrying after a 429 with a retry-after header?",
    "What does jitter add to exponential backoff, and which kind should I use?",
    "How do I cap what one learner can spend on tokens in a day?",
    "Why stream the reply instead of waiting for the whole message?",
    "Which timeouts should a streaming call have, and how long should each be?",
    "What should I log for every attempt so that an incident can be traced?",
)
TURN_TIMEOUT = 20.0  # seconds from a message to its final frame before the turn is an error
CONNECT_TIMEOUT = 10.0
CONNECT_AT_ONCE = 32


@dataclass(frozen=True)
class Seat:
    """One learner's way in: the session cookie and the conversation the socket opens."""

    session_key: str
    conversation_id: int

    def path(self) -> str:
        return f"/ws/labs/conversations/{self.conversation_id}/"


def origin(port: int) -> str:
    return f"http://127.0.0.1:{port}"


@dataclass
class Turn:
    sent: float
    accepted: float | None = None
    first_text: float | None = None
    done: float | None = None
    turn_id: int | None = None
    settled: str = ""  # the reply's HTML as the page holds it: settled blocks, last block
    tail: str = ""
    frames: int = 0
    frame_bytes: int = 0
    error: str = ""

    @property
    def ttft(self) -> float | None:
        return None if self.first_text is None else self.first_text - self.sent

    @property
    def text(self) -> str:
        """The reply's visible text so far (markup left out)."""
        return html.unescape(_TAG.sub("", self.settled + self.tail))

    @property
    def tokens(self) -> int:
        # The simulator streams the reply in pieces that `split_stream_tokens` reproduces
        # from the joined text; the markdown's own marks (`**`, `>`) are not shown, so this
        # counts the tokens of the text relayed to this client, a little under the upstream's.
        return len(split_stream_tokens(self.text))

    @property
    def stream_seconds(self) -> float | None:
        if self.first_text is None or self.done is None:
            return None
        return self.done - self.first_text


@dataclass
class Learner:
    turns: list[Turn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    extensions: str = ""


_TAG = re.compile(r"<[^>]+>")
_SETTLED = re.compile(
    r'<hx-partial hx-target="#msg-\d+-settled" hx-swap="([^"]+)">(.*?)</hx-partial>', re.S
)


def _is_text(data: dict[str, object]) -> bool:
    target = data.get("target")
    return isinstance(target, str) and target.endswith("-tail")


def _swap_text(turn: Turn, content: str) -> None:
    """Apply a text frame as the page does: the last block replaced, settled ones added."""
    for swap, markup in _SETTLED.findall(content):
        turn.settled = markup if swap.startswith("innerHTML") else turn.settled + markup
    turn.tail = _SETTLED.sub("", content)


def read_frame(turn: Turn, raw: str | bytes, now: float) -> bool:
    """Update `turn` with one frame; True when the turn is over (finished or refused)."""
    turn.frames += 1
    turn.frame_bytes += len(raw)
    data = json.loads(raw)
    if data.get("error"):
        turn.error = "refused"
        turn.done = now
        return True
    if data.get("accepted"):
        turn.accepted = now
        turn.turn_id = data.get("turn")
        return False
    if _is_text(data):
        if turn.first_text is None:
            turn.first_text = now
        _swap_text(turn, str(data.get("content", "")))
        return False
    if data.get("busy") is False:
        turn.done = now
        return True
    return False


async def one_turn(ws: ClientConnection, message: str) -> Turn:
    turn = Turn(sent=time.perf_counter())
    await ws.send(json.dumps({"action": "send", "message": message, "faults": "none"}))
    deadline = turn.sent + TURN_TIMEOUT
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            turn.error = "timeout"
            return turn
        try:
            async with asyncio.timeout(left):
                raw = await ws.recv()
        except TimeoutError:
            turn.error = "timeout"
            return turn
        if read_frame(turn, raw, time.perf_counter()):
            return turn


def connect_to(port: int, seat: Seat) -> connect:
    return connect(
        f"ws://127.0.0.1:{port}{seat.path()}",
        origin=origin(port),  # type: ignore[arg-type]
        additional_headers={"Cookie": f"sessionid={seat.session_key}"},
        open_timeout=CONNECT_TIMEOUT,
        close_timeout=2,
        ping_interval=None,
        max_size=2**20,
    )


async def converse(
    ws: ClientConnection, index: int, start_at: float, stop_at: float, think: float
) -> Learner:
    """Chat until `stop_at`: send, read the whole reply, pause `think` s, send again."""
    headers = ws.response.headers if ws.response is not None else {}
    learner = Learner(extensions=headers.get("Sec-WebSocket-Extensions", "") or "")
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    n = 0
    try:
        while time.perf_counter() < stop_at:
            turn = await one_turn(ws, QUESTIONS[(index + n) % len(QUESTIONS)])
            learner.turns.append(turn)
            n += 1
            if turn.error == "timeout":
                break
            await asyncio.sleep(think)
    except Exception as exc:  # every failure is counted, none ends the run
        learner.errors.append(f"{type(exc).__name__}: {exc}"[:200])
    return learner


async def open_idle(port: int, seats: list[Seat]) -> tuple[list[ClientConnection], list[str]]:
    """Open one socket per seat, a few at a time (a listen backlog is short); (open, errors)."""
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(seat: Seat) -> ClientConnection:
        async with gate:
            return await connect_to(port, seat)

    opened = await asyncio.gather(*(one(seat) for seat in seats), return_exceptions=True)
    sockets = [ws for ws in opened if isinstance(ws, ClientConnection)]
    errors = [
        f"connect: {type(ws).__name__}: {ws}"[:200]
        for ws in opened
        if isinstance(ws, BaseException)
    ]
    return sockets, errors


async def close_all(sockets: list[ClientConnection]) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True), 10
        )


class StalledSocket:
    """A websocket client that sends but never reads, with a tiny receive buffer.

    A real tab stops reading when its machine sleeps or its network stalls one way; the
    kernel then holds only a few KiB, so whatever else the server produces for this socket
    waits in the server's own memory (or, with back-pressure, is never produced).
    """

    RECEIVE_BUFFER = 4096

    def __init__(self, port: int, seat: Seat) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.RECEIVE_BUFFER)
        self.sock.settimeout(CONNECT_TIMEOUT)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {seat.path()} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {origin(port)}\r\nCookie: sessionid={seat.session_key}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer and len(answer) < 8192:
            chunk = self.sock.recv(1024)
            if not chunk:
                break
            answer += chunk
        if not answer.startswith(b"HTTP/1.1 101"):
            self.close()
            raise ConnectionError(f"websocket upgrade refused: {answer[:80]!r}")

    def send_text(self, text: str) -> None:
        """One masked text frame, as every client must send (RFC 6455 section 5.3)."""
        payload = text.encode()
        mask = os.urandom(4)
        head = bytearray([0x81])
        if len(payload) < 126:
            head.append(0x80 | len(payload))
        else:
            head.append(0x80 | 126)
            head += len(payload).to_bytes(2, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(head) + mask + masked)

    def send_message(self, message: str) -> None:
        self.send_text(json.dumps({"action": "send", "message": message, "faults": "none"}))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
