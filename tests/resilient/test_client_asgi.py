"""A representative set of faults through the simulator's ASGI app on a real loopback socket."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn

from resilient import Completed, Degraded, ResilientClient, Restart, Retrying, TextDelta
from resilient.simulator import Simulator, SimulatorConfig
from resilient.simulator.asgi import quiet_simulated_drops
from tests.resilient.conftest import FAST, MESSAGES, MODEL, no_sleep, sdk_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served():
    sim = Simulator(SimulatorConfig(ping_interval=0.05, tokens_per_second=400))
    port = free_port()
    quiet_simulated_drops()
    server = uvicorn.Server(
        uvicorn.Config(sim.asgi_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "simulator did not start on 127.0.0.1"
    yield sim, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 5)


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ("ok", ["Completed"]),
        ("429:retry_after=1", ["Retrying", "Completed"]),
        ("529", ["Retrying", "Completed"]),
        ("drop@4", ["Restart", "Completed"]),
        ("error@4", ["Restart", "Completed"]),
        ("eof@4", ["Restart", "Completed"]),
        ("stall@2", ["Restart", "Completed"]),
        ("400", ["Degraded"]),
        ("spend_cap", ["Degraded"]),
    ],
)
async def test_faults_over_http(served, plan, expected):
    sim, url = served
    sim.set_faults(plan)
    client = ResilientClient(sdk_for(base_url=url), policy=FAST, sleep=no_sleep)
    events = [e async for e in client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)]
    assert [type(e).__name__ for e in events if not isinstance(e, TextDelta)] == expected
    if isinstance(events[-1], Completed):
        assert events[-1].stop_reason == "end_turn" and events[-1].text.startswith("You said:")
    else:
        assert isinstance(events[-1], Degraded)
    assert all(isinstance(e, Retrying | Restart | TextDelta) for e in events[:-1])


async def test_closing_the_iterator_closes_the_http_connection(served):
    sim, url = served
    sim.set_faults("ok")
    client = ResilientClient(sdk_for(base_url=url), policy=FAST)
    stream = client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()
    for _ in range(200):
        if sim.stats.cancelled:
            break
        await asyncio.sleep(0.01)
    assert sim.stats.cancelled == 1 and sim.stats.completed == 0
