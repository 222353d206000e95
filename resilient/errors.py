"""One small error hierarchy for everything that can go wrong in a call.

Failures arrive differently depending on *when* they happen: a status error (SDK) before
the 200, an SSE `event: error` in the body (`stream_error`; the SDK's own stream raises an
`APIStatusError` with `status_code == 200` for it), a connection error for a dropped body
and a timeout for a stall (the SDK's `APIConnectionError` / `APITimeoutError` from its typed
stream; the HTTP library's own `httpx2` errors from the streaming response's `iter_bytes`,
which `resilient.stream` reads, whichever HTTP client is underneath), and
nothing at all for a clean end of body before `message_stop`. `classify` maps every one of
them to a `ResilientError` carrying the degradation kind and whether a retry can help; the
client translates at the boundary with `raise classify(exc) from exc`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

import anthropic
import httpx2

from resilient.events import DEGRADED_MESSAGES, rate_limited_message
from resilient.policy import Failure, parse_retry_after, should_retry_header

SPEND_LIMIT_CODE = "enforced_spend_limit_reached"

# What calling the API and reading a streamed body can raise, for `classify` to translate.
API_ERRORS: tuple[type[Exception], ...] = (anthropic.APIError, httpx2.HTTPError)


class ResilientError(Exception):
    """Base class: a failed attempt, classified."""

    kind: ClassVar[str] = "not_retriable"
    default_retriable: ClassVar[bool] = False

    def __init__(
        self,
        label: str,
        *,
        retriable: bool | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(label)
        self.label = label
        self.retriable = self.default_retriable if retriable is None else retriable
        self.status = status
        self.retry_after = retry_after
        self.request_id = request_id
        self.headers = headers

    @property
    def message(self) -> str:
        """The learner-facing sentence for this kind of failure."""
        return DEGRADED_MESSAGES[self.kind]

    def as_failure(self) -> Failure:
        return Failure(self.label, self.retriable, self.retry_after)


class RateLimited(ResilientError):
    """429: too many requests or tokens for the organisation's limits."""

    kind = "rate_limited"
    default_retriable = True

    @property
    def message(self) -> str:
        return rate_limited_message(self.retry_after)


class Overloaded(ResilientError):
    """529, 5xx, 409 or an `overloaded_error`/`api_error` in the stream: the service is busy."""

    kind = "overloaded"
    default_retriable = True


class NetworkError(ResilientError):
    """The connection failed or dropped, or the stream ended before `message_stop`."""

    kind = "network"
    default_retriable = True


class TimedOut(ResilientError):
    """No first token, no progress, or no end within the configured time; or a 408."""

    kind = "timeout"
    default_retriable = True


class BudgetExhausted(ResilientError):
    """A token/cost budget (ours or the organisation's spend limit) forbids the request."""

    kind = "budget_exhausted"


class SpendCapReached(BudgetExhausted):
    """429 `enforced_spend_limit_reached`: the organisation's spend cap; an operator raises it."""

    kind = "spend_cap"


class NotRetriable(ResilientError):
    """Retrying the same request cannot help; the subclasses say whose move it is."""

    kind = "not_retriable"


class InvalidRequest(NotRetriable):
    """400/413: the request itself is refused (malformed, or too large)."""

    kind = "invalid_request"


class Unauthorized(NotRetriable):
    """401: the API key is missing, wrong or revoked (an operator's fix)."""

    kind = "credentials"


class Forbidden(NotRetriable):
    """403: the key may not use this model or feature (an operator's fix)."""

    kind = "permission"


class NotFound(NotRetriable):
    """404: the model (or the API's address) does not exist (an operator's fix)."""

    kind = "not_found"


class CircuitOpen(Overloaded):
    """The circuit breaker is open after repeated overloads: fail fast without calling."""

    default_retriable = False


_STATUS_LABELS = {
    400: "400 invalid request",
    401: "401 authentication failed",
    403: "403 permission denied",
    404: "404 not found",
    408: "408 request timeout",
    409: "409 conflict",
    413: "413 request too large",
    429: "429 rate limited",
    500: "500 server error",
    502: "502 bad gateway",
    503: "503 service unavailable",
    504: "504 gateway timeout",
    529: "529 overloaded",
}

# The error `type` of an SSE `event: error` (status 200) decides its class.
_STREAM_ERROR_TYPES: dict[str, type[ResilientError]] = {
    "overloaded_error": Overloaded,
    "api_error": Overloaded,
    "rate_limit_error": RateLimited,
    "timeout_error": TimedOut,
    "invalid_request_error": InvalidRequest,
    "request_too_large": InvalidRequest,
    "authentication_error": Unauthorized,
    "permission_error": Forbidden,
    "not_found_error": NotFound,
}

_REFUSALS: dict[int, type[NotRetriable]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    413: InvalidRequest,
}


def classify_status(status: int) -> type[ResilientError]:
    if status == 408:
        return TimedOut
    if status == 429:
        return RateLimited
    if status == 409 or status >= 500:
        return Overloaded
    return _REFUSALS.get(status, NotRetriable)


def classify(exc: BaseException, *, now: float | None = None) -> ResilientError:
    """Map any exception raised while calling the API to a `ResilientError`.

    `now` (wall clock, for HTTP-date `retry-after`) is injectable for tests.
    """
    if isinstance(exc, ResilientError):
        return exc
    wall = time.time() if now is None else now
    if isinstance(exc, anthropic.APIStatusError):
        return _classify_status_error(exc, wall)
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return TimedOut(f"timed out ({type(exc).__name__})")
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        return NetworkError(f"connection failed ({type(exc).__name__})")
    return NotRetriable(f"unexpected error ({type(exc).__name__})")


def stream_error(body: object, headers: Mapping[str, str] | None) -> ResilientError:
    """An SSE `event: error` (the response itself was a 200), by the `type` of its error."""
    error_type = _error_type(body)
    cls = _STREAM_ERROR_TYPES.get(error_type or "", NotRetriable)
    request_id = headers.get("request-id") if headers is not None else None
    return cls(f"stream error {error_type or 'unknown'}", request_id=request_id, headers=headers)


def _classify_status_error(exc: anthropic.APIStatusError, now: float) -> ResilientError:
    headers: Mapping[str, str] = exc.response.headers
    request_id = exc.request_id
    if exc.status_code == 200:
        return stream_error(exc.body, headers)
    if exc.status_code == 429 and (
        exc.error_code == SPEND_LIMIT_CODE or _error_code(exc.body) == SPEND_LIMIT_CODE
    ):
        # A spend cap lasts until someone raises it: waiting cannot help.
        return SpendCapReached(
            "429 organisation spend limit reached",
            status=429,
            request_id=request_id,
            headers=headers,
        )
    cls = classify_status(exc.status_code)
    label = _STATUS_LABELS.get(exc.status_code, f"{exc.status_code} error")
    return cls(
        label,
        retriable=should_retry_header(headers),
        status=exc.status_code,
        retry_after=parse_retry_after(headers, now),
        request_id=request_id,
        headers=headers,
    )


def _error_type(body: object) -> str | None:
    error = _error_dict(body)
    value = error.get("type") if error else None
    return value if isinstance(value, str) else None


def _error_code(body: object) -> str | None:
    error = _error_dict(body)
    details = error.get("details") if error else None
    code = details.get("error_code") if isinstance(details, dict) else None
    return code if isinstance(code, str) else None


def _error_dict(body: object) -> dict[str, Any] | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error
    return None
