"""Circuit breaker: after repeated overloads, stop calling for a cool-down.

Retrying into an overloaded service makes the overload worse and keeps each learner waiting
through every backoff. After `threshold` consecutive overload failures the breaker opens:
calls fail fast (or go to a fallback model) until `cooldown` has passed; then one probe call
is let through (half-open) and its outcome closes or re-opens the breaker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self,
        *,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_out = False

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one probe at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._probe_out:
            self._probe_out = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probe_out = False

    def record_overload(self) -> None:
        self._failures += 1
        if self._probe_out or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._probe_out = False

    def record_other_failure(self) -> None:
        """A failure that says nothing about overload (e.g. a 400) ends a probe, not the count."""
        self._probe_out = False
