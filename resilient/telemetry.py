"""Correlation ids and one structured record per attempt and per call (lesson 4).

The correlation id lives in a contextvar so that everything a request does (the web request,
the coach turn, every API attempt) logs the same id without passing it around. Records go to
the `resilient` logger as a dict of fields (the deployment's formatter writes each as one JSON
object per line) and to optional metrics hooks.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from resilient.events import OPERATOR_KINDS

logger = logging.getLogger("resilient")

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "resilient_correlation_id", default=None
)


def correlation_id() -> str | None:
    """The id of the current request or turn, if one is set."""
    return _correlation_id.get()


def new_correlation_id() -> str:
    """Create a fresh id and make it the current one."""
    cid = uuid.uuid4().hex
    _correlation_id.set(cid)
    return cid


@contextlib.contextmanager
def correlation_scope(cid: str | None = None) -> Iterator[str]:
    """Set a correlation id (a new one when `cid` is None) for the duration of the block."""
    value = cid or uuid.uuid4().hex
    token = _correlation_id.set(value)
    try:
        yield value
    finally:
        _correlation_id.reset(token)


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    correlation_id: str
    model: str
    attempt: int
    outcome: str  # "ok" or the error kind
    status: int | None = None
    error: str | None = None
    request_id: str | None = None
    latency: float = 0.0
    ttft: float | None = None
    governor_wait: float = 0.0
    wait_chosen: float | None = None
    wait_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    stop_reason: str | None = None
    event: str = field(default="resilient.attempt")


@dataclass(frozen=True, slots=True)
class CallRecord:
    correlation_id: str
    model: str
    outcome: str  # "completed", "truncated" or the degradation kind
    attempts: int
    latency: float
    ttft: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0
    price_known: bool = True
    stop_reason: str | None = None
    request_id: str | None = None
    waited: float = 0.0
    governor_wait: float = 0.0
    note: str | None = None  # e.g. "circuit open: routed to fallback model"
    event: str = field(default="resilient.call")


Record = AttemptRecord | CallRecord


class MetricsHook(Protocol):
    def __call__(self, record: Record) -> None: ...


def fields(record: Record) -> dict[str, Any]:
    """The record as loggable fields, durations rounded to 0.1 ms."""
    data: dict[str, Any] = asdict(record)
    for key in ("latency", "ttft", "governor_wait", "wait_chosen", "waited"):
        if isinstance(data.get(key), float):
            data[key] = round(data[key], 4)
    return data


def emit(record: Record, hooks: tuple[MetricsHook, ...] = ()) -> None:
    """Log the record's fields on the `resilient` logger and hand it to every hook.

    A failing hook is logged and ignored: metrics must never break a learner's reply.
    """
    level = logging.INFO if record.outcome in ("ok", "completed") else logging.WARNING
    if isinstance(record, CallRecord) and record.outcome in OPERATOR_KINDS:
        level = logging.ERROR  # every learner fails the same way until an operator acts
    if logger.isEnabledFor(level):
        logger.log(level, fields(record))
    for hook in hooks:
        try:
            hook(record)
        except Exception:
            logger.exception("metrics hook %r failed", hook)
