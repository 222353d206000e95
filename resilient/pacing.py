"""An attempt's wait for the governor: bounded by what the call allows, announced when long.

The governor is shared by every call of the process (or, through Redis, of every worker): a
`retry-after` one call received holds back the next attempt of every other call too, as the
API's limits are the organisation's. A call must not sit silently behind it. It waits at most
what its policy allows for one pause, and never past its deadline; a wait long enough to be
noticed is announced first (`Pacing`); a longer one is not waited at all: the call gives up at
once, saying for how long the limit holds. The patient `BATCH` preset allows long waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from resilient.errors import RateLimited
from resilient.events import Pacing
from resilient.governor import Cost, RateGovernor, WaitTooLong

# Waits shorter than this pass without a word: a learner hardly notices them.
NOTICE_AFTER = 2.0
REASON = "the course is at the AI service's rate limit, which every learner shares"


class GovernedWait:
    """Run `wait()` to its end; then `refused` is set (the call must give up) or `waited` is
    how long the governor held the request, and its slot is the caller's to release."""

    def __init__(self, governor: RateGovernor, cost: Cost, limit: float) -> None:
        self.governor = governor
        self.cost = cost
        self.limit = max(limit, 0.0)
        self.waited = 0.0
        self.refused: RateLimited | None = None

    async def wait(self) -> AsyncGenerator[Pacing, None]:
        announced: asyncio.Queue[float] = asyncio.Queue()
        acquiring = asyncio.ensure_future(
            self.governor.acquire(self.cost, max_wait=self.limit, on_wait=announced.put_nowait)
        )
        handed_over = False
        try:
            while not acquiring.done():
                next_wait = asyncio.ensure_future(announced.get())
                await asyncio.wait({acquiring, next_wait}, return_when=asyncio.FIRST_COMPLETED)
                if not next_wait.done():
                    next_wait.cancel()
                elif next_wait.result() >= NOTICE_AFTER:
                    yield Pacing(next_wait.result(), REASON)
            try:
                self.waited = acquiring.result()
                handed_over = True
            except WaitTooLong as exc:
                self.refused = RateLimited(
                    f"rate limit holds requests for {exc.wait:.1f}s, more than the "
                    f"{self.limit:g}s this call may wait",
                    retriable=False,
                    retry_after=exc.wait,
                )
        finally:
            if not acquiring.done():
                acquiring.cancel()
                with contextlib.suppress(asyncio.CancelledError, WaitTooLong):
                    await acquiring
            elif not handed_over and not acquiring.cancelled() and acquiring.exception() is None:
                # Acquired, but the caller left before it could send: give the slot back.
                await self.governor.release()
