from __future__ import annotations

import asyncio

import pytest

from resilient.errors import TimedOut
from resilient.watchdog import Watchdog


async def test_it_times_out_with_the_label_of_the_deadline_that_was_missed():
    with pytest.raises(TimedOut, match="no first token"):
        async with Watchdog(5.0, "not finished", 0.02, "no first token"):
            await asyncio.sleep(1)


async def test_moving_the_deadline_later_keeps_a_stream_that_makes_progress_alive():
    async with Watchdog(5.0, "not finished", 0.05, "first") as watchdog:
        for _ in range(6):  # 0.12 s in all: well past the first 0.05 s deadline
            await asyncio.sleep(0.02)
            watchdog.within(0.05, "idle")
    assert not watchdog.expired


async def test_a_deadline_moved_earlier_fires_at_the_earlier_time():
    loop = asyncio.get_running_loop()
    begun = loop.time()
    with pytest.raises(TimedOut, match="idle"):
        async with Watchdog(5.0, "not finished", 2.0, "first") as watchdog:
            watchdog.within(0.02, "idle")
            await asyncio.sleep(1)
    assert loop.time() - begun < 0.5


async def test_the_whole_attempt_deadline_caps_every_other_one():
    with pytest.raises(TimedOut, match="not finished"):
        async with Watchdog(0.05, "not finished", 0.02, "first") as watchdog:
            for _ in range(10):
                await asyncio.sleep(0.015)
                watchdog.within(1.0, "idle")


async def test_a_paused_watchdog_lets_the_consumer_take_its_time():
    async with Watchdog(5.0, "not finished", 0.02, "first") as watchdog:
        watchdog.pause()
        await asyncio.sleep(0.08)  # the caller handling a piece of text
        watchdog.within(0.05, "idle")
        await asyncio.sleep(0.01)
    assert not watchdog.expired


async def test_a_cancellation_from_outside_stays_a_cancellation():
    async def attempt() -> None:
        async with Watchdog(5.0, "not finished", 5.0, "first"):
            await asyncio.sleep(1)

    task = asyncio.create_task(attempt())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
