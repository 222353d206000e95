"""A representative set of faults through the simulator's ASGI app on a real loopback socket,
over the SDK's default HTTP transport and over the lean streaming one the labs use."""

from __future__ import annotations

import asyncio

import pytest

from resilient import Completed, Degraded, ResilientClient, Restart, Retrying, TextDelta
from resilient.simulator import Simulator, SimulatorConfig
from resilient.transport import StreamingTransport
from tests.resilient.conftest import FAST, MESSAGES, MODEL, no_sleep, sdk_for, serving


@pytest.fixture(params=["sdk-default", "streaming"])
def transport(request):
    """A factory for the HTTP transport under test (None: the SDK's own default client)."""
    return StreamingTransport if request.param == "streaming" else (lambda: None)


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
async def test_faults_over_http(served, transport, plan, expected):
    sim, url = served
    sim.set_faults(plan)
    client = ResilientClient(
        sdk_for(transport(), base_url=url), policy=FAST, sleep=no_sleep, read_interval=0.01
    )
    events = [e async for e in client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)]
    assert [type(e).__name__ for e in events if not isinstance(e, TextDelta)] == expected
    if isinstance(events[-1], Completed):
        assert events[-1].stop_reason == "end_turn" and events[-1].text.startswith("You said:")
    else:
        assert isinstance(events[-1], Degraded)
    assert all(isinstance(e, Retrying | Restart | TextDelta) for e in events[:-1])


async def test_closing_the_iterator_closes_the_http_connection(served, transport):
    sim, url = served
    sim.set_faults("ok")
    client = ResilientClient(sdk_for(transport(), base_url=url), policy=FAST)
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
    sdk = sdk_for(StreamingTransport(), base_url=url)
    replies = []
    for interval in (0.0, 0.05):
        client = ResilientClient(sdk, policy=FAST, read_interval=interval)
        events = [e async for e in client.stream(model=MODEL, max_tokens=100, messages=MESSAGES)]
        texts = [e.text for e in events if isinstance(e, TextDelta)]
        final = events[-1]
        assert isinstance(final, Completed) and "".join(texts) == final.text
        replies.append((len(texts), final.usage.output_tokens))
    (unpaced_pieces, tokens), (paced_pieces, paced_tokens) = replies
    assert tokens == paced_tokens and unpaced_pieces >= tokens // 2
    assert paced_pieces < unpaced_pieces / 3  # 400 tokens/s read every 50 ms: ~20 a piece
