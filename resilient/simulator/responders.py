"""The simulator's default responder: a short, deterministic reply that quotes the user."""

from __future__ import annotations

from resilient.simulator.request import MessagesRequest

QUOTE_CHARS = 120


def echo_responder(request: MessagesRequest) -> str:
    """Answer with a fixed paragraph around an excerpt of the last user turn."""
    last_user = next((m["content"] for m in reversed(request.messages) if m["role"] == "user"), "")
    excerpt = " ".join(last_user.split())
    if len(excerpt) > QUOTE_CHARS:
        excerpt = excerpt[: QUOTE_CHARS - 1].rstrip() + "…"
    return (
        f"You said: “{excerpt}”. This answer comes from the Messages API simulator, "
        "not from a model. It streams in small word pieces so that a client can practise "
        "streaming, timeouts and retries, and it is the same every time you ask."
    )
