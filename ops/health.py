"""`/healthz`: is each part this worker depends on working? No secrets in the answer."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection

logger = logging.getLogger(__name__)

LAYER_TIMEOUT = 2.0


def _database() -> dict[str, Any]:
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {
        "ok": True,
        "vendor": connection.vendor,
        "ms": round((time.perf_counter() - t0) * 1000, 1),
    }


async def database() -> dict[str, Any]:
    return await sync_to_async(_database)()


async def channel_layer() -> dict[str, Any]:
    """A message to ourselves through the layer: proves Redis (or memory) round-trips."""
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "no channel layer configured"}
    t0 = time.perf_counter()
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await asyncio.wait_for(layer.receive(channel), LAYER_TIMEOUT)
    ok = message.get("type") == "healthz.ping"
    return {
        "ok": ok,
        "backend": type(layer).__name__,
        "ms": round((time.perf_counter() - t0) * 1000, 1),
    }


async def coach() -> dict[str, Any]:
    from labs import switch as coach_switch
    from labs.backend import choose_backend

    switch = await coach_switch.acurrent()
    backend = choose_backend(switch)
    return {
        "ok": True,
        "backend": backend.kind,
        "model": backend.model,
        "switch": switch.backend,
        "model_override": bool(switch.model),
    }


CHECKS = {"database": database, "channel_layer": channel_layer, "coach": coach}


async def run() -> tuple[bool, dict[str, Any]]:
    parts: dict[str, Any] = {}
    for name, check in CHECKS.items():
        try:
            parts[name] = await check()
        except Exception as exc:
            # The exception type names the problem; its text may hold a DSN, so it stays in the log.
            logger.exception("health check %s failed", name)
            parts[name] = {"ok": False, "error": type(exc).__name__}
    healthy = all(part.get("ok") for part in parts.values())
    failing = [name for name, part in parts.items() if not part.get("ok")]
    return healthy, {"status": "ok" if healthy else "failing", "failing": failing, **parts}
