"""A resilient Anthropic client: every lesson of Module 8 applied to each call.

Retry with jitter and `retry-after`, proactive pacing from rate-limit headers, budgets and cost
accounting, prompt caching, timeouts, full restart of failed streams, error classification,
graceful degradation, circuit breaking and correlation ids. See `docs/resilient-client.md`.
No Django imports anywhere in this package.
"""

from __future__ import annotations

from resilient.batch import ItemResult, batch_map
from resilient.breaker import CircuitBreaker
from resilient.budget import (
    Budget,
    BudgetKeys,
    BudgetLimits,
    BudgetStore,
    Cap,
    ScopeSpend,
    Spend,
    exhausted,
)
from resilient.caching import cached_conversation, cached_system
from resilient.client import ResilientClient
from resilient.errors import ResilientError, classify
from resilient.events import (
    Completed,
    Degraded,
    DegradedError,
    Pacing,
    Restart,
    Retrying,
    StreamEvent,
    TextDelta,
    Usage,
    Wait,
)
from resilient.governor import BucketLimit, Cost, Governor, Limits, RateGovernor
from resilient.policy import BATCH, INTERACTIVE, Policy, RetryPolicy, Timeouts
from resilient.prices import DEFAULT_PRICES, ModelPrice, PriceTable, UnknownModelError
from resilient.redis_governor import RedisGovernor
from resilient.telemetry import (
    AttemptRecord,
    CallRecord,
    MetricsHook,
    correlation_id,
    correlation_scope,
    new_correlation_id,
)

__all__ = [
    "BATCH",
    "DEFAULT_PRICES",
    "INTERACTIVE",
    "AttemptRecord",
    "BucketLimit",
    "Budget",
    "BudgetKeys",
    "BudgetLimits",
    "BudgetStore",
    "CallRecord",
    "Cap",
    "CircuitBreaker",
    "Completed",
    "Cost",
    "Degraded",
    "DegradedError",
    "Governor",
    "ItemResult",
    "Limits",
    "MetricsHook",
    "ModelPrice",
    "Pacing",
    "Policy",
    "PriceTable",
    "RateGovernor",
    "RedisGovernor",
    "ResilientClient",
    "ResilientError",
    "Restart",
    "RetryPolicy",
    "Retrying",
    "ScopeSpend",
    "Spend",
    "StreamEvent",
    "TextDelta",
    "Timeouts",
    "UnknownModelError",
    "Usage",
    "Wait",
    "batch_map",
    "cached_conversation",
    "cached_system",
    "classify",
    "correlation_id",
    "correlation_scope",
    "exhausted",
    "new_correlation_id",
]
