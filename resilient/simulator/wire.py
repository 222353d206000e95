"""The Messages API wire format: JSON bodies, SSE events, error bodies and headers."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from resilient.simulator.buckets import LimitSnapshot

Headers = list[tuple[str, str]]

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

# The status a non-streaming request gets for an error that a stream reports in-band.
STATUS_FOR_ERROR_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "timeout_error": 504,
    "api_error": 500,
    "overloaded_error": 529,
}

ERROR_MESSAGES: dict[int, str] = {
    400: "Invalid request.",
    401: "invalid x-api-key",
    403: "Your API key does not have permission to use the specified resource.",
    404: "The requested resource could not be found.",
    408: "Request timed out.",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "Number of requests has exceeded your rate limit. Please try again later.",
    500: "Internal server error",
    503: "Service unavailable",
    529: "Overloaded",
}

SPEND_CAP_CODE = "enforced_spend_limit_reached"
SPEND_CAP_MESSAGE = (
    "Your organization has reached its monthly API usage limit. "
    "Raise the limit in the Console to continue."
)

JSON = "application/json"
SSE = "text/event-stream; charset=utf-8"


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def error_payload(
    error_type: str, message: str, *, error_code: str | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": error_type, "message": message}
    if error_code is not None:
        error["details"] = {"error_code": error_code}
    return {"type": "error", "error": error}


def error_body(
    status: int,
    request_id: str,
    *,
    message: str | None = None,
    error_type: str | None = None,
    error_code: str | None = None,
) -> bytes:
    kind = error_type or ERROR_TYPES.get(status, "api_error")
    text = message or ERROR_MESSAGES.get(status, "Error")
    payload = error_payload(kind, text, error_code=error_code)
    payload["request_id"] = request_id
    return dumps(payload)


def sse(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def usage(
    input_tokens: int, output_tokens: int, cache_creation: int, cache_read: int
) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output_tokens,
    }


def message(
    message_id: str,
    model: str,
    text: str | None,
    stop_reason: str | None,
    usage_: dict[str, int],
) -> dict[str, Any]:
    """A Message object; ``text=None`` gives the empty content of ``message_start``."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [] if text is None else [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage_,
    }


def message_start(msg: dict[str, Any]) -> bytes:
    return sse("message_start", {"type": "message_start", "message": msg})


def ping() -> bytes:
    return sse("ping", {"type": "ping"})


def content_block_start() -> bytes:
    block = {"type": "text", "text": ""}
    data = {"type": "content_block_start", "index": 0, "content_block": block}
    return sse("content_block_start", data)


def text_delta(text: str) -> bytes:
    delta = {"type": "text_delta", "text": text}
    return sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})


def content_block_stop() -> bytes:
    return sse("content_block_stop", {"type": "content_block_stop", "index": 0})


def message_delta(stop_reason: str, usage_: dict[str, int]) -> bytes:
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    return sse("message_delta", {"type": "message_delta", "delta": delta, "usage": usage_})


def message_stop() -> bytes:
    return sse("message_stop", {"type": "message_stop"})


def error_event(error_type: str, message_: str) -> bytes:
    return sse("error", error_payload(error_type, message_))


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(math.ceil(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def round_thousand(value: int) -> int:
    """Token "remaining" headers are rounded to the nearest thousand, as the API documents."""
    return int(math.floor(value / 1000 + 0.5)) * 1000


def ratelimit_headers(snapshots: Sequence[LimitSnapshot]) -> Headers:
    headers: Headers = []
    token_limits: list[LimitSnapshot] = []
    for snap in snapshots:
        is_tokens = snap.name != "requests"
        if is_tokens:
            token_limits.append(snap)
        headers.extend(_limit_headers(snap.name, snap, rounded=is_tokens))
    if token_limits:
        # The combined `tokens` headers report whichever token limit is closest to running out.
        tightest = min(token_limits, key=lambda s: s.remaining)
        headers.extend(_limit_headers("tokens", tightest, rounded=True))
    return headers


def _limit_headers(name: str, snap: LimitSnapshot, *, rounded: bool) -> Headers:
    remaining = round_thousand(snap.remaining) if rounded else snap.remaining
    prefix = f"anthropic-ratelimit-{name}"
    return [
        (f"{prefix}-limit", str(snap.limit)),
        (f"{prefix}-remaining", str(remaining)),
        (f"{prefix}-reset", rfc3339(snap.reset_at)),
    ]


def retry_after_value(seconds: float) -> str:
    """`retry-after` is whole seconds on the real API; plans may ask for fractions."""
    return str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}"
