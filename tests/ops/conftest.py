"""Operations fixtures: coach-turn rows made to order, and the log lines a request writes."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache

from labs import switch
from labs.models import CoachTurn, Conversation
from ops.logs import CorrelationFilter
from tests.labs.conftest import fast_coach, lab_content  # noqa: F401  (fixtures reused here)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_switch():
    """The switch is cached for a few seconds; never let one test's switch leak into another."""
    cache.delete(switch.CACHE_KEY)
    yield
    cache.delete(switch.CACHE_KEY)


class TurnFactory:
    def __init__(self, user) -> None:
        self.user = user
        self.conversation = Conversation.objects.create(user=user, module="m", lab="retry-lab")

    def __call__(self, **values: Any) -> CoachTurn:
        started = values.pop("started", NOW - timedelta(minutes=1))
        defaults: dict[str, Any] = {
            "module": "m",
            "lab": "retry-lab",
            "model": "claude-sonnet-4-6",
            "backend": "api",
            "outcome": "completed",
            "attempts": 1,
            "ttft_ms": 400,
            "latency_ms": 2000,
            "input_tokens": 100,
            "output_tokens": 50,
            "cost_usd": Decimal("0.001"),
            "finished": started + timedelta(seconds=2),
        }
        defaults.update(values)
        return CoachTurn.objects.create(
            conversation=self.conversation, user=self.user, started=started, **defaults
        )


@pytest.fixture
def turns(learner) -> TurnFactory:
    return TurnFactory(learner)


@pytest.fixture
def log_lines():
    """Everything the configured JSON console handler writes during the test, parsed."""
    # Importing the ASGI app runs django.setup(), which applies LOGGING again with a new
    # handler; do that first so the handler captured here is the one that stays.
    import config.asgi  # noqa: F401

    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, CorrelationFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    previous = handler.setStream(buffer)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    try:
        yield lines
    finally:
        handler.setStream(previous)
