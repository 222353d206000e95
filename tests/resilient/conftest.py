from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable

import anthropic
import httpx2
import pytest
import uvicorn

from resilient import ResilientClient
from resilient.policy import Policy, RetryPolicy, Timeouts
from resilient.simulator import Simulator, SimulatorConfig, SimulatorTransport, make_asgi_app
from resilient.simulator.asgi import quiet_simulated_drops

# Tiny timeouts and no real waits: a fault drill end to end costs milliseconds.
FAST = Policy(
    retry=RetryPolicy(max_attempts=4, base=0.01, cap=0.05, deadline=30.0, max_single_wait=10.0),
    timeouts=Timeouts(connect=1.0, first_token=0.3, idle=0.3, total=5.0),
)

MODEL = "claude-haiku-4-5"
MESSAGES = [{"role": "user", "content": "How should I retry a 429?"}]


async def no_sleep(seconds: float) -> None:
    return None


def sdk_for(
    transport: httpx2.AsyncBaseTransport | None = None,
    base_url: str = "http://sim.test",
    http_client: httpx2.AsyncClient | None = None,
):
    """An SDK client over `transport` (the simulator's, in process), or over `http_client`,
    or over the SDK's default HTTP client."""
    if transport is not None:
        http_client = httpx2.AsyncClient(transport=transport)
    return anthropic.AsyncAnthropic(
        api_key="sk-test", base_url=base_url, max_retries=0, http_client=http_client
    )


@pytest.fixture
def make_sim() -> Callable[..., Simulator]:
    def make(**config) -> Simulator:
        config.setdefault("ping_interval", 0.05)
        return Simulator(SimulatorConfig(**config))

    return make


@pytest.fixture
def make_client():
    def make(sim: Simulator, **kwargs) -> ResilientClient:
        kwargs.setdefault("policy", FAST)
        kwargs.setdefault("sleep", no_sleep)
        return ResilientClient(sdk_for(SimulatorTransport(sim)), **kwargs)

    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(sim: Simulator) -> AsyncIterator[str]:
    """The simulator's ASGI app served by uvicorn on a loopback port: yields its base URL."""
    port = free_port()
    quiet_simulated_drops()
    server = uvicorn.Server(
        uvicorn.Config(make_asgi_app(sim), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "simulator did not start on 127.0.0.1"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 5)
