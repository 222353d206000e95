"""The channel layer of the embedded mode: Channels' in-memory layer, swept less often.

The stock in-memory layer walks every channel queue and every group membership of the
process on each `send`, `group_send` and `receive`, to drop expired messages. With a few
hundred lab sockets open that walk cost more than the messages themselves (about a tenth of
the server's CPU in `python -m bench.relay` at 200 learners). Messages expire after `expiry`
seconds (60 by default) and memberships after a day, so sweeping at most every
`SWEEP_INTERVAL` seconds moves an expiry by no more than that.
"""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer

SWEEP_INTERVAL = 1.0


class SweptInMemoryChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]  # no type hints
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._swept = float("-inf")

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._swept < SWEEP_INTERVAL:
            return
        self._swept = now
        super()._clean_expired()
