"""The coach switch, read once per turn: the offline coach for everyone, or a cheaper model.

`labs.backend.choose_backend` applies it to every turn and every lab page. The value is cached
for a few seconds (in Redis when configured, so every worker agrees; in process memory
otherwise), so a turn costs a cache read, not a query. The websocket's turns read it with
`acurrent`, which never blocks the event loop (the cache's async API; the row, on a miss,
through Channels' database hop); pages read it with `current`. A change made on the dashboard
or in the admin writes the cache at once; a change made any other way is picked up within
`CACHE_SECONDS`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.core.cache import cache
from django.db import DatabaseError

from labs.models import CoachSwitch

logger = logging.getLogger(__name__)

CACHE_KEY = "labs:coach-switch:v1"
CACHE_SECONDS = 5
SINGLETON_PK = 1


@dataclass(frozen=True)
class Switch:
    offline: bool = False  # True: every coach turn uses the offline coach
    model: str = ""  # a model id to use instead of COACH_MODEL; "" keeps COACH_MODEL

    @property
    def backend(self) -> str:
        return "offline" if self.offline else "auto"


AUTO = Switch()


def _from_row() -> Switch:
    """The stored switch; `AUTO` when it was never set or cannot be read."""
    try:
        row = CoachSwitch.objects.filter(pk=SINGLETON_PK).first()
    except DatabaseError:
        # The switch only overrides the configuration; if it cannot be read (database down,
        # not migrated yet), the coaches run as configured rather than not at all.
        logger.warning("coach switch unreadable; coaches run as configured", exc_info=True)
        return AUTO
    if row is None:
        return AUTO
    return Switch(offline=row.backend == CoachSwitch.Backend.OFFLINE, model=row.model_override)


def _cached(value: object) -> Switch | None:
    if isinstance(value, tuple) and len(value) == 2:
        return Switch(offline=bool(value[0]), model=str(value[1]))
    return None


def _value(switch: Switch) -> tuple[bool, str]:
    return (switch.offline, switch.model)


def current() -> Switch:
    """The switch as it is now, for synchronous code (views, management commands)."""
    switch = _cached(cache.get(CACHE_KEY))
    if switch is None:
        switch = _from_row()
        cache.set(CACHE_KEY, _value(switch), CACHE_SECONDS)
    return switch


async def acurrent() -> Switch:
    """The switch as it is now, for the event loop."""
    switch = _cached(await cache.aget(CACHE_KEY))
    if switch is None:
        switch = await database_sync_to_async(_from_row)()
        await cache.aset(CACHE_KEY, _value(switch), CACHE_SECONDS)
    return switch


def save(*, offline: bool, model: str, note: str = "", user_id: int | None = None) -> Switch:
    """Store the switch and publish it to the cache so the next turn sees it."""
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
    switch = _from_row()
    cache.set(CACHE_KEY, _value(switch), CACHE_SECONDS)
    return switch
