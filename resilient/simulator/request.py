"""Reading a Messages API request body: validation, the responder's view, prompt blocks."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from resilient.simulator.tokens import estimate_tokens


class InvalidRequest(ValueError):
    """The body would get a 400 ``invalid_request_error`` from the real API."""


@dataclass(frozen=True)
class MessagesRequest:
    """What a responder sees of one ``POST /v1/messages``."""

    model: str
    max_tokens: int
    system: str  # the text of the system prompt, blocks joined with blank lines
    messages: list[dict[str, str]]  # {"role": ..., "content": text of the turn}
    metadata: dict[str, Any]
    raw: dict[str, Any]  # the JSON body as sent


Responder = Callable[[MessagesRequest], str]


@dataclass(frozen=True)
class PromptBlock:
    """One cacheable unit of the prompt, in cache order (tools, system, messages)."""

    canonical: str  # the block as JSON without its cache_control marker
    tokens: int
    cache_ttl: float | None  # seconds when the block carries cache_control, else None


def parse_body(body: bytes, *, count_only: bool = False) -> dict[str, Any]:
    """Decode and check the fields the real API requires; raise InvalidRequest."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("model: Field required")
    if not count_only:
        max_tokens = data.get("max_tokens")
        if type(max_tokens) is not int or max_tokens < 1:
            raise InvalidRequest("max_tokens: Field required (an integer >= 1)")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: Field required (a non-empty list)")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise InvalidRequest(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        if not isinstance(message.get("content"), str | list):
            raise InvalidRequest(f"messages.{index}.content: Field required")
    system = data.get("system")
    if system is not None and not isinstance(system, str | list):
        raise InvalidRequest("system: Input should be a string or a list of text blocks")
    return data


def messages_request(data: dict[str, Any]) -> MessagesRequest:
    metadata = data.get("metadata")
    return MessagesRequest(
        model=data["model"],
        max_tokens=data["max_tokens"],
        system="\n\n".join(_texts(data.get("system"))),
        messages=[
            {"role": m["role"], "content": "\n\n".join(_texts(m["content"]))}
            for m in data["messages"]
        ],
        metadata=metadata if isinstance(metadata, dict) else {},
        raw=data,
    )


def prompt_blocks(data: dict[str, Any]) -> list[PromptBlock]:
    """Every prompt unit in the order the prompt cache reads it: tools, system, messages."""
    units: list[Any] = list(data.get("tools") or [])
    system = data.get("system")
    units.extend(system if isinstance(system, list) else [system] if system else [])
    for message in data["messages"]:
        content = message["content"]
        units.extend(content if isinstance(content, list) else [content])
    return [_block(unit) for unit in units]


def _block(unit: Any) -> PromptBlock:
    if isinstance(unit, dict):
        marker = unit.get("cache_control")
        rest = {k: v for k, v in unit.items() if k != "cache_control"}
        text = rest["text"] if isinstance(rest.get("text"), str) else _dump(rest)
        return PromptBlock(_dump(rest), estimate_tokens(text), _ttl(marker))
    text = unit if isinstance(unit, str) else _dump(unit)
    return PromptBlock(_dump(unit), estimate_tokens(text), None)


def _ttl(marker: Any) -> float | None:
    if not isinstance(marker, dict) or marker.get("type") != "ephemeral":
        return None
    return 3600.0 if marker.get("ttl") == "1h" else 300.0


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    texts: list[str] = []
    for block in content or []:
        if isinstance(block, dict) and block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif isinstance(block, dict) and block.get("type") == "tool_result":
            texts.extend(_texts(block.get("content")))
    return texts


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
