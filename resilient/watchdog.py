"""The deadlines of one streaming attempt, kept by a single timer that is rarely rescheduled.

An attempt has a moving deadline (no response, then no first token, then no progress for
`idle` seconds) under a fixed one (the whole attempt). Wrapping every read in
`asyncio.timeout` would schedule and cancel a timer per event; here moving the deadline is an
assignment, and the timer, when it fires early, re-arms itself for the deadline as it is now.

The deadline only runs while the attempt waits for the upstream (`armed`): while the caller
handles a piece of text the attempt is paused, so a slow consumer never times the upstream
out, and a cancellation never lands in the consumer's own code. On expiry the task is
cancelled and `__aexit__` turns that into `TimedOut` with the label of the deadline that was
missed; a cancellation from outside stays a cancellation.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from resilient.errors import TimedOut


class Watchdog:
    def __init__(self, total: float, total_label: str, first: float, first_label: str) -> None:
        self._loop = asyncio.get_running_loop()
        now = self._loop.time()
        self._total_at = now + total
        self._total_label = total_label
        self._at = now
        self._label = ""
        self._armed = True
        self._handle: asyncio.TimerHandle | None = None
        self._handle_at = 0.0
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0
        self.expired = False
        self.until(now + first, first_label)

    def until(self, at: float, label: str) -> None:
        """Set the moving deadline (loop time); the whole attempt's deadline still applies."""
        if at >= self._total_at:
            at, label = self._total_at, self._total_label
        self._at = at
        self._label = label
        self._armed = True
        if self._handle is not None and self._handle_at > at:
            self._handle.cancel()
            self._handle = None
        if self._handle is None:
            self._handle = self._loop.call_at(at, self._fire)
            self._handle_at = at

    def within(self, seconds: float, label: str) -> None:
        self.until(self._loop.time() + seconds, label)

    def pause(self) -> None:
        self._armed = False

    @property
    def deadline(self) -> float:
        return self._at

    async def __aenter__(self) -> Watchdog:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Watchdog must be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if (
            self.expired
            and self._task is not None
            # Always uncancel our own cancel; only then is a CancelledError ours to convert.
            and self._task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            raise TimedOut(self._label) from exc

    def _fire(self) -> None:
        self._handle = None
        if not self._armed or self.expired or self._task is None:
            return
        if self._loop.time() < self._at:
            self._handle = self._loop.call_at(self._at, self._fire)
            self._handle_at = self._at
            return
        self.expired = True
        self._task.cancel()
