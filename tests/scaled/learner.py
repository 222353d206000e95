"""A learner as the scaled tests drive one: HTTP sign-up and pages, the lab chat websocket.

Production settings mark the session cookie `Secure`, which an HTTP cookie jar will not send
over plain loopback HTTP; the cookie header is therefore carried by hand, as a browser on
`localhost` would send it.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from websockets.asyncio.client import ClientConnection, connect

from tests import reply_frames

PASSWORD = "a long scaled-test passphrase 7"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CONVERSATION = re.compile(r'hx-ws:connect="/ws/labs/conversations/(\d+)/"')
MESSAGE_ID = re.compile(r'id="msg-(\d+)"')
TIMEOUT = 30.0


@dataclass
class Learner:
    username: str
    cookies: dict[str, str] = field(default_factory=dict)

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def remember(self, response: httpx.Response) -> None:
        for name, value in response.cookies.items():
            self.cookies[name] = value

    async def get(self, base_url: str, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT) as client:
            response = await client.get(path, headers={"Cookie": self.cookie_header()})
        self.remember(response)
        return response

    async def csrf_token(self, base_url: str, form_page: str) -> str:
        page = await self.get(base_url, form_page)
        token = CSRF_FIELD.search(page.text)
        assert token, f"no CSRF token on {form_page}"
        return token.group(1)

    async def post(
        self, base_url: str, path: str, token: str, data: dict, *, referer: str
    ) -> httpx.Response:
        async with httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT) as client:
            response = await client.post(
                path,
                data={"csrfmiddlewaretoken": token, **data},
                headers={"Cookie": self.cookie_header(), "Referer": base_url + referer},
            )
        self.remember(response)
        return response

    async def post_form(
        self, base_url: str, path: str, form_page: str, data: dict
    ) -> httpx.Response:
        token = await self.csrf_token(base_url, form_page)
        return await self.post(base_url, path, token, data, referer=form_page)


async def sign_up(base_url: str, username: str) -> Learner:
    learner = Learner(username)
    response = await learner.post_form(
        base_url,
        "/accounts/signup/",
        "/accounts/signup/",
        {
            "username": username,
            "email": f"{username}@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, f"sign-up of {username} failed: {response.status_code}"
    assert "sessionid" in learner.cookies
    return learner


async def open_lab(learner: Learner, base_url: str, lab_path: str) -> int:
    """Open the lab page (which creates the learner's conversation); its id."""
    page = await learner.get(base_url, lab_path)
    assert page.status_code == 200, page.status_code
    found = CONVERSATION.search(page.text)
    assert found, "the lab page has no chat websocket"
    return int(found.group(1))


async def new_conversation(learner: Learner, base_url: str, lab_path: str) -> int:
    response = await learner.post_form(base_url, lab_path + "new/", lab_path, {})
    assert response.status_code == 302, response.status_code
    return int(response.headers["location"].rstrip("/").rsplit("/", 1)[-1])


@dataclass
class Turn:
    """Every frame one tab received for one coach turn."""

    frames: list[dict[str, Any]]

    @property
    def accepted(self) -> dict[str, Any] | None:
        return next((f for f in self.frames if "turn" in f), None)

    @property
    def reply_id(self) -> int:
        assert self.accepted, f"the turn was not accepted: {self.frames}"
        return int(MESSAGE_ID.findall(self.accepted["content"])[-1])

    @property
    def text_frames(self) -> list[dict[str, Any]]:
        return reply_frames.text_frames(self.frames, self.reply_id)

    @property
    def streamed(self) -> str:
        """The reply's text as the tab showed it before the final frame."""
        return reply_frames.shown(self.frames, self.reply_id).text.strip()

    @property
    def final(self) -> dict[str, Any] | None:
        return next((f for f in self.frames if f.get("busy") is False), None)

    @property
    def succeeded(self) -> bool:
        """The reply finished and was not replaced by a failure notice."""
        return self.final is not None and "status-failed" not in self.final["content"]

    @property
    def alerts(self) -> list[str]:
        return [f["content"] for f in self.frames if f.get("error")]


class Chat:
    """One tab's websocket on one worker."""

    def __init__(self, learner: Learner, base_url: str, conversation: int) -> None:
        self.url = base_url.replace("http://", "ws://") + f"/ws/labs/conversations/{conversation}/"
        self.origin = base_url
        self.learner = learner
        self.socket: ClientConnection | None = None

    async def __aenter__(self) -> Chat:
        self.socket = await connect(
            self.url,
            origin=self.origin,
            additional_headers={"Cookie": self.learner.cookie_header()},
            open_timeout=TIMEOUT,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.socket is not None:
            await self.socket.close()

    async def send(self, text: str, **extra: str) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps({"action": "send", "message": text, **extra}))

    async def retry(self) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps({"action": "retry"}))

    async def frame(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        assert self.socket is not None
        raw = await asyncio.wait_for(self.socket.recv(), timeout)
        return json.loads(raw)

    async def turn(self, timeout: float = TIMEOUT, *, until_text: int = 0) -> Turn:
        """Frames until the turn ends (or, with `until_text`, until that many text frames)."""
        frames: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.frame(max(0.1, deadline - loop.time()))
            frames.append(frame)
            turn = Turn(frames)
            if frame.get("busy") is False or (frame.get("error") and not turn.accepted):
                return turn
            if until_text and turn.accepted and len(turn.text_frames) >= until_text:
                return turn
