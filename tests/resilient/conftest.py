from __future__ import annotations

from collections.abc import Callable

import anthropic
import httpx2
import pytest

from resilient import ResilientClient
from resilient.policy import Policy, RetryPolicy, Timeouts
from resilient.simulator import Simulator, SimulatorConfig

# Tiny timeouts and no real waits: a fault drill end to end costs milliseconds.
FAST = Policy(
    retry=RetryPolicy(max_attempts=4, base=0.01, cap=0.05, deadline=30.0, max_single_wait=10.0),
    timeouts=Timeouts(connect=1.0, first_token=0.3, idle=0.3, total=5.0),
)

MODEL = "claude-haiku-4-5"
MESSAGES = [{"role": "user", "content": "How should I retry a 429?"}]


async def no_sleep(seconds: float) -> None:
    return None


def sdk_for(transport: httpx2.AsyncBaseTransport | None = None, base_url: str = "http://sim.test"):
    return anthropic.AsyncAnthropic(
        api_key="sk-test",
        base_url=base_url,
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=transport) if transport else None,
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
        return ResilientClient(sdk_for(sim.transport()), **kwargs)

    return make
