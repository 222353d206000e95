from __future__ import annotations

import asyncio

from config import layers
from config.layers import SweptInMemoryChannelLayer


async def test_a_group_message_reaches_every_member():
    layer = SweptInMemoryChannelLayer()
    one, two = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("tabs", one)
    await layer.group_add("tabs", two)
    await layer.group_send("tabs", {"type": "chat.frame", "frame": "hello"})
    assert (await layer.receive(one))["frame"] == "hello"
    assert (await layer.receive(two))["frame"] == "hello"


async def test_expired_messages_are_dropped_at_the_next_sweep(monkeypatch):
    monkeypatch.setattr(layers, "SWEEP_INTERVAL", 0.0)
    layer = SweptInMemoryChannelLayer(expiry=0.01)
    stale = await layer.new_channel()
    await layer.send(stale, {"type": "chat.frame"})
    await asyncio.sleep(0.03)
    await layer.group_send("nobody", {"type": "chat.frame"})  # any call sweeps
    assert stale not in layer.channels


async def test_the_sweep_runs_at_most_once_per_interval(monkeypatch):
    monkeypatch.setattr(layers, "SWEEP_INTERVAL", 60.0)
    layer = SweptInMemoryChannelLayer(expiry=0.01)
    await layer.group_send("nobody", {"type": "chat.frame"})  # the first call sweeps
    stale = await layer.new_channel()
    await layer.send(stale, {"type": "chat.frame"})
    await asyncio.sleep(0.03)
    await layer.group_send("nobody", {"type": "chat.frame"})
    assert stale in layer.channels  # expired, but not swept again within the interval
