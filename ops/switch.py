"""The coach switch, read once per turn: the offline coach for everyone, or a cheaper model.

`labs.backend.choose_backend()` calls `current()` for every turn and every lab page, from
plain views and from the websocket's event loop alike. The value is cached for a few seconds
(in Redis when configured, so every worker agrees; in process memory otherwise), so a turn
costs a cache read, not a query. A change made on the dashboard or in the admin writes the
cache at once; a change made any other way is picked up within `CACHE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import connections

logger = logging.getLogger(__name__)

CACHE_KEY = "ops:coach-switch:v1"
CACHE_SECONDS = 5
READ_TIMEOUT = 2.0
SINGLETON_PK = 1

# One thread for reads made from inside an event loop, where Django refuses ORM calls.
_reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ops-switch")


@dataclass(frozen=True)
class Switch:
    offline: bool = False  # True: every coach turn uses the offline coach
    model: str = ""  # a model id to use instead of COACH_MODEL; "" keeps COACH_MODEL

    @property
    def backend(self) -> str:
        return "offline" if self.offline else "auto"


AUTO = Switch()


def _from_row() -> Switch:
    from ops.models import CoachSwitch

    row = CoachSwitch.objects.filter(pk=SINGLETON_PK).first()
    if row is None:
        return AUTO
    return Switch(offline=row.backend == CoachSwitch.Backend.OFFLINE, model=row.model_override)


def _read_in_thread() -> Switch:
    try:
        return _from_row()
    finally:
        # This thread's connection is not managed by a request; do not keep it open.
        connections.close_all()


def _remember(switch: Switch) -> None:
    cache.set(CACHE_KEY, (switch.offline, switch.model), CACHE_SECONDS)


def current() -> Switch:
    """The switch as it is now; `AUTO` when it was never set or cannot be read."""
    cached = cache.get(CACHE_KEY)
    if isinstance(cached, tuple) and len(cached) == 2:
        return Switch(offline=bool(cached[0]), model=str(cached[1]))
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            switch = _from_row()
        else:
            # At most once per CACHE_SECONDS per worker, a one-row primary-key read.
            switch = _reader.submit(_read_in_thread).result(timeout=READ_TIMEOUT)
    except Exception:
        # The switch only overrides the configuration; if it cannot be read (database down,
        # not migrated yet), the coaches run as configured rather than not at all.
        logger.warning("coach switch unreadable; coaches run as configured", exc_info=True)
        return AUTO
    _remember(switch)
    return switch


async def acurrent() -> Switch:
    return await sync_to_async(current, thread_sensitive=False)()


def save(*, offline: bool, model: str, note: str = "", user_id: int | None = None) -> Switch:
    """Store the switch and publish it to the cache so the next turn sees it."""
    from ops.models import CoachSwitch

    CoachSwitch.objects.update_or_create(
        pk=SINGLETON_PK,
        defaults={
            "backend": CoachSwitch.Backend.OFFLINE if offline else CoachSwitch.Backend.AUTO,
            "model_override": model,
            "note": note,
            "updated_by_id": user_id,
        },
    )
    return publish()


def publish() -> Switch:
    """Re-read the stored switch into the cache (after any write, e.g. from the admin)."""
    cache.delete(CACHE_KEY)
    switch = _from_row()
    _remember(switch)
    return switch
