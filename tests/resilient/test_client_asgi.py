"""A representative set of faults through the simulator's ASGI app on a real loopback socket,
over the SDK's default HTTP client (httpx) and over its aiohttp client, which real-API turns use."""

from __future__ import annotations

import asyncio

import anthropic
import psutil
import pytest

from resilient import Completed, Degraded, ResilientClient, Restart, Retrying, TextDelta
from resilient.policy import Policy, Timeouts
from resilient.simulator import Simulator, SimulatorConfig
from tests.resilient.conftest import FAST, MESSAGES, MODEL, no_sleep, sdk_for, serving

# FAST's deadlines with room for a pause of the garbage collector (a few hundred ms on a busy
# machine): the server shares this process, and a missed deadline here is a spurious retry.
LOOPBACK = Policy(FAST.retry, Timeouts(connect=1.0, first_token=1.0, idle=0.5, total=5.0))


@pytest.fixture(params=["httpx", "aiohttp"])
async def sdk(request, served):
    """The SDK against the served simulator, over the HTTP client under test."""
    _, url = served
    http_client = anthropic.DefaultAioHttpClient() if request.param == "aiohttp" else None
    client = sdk_for(base_url=url, http_client=http_client)
    yield client
    await client.close()


@pytest.fixture
async def served():
    sim = Simulator(SimulatorConfig(ping_interval=0.05, tokens_per_second=400))
    async with serving(sim) as url:
        yield sim, url


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
async def test_faults_over_http(served, sdk, plan, expected):
    sim, _ = served
    sim.set_faults(plan)
    client = ResilientClient(sdk, policy=LOOPBACK, sleep=no_sleep, read_interval=0.01)
    events = [e async for e in client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)]
    assert [type(e).__name__ for e in events if not isinstance(e, TextDelta)] == expected
    if isinstance(events[-1], Completed):
        assert events[-1].stop_reason == "end_turn" and events[-1].text.startswith("You said:")
    else:
        assert isinstance(events[-1], Degraded)
    assert all(isinstance(e, Retrying | Restart | TextDelta) for e in events[:-1])


async def test_closing_the_iterator_closes_the_http_connection(served, sdk):
    sim, _ = served
    sim.set_faults("ok")
    client = ResilientClient(sdk, policy=LOOPBACK)
    stream = client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()
    for _ in range(200):
        if sim.stats.cancelled:
            break
        await asyncio.sleep(0.01)
    assert sim.stats.cancelled == 1 and sim.stats.completed == 0


async def test_paced_replies_come_whole_in_fewer_pieces(served):
    sim, url = served
    sim.set_faults("ok")
    sdk = sdk_for(base_url=url, http_client=anthropic.DefaultAioHttpClient())
    replies = []
    for interval in (0.0, 0.05):
        client = ResilientClient(sdk, policy=LOOPBACK, read_interval=interval)
        events = [e async for e in client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)]
        texts = [e.text for e in events if isinstance(e, TextDelta)]
        final = events[-1]
        assert isinstance(final, Completed) and "".join(texts) == final.text
        replies.append((len(texts), final.usage.output_tokens, final.latency))
    await sdk.close()
    (unpaced_pieces, tokens, unpaced_latency), (paced_pieces, paced_tokens, paced_latency) = replies
    assert tokens == paced_tokens and unpaced_pieces >= tokens // 2
    assert paced_pieces < unpaced_pieces / 3  # 400 tokens/s read every 50 ms: ~20 a piece
    assert paced_latency < unpaced_latency + 0.1  # nothing is held back beyond one interval


def connections_to(url: str) -> set[int]:
    """The local ports of this process's open connections to `url`'s port."""
    port = int(url.rsplit(":", 1)[1])
    return {
        c.laddr.port
        for c in psutil.Process().net_connections("tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    }


async def test_a_reply_read_to_its_end_leaves_its_connection_for_the_next(served):
    """Each turn on a new connection would pay a TLS handshake with the real API."""
    sim, url = served
    sim.set_faults("ok")
    sdk = sdk_for(base_url=url, http_client=anthropic.DefaultAioHttpClient())
    client = ResilientClient(sdk, policy=LOOPBACK, read_interval=0.01)
    seen = []
    for _ in range(3):
        events = [e async for e in client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)]
        assert isinstance(events[-1], Completed)
        seen.append(connections_to(url))
    await sdk.close()
    assert len(seen[0]) == 1 and seen[0] == seen[1] == seen[2]
