"""The same fault table through the ASGI app, served by uvicorn on loopback.

Plans ride on the per-request headers here, so one server serves every case; each
test uses its own fault key.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Iterator

import anthropic
import httpx2
import pytest

from resilient.errors import TimedOut
from resilient.simulator import Simulator, SimulatorConfig
from tests.resilient.simulator.sdk_faults import (
    HTTP_FAULT_IDS,
    HTTP_FAULTS,
    MODEL,
    PIECES,
    STREAM_FAULT_IDS,
    STREAM_FAULTS,
    check_http_fault,
    check_pings_before_first_token,
    failure_of,
    reply,
)
from tests.served import simulator_in_thread

_keys = itertools.count()


class Served:
    def __init__(self, simulator: Simulator, url: str) -> None:
        self.simulator = simulator
        self.url = url

    def wait_for(self, predicate, seconds: float = 2.0) -> bool:
        deadline = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    simulator = Simulator(SimulatorConfig(ping_interval=0.05), responder=reply)
    with simulator_in_thread(simulator) as url:
        yield Served(simulator, url)


@pytest.fixture
async def client(served) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(api_key="test", base_url=served.url, max_retries=0) as sdk:
        yield sdk


def plan_headers(plan: str) -> dict[str, str]:
    return {"x-simulator-faults": plan, "x-simulator-fault-key": f"asgi-{next(_keys)}"}


async def test_it_serves_create_and_stream(client):
    message = await client.messages.create(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].text == "".join(PIECES)
    async with client.messages.stream(
        model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        assert [t async for t in stream.text_stream] == PIECES
        assert (await stream.get_final_message()).stop_reason == "end_turn"
    counted = await client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "hi"}]
    )
    assert counted.input_tokens == 1


@pytest.mark.parametrize("case", HTTP_FAULTS, ids=HTTP_FAULT_IDS)
async def test_each_http_fault_surfaces_as_the_sdk_error(client, case):
    await check_http_fault(client, plan_headers(case[0]), case)


@pytest.mark.parametrize(("plan", "check"), STREAM_FAULTS, ids=STREAM_FAULT_IDS)
async def test_each_stream_fault_surfaces_as_the_sdk_sees_it(client, plan, check):
    await check(client, plan_headers(plan))


async def test_slow_ttft_sends_pings_while_waiting(served):
    async with httpx2.AsyncClient(base_url=served.url) as http:
        await check_pings_before_first_token(http, plan_headers("slow_ttft=0.3"))


async def test_a_client_that_gives_up_on_a_stall_cancels_the_producer(served, client):
    stats = served.simulator.stats
    before = stats.cancelled
    with pytest.raises(Exception) as info:
        async with client.with_options(timeout=0.1).messages.stream(
            model=MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers=plan_headers("stall"),
        ) as stream:
            await stream.get_final_message()
    assert type(failure_of(info.value)) is TimedOut
    assert served.wait_for(lambda: stats.cancelled == before + 1)
    assert served.wait_for(lambda: stats.in_flight == 0)
