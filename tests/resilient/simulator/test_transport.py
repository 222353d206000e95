"""Contract tests: the real SDK talking to the simulator through its in-process transport."""

from __future__ import annotations

import time

import anthropic
import httpx2
import pytest

from resilient.errors import TimedOut
from resilient.simulator import Simulator, SimulatorConfig, SimulatorTransport
from resilient.simulator.engine import DEFAULT_LIMITS
from tests.resilient.simulator.sdk_faults import (
    HTTP_FAULT_IDS,
    HTTP_FAULTS,
    MODEL,
    PIECES,
    REPLY,
    STREAM_FAULT_IDS,
    STREAM_FAULTS,
    check_http_fault,
    check_pings_before_first_token,
    failure_of,
    reply,
)

T0 = 1_700_000_000.0
USER = [{"role": "user", "content": "Explain backoff."}]


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def sdk(sim: Simulator) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key="test",
        base_url="http://simulator.local",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=SimulatorTransport(sim)),
    )


def make(
    config: SimulatorConfig | None = None, **kwargs
) -> tuple[Simulator, anthropic.AsyncAnthropic]:
    sim = Simulator(config or SimulatorConfig(), responder=kwargs.pop("responder", reply), **kwargs)
    return sim, sdk(sim)


async def test_it_answers_messages_create():
    sim, client = make()
    message = await client.messages.create(model=MODEL, max_tokens=100, messages=USER)
    assert message.content[0].text == REPLY
    assert (message.model, message.stop_reason, message.role) == (MODEL, "end_turn", "assistant")
    assert message.id.startswith("msg_sim_")
    assert message.usage.output_tokens == len(PIECES)
    assert message.usage.input_tokens == 4  # "Explain backoff." is 16 characters
    assert (sim.stats.attempts, sim.stats.completed, sim.stats.in_flight) == (1, 1, 0)


async def test_it_streams_with_the_sdk_helper():
    sim, client = make()
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        texts = [text async for text in stream.text_stream]
        final = await stream.get_final_message()
    assert texts == PIECES
    assert final.content[0].text == REPLY
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == len(PIECES)
    assert sim.stats.completed == 1


async def test_the_default_responder_quotes_the_user():
    sim = Simulator()
    message = await sdk(sim).messages.create(model=MODEL, max_tokens=200, messages=USER)
    assert "Explain backoff." in message.content[0].text
    assert "simulator" in message.content[0].text


async def test_it_counts_tokens_like_create_does():
    _sim, client = make()
    system = "You are a patient coach."
    counted = await client.messages.count_tokens(model=MODEL, system=system, messages=USER)
    message = await client.messages.create(
        model=MODEL, max_tokens=100, system=system, messages=USER
    )
    assert counted.input_tokens == message.usage.input_tokens == 6 + 4


async def test_raw_responses_carry_request_id_and_ratelimit_headers():
    _sim, client = make(SimulatorConfig(rpm=50, itpm=40_000, otpm=8_000), clock=FakeClock())
    raw = await client.messages.with_raw_response.create(model=MODEL, max_tokens=100, messages=USER)
    headers = raw.headers
    assert headers["request-id"].startswith("req_sim_")
    assert headers["request-id"] == raw.request_id
    assert headers["anthropic-ratelimit-requests-limit"] == "50"
    assert headers["anthropic-ratelimit-requests-remaining"] == "49"
    assert headers["anthropic-ratelimit-requests-reset"] == "2023-11-14T22:13:22Z"  # 1.2 s
    assert headers["anthropic-ratelimit-input-tokens-limit"] == "40000"
    assert headers["anthropic-ratelimit-input-tokens-remaining"] == "40000"  # rounded
    # 100 reserved for max_tokens at admission, then settled to the 12 produced.
    assert headers["anthropic-ratelimit-output-tokens-remaining"] == "8000"
    for name in ("tokens", "input-tokens", "output-tokens"):
        assert headers[f"anthropic-ratelimit-{name}-reset"].endswith("Z")
    message = await raw.parse()
    assert message.content[0].text == REPLY


async def test_unconfigured_limits_are_the_default_tier_and_still_reported():
    _sim, client = make()
    raw = await client.messages.with_raw_response.create(model=MODEL, max_tokens=10, messages=USER)
    headers = raw.headers
    assert int(headers["anthropic-ratelimit-requests-limit"]) == DEFAULT_LIMITS.rpm
    assert int(headers["anthropic-ratelimit-input-tokens-limit"]) == DEFAULT_LIMITS.itpm
    assert int(headers["anthropic-ratelimit-output-tokens-limit"]) == DEFAULT_LIMITS.otpm


async def test_a_cached_prefix_is_written_once_then_read():
    _sim, client = make()
    persona = "You are the retry coach. " * 200  # 5000 characters: 1250 tokens
    system = [{"type": "text", "text": persona, "cache_control": {"type": "ephemeral"}}]

    async def usage():
        message = await client.messages.create(
            model=MODEL, max_tokens=100, system=system, messages=USER
        )
        u = message.usage
        return u.input_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens

    assert await usage() == (4, 1250, 0)
    assert await usage() == (4, 0, 1250)
    async with client.messages.stream(
        model=MODEL, max_tokens=100, system=system, messages=USER
    ) as stream:
        final = await stream.get_final_message()
    assert final.usage.cache_read_input_tokens == 1250


@pytest.mark.parametrize("case", HTTP_FAULTS, ids=HTTP_FAULT_IDS)
async def test_each_http_fault_surfaces_as_the_sdk_error(case):
    sim, client = make(SimulatorConfig(faults=case[0]))
    await check_http_fault(client, {}, case)
    assert sim.stats.by_status == {case[2]: 1}
    # The plan is used up: the next attempt succeeds.
    message = await client.messages.create(model=MODEL, max_tokens=100, messages=USER)
    assert message.stop_reason == "end_turn"


@pytest.mark.parametrize(("plan", "check"), STREAM_FAULTS, ids=STREAM_FAULT_IDS)
async def test_each_stream_fault_surfaces_as_the_sdk_sees_it(plan, check):
    sim, client = make(SimulatorConfig(faults=plan))
    await check(client, {})
    assert sim.stats.in_flight == 0


async def test_slow_ttft_sends_pings_while_waiting():
    sim = Simulator(SimulatorConfig(faults="slow_ttft=0.3", ping_interval=0.05), responder=reply)
    http = httpx2.AsyncClient(transport=SimulatorTransport(sim), base_url="http://simulator.local")
    await check_pings_before_first_token(http, {})


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ("drop@2", anthropic.APIConnectionError),
        ("stall", anthropic.APITimeoutError),
        ("error@2", anthropic.OverloadedError),
        ("error@2:api_error", anthropic.InternalServerError),
    ],
)
async def test_non_streaming_faults_surface_as_sdk_errors(plan, expected):
    _sim, client = make(SimulatorConfig(faults=plan))
    with pytest.raises(expected) as info:
        await client.with_options(timeout=0.2).messages.create(
            model=MODEL, max_tokens=100, messages=USER
        )
    assert type(info.value) is expected


async def test_the_transport_really_streams():
    # 40 tokens a second: the whole reply takes 0.275 s to produce.
    sim, client = make(SimulatorConfig(tokens_per_second=40))
    started = time.monotonic()
    produced_at_first_token = None
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        async for _text in stream.text_stream:
            if produced_at_first_token is None:
                produced_at_first_token = sim.stats.output_tokens
                first_token_at = time.monotonic() - started
    total = time.monotonic() - started
    assert produced_at_first_token == 1
    assert sim.stats.output_tokens == len(PIECES)
    assert first_token_at < 0.1 < 0.25 < total


async def test_ttft_delays_only_the_first_token():
    _sim, client = make(SimulatorConfig(ttft=0.2))
    started = time.monotonic()
    stamps = []
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        async for _text in stream.text_stream:
            stamps.append(time.monotonic() - started)
    assert stamps[0] >= 0.2
    assert stamps[-1] - stamps[0] < 0.1


async def test_closing_a_stream_early_cancels_the_producer():
    sim, client = make(SimulatorConfig(tokens_per_second=50))
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        async for _text in stream.text_stream:
            break
    assert (sim.stats.cancelled, sim.stats.completed, sim.stats.in_flight) == (1, 0, 0)
    assert sim.stats.output_tokens < len(PIECES)


async def test_a_stalled_stream_ends_when_the_client_gives_up():
    sim, client = make(SimulatorConfig(faults="stall"))
    with pytest.raises(Exception) as info:
        async with client.with_options(timeout=0.05).messages.stream(
            model=MODEL, max_tokens=100, messages=USER
        ) as stream:
            await stream.get_final_message()
    assert type(failure_of(info.value)) is TimedOut
    assert (sim.stats.cancelled, sim.stats.in_flight) == (1, 0)


async def test_fault_plans_per_key_keep_their_own_cursor():
    sim, client = make(SimulatorConfig(faults="500"))

    async def status(key: str | None, plan: str | None) -> int:
        headers = {}
        if plan is not None:
            headers["x-simulator-faults"] = plan
        if key is not None:
            headers["x-simulator-fault-key"] = key
        try:
            await client.messages.create(
                model=MODEL, max_tokens=100, messages=USER, extra_headers=headers
            )
        except anthropic.APIStatusError as exc:
            return exc.status_code
        return 200

    a, b = ("turn-a", "529,ok"), ("turn-b", "529,529,429:retry_after=0")
    assert [await status(*a), await status(*b), await status(*a), await status(*b)] == [
        529,
        529,
        200,
        529,
    ]
    assert [await status(*b), await status(*b), await status(*a)] == [429, 200, 200]
    # Requests without the header follow the default plan on its own cursor.
    assert [await status(None, None), await status(None, None)] == [500, 200]
    # A plan header without a key uses the plan text itself as the key.
    assert [await status(None, "503"), await status(None, "503")] == [503, 200]
    assert sim.stats.attempts == 11


async def test_a_bad_plan_header_is_a_400_naming_the_item():
    _sim, client = make()
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=USER,
            extra_headers={"x-simulator-faults": "429,drop@soon"},
        )
    assert "'drop@soon'" in info.value.api_message


async def test_set_faults_replaces_the_default_plan():
    sim, client = make(SimulatorConfig(faults="500*5"))
    sim.set_faults("529")
    with pytest.raises(anthropic.OverloadedError):
        await client.messages.create(model=MODEL, max_tokens=100, messages=USER)
    assert (await client.messages.create(model=MODEL, max_tokens=100, messages=USER)).content


async def test_rpm_limit_refuses_the_request_beyond_the_bucket_until_it_refills():
    clock = FakeClock()
    sim, client = make(SimulatorConfig(rpm=60), clock=clock)
    for expected_remaining in (59, 58):
        raw = await client.messages.with_raw_response.create(
            model=MODEL, max_tokens=10, messages=USER
        )
        assert raw.headers["anthropic-ratelimit-requests-remaining"] == str(expected_remaining)
    for _ in range(58):
        await client.messages.create(model=MODEL, max_tokens=10, messages=USER)
    with pytest.raises(anthropic.RateLimitError) as info:
        await client.messages.create(model=MODEL, max_tokens=10, messages=USER)
    headers = info.value.response.headers
    assert headers["retry-after"] == "1"  # 60 per minute refills one a second
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert headers["anthropic-ratelimit-requests-reset"] == "2023-11-14T22:14:20Z"  # T0 + 60 s
    assert "60 requests per minute" in info.value.api_message
    clock.now += 1
    await client.messages.create(model=MODEL, max_tokens=10, messages=USER)
    assert (sim.stats.rate_limited, sim.stats.by_status) == (1, {200: 61, 429: 1})


async def test_input_token_limit_gives_a_retry_after_that_is_enough():
    clock = FakeClock()
    _sim, client = make(SimulatorConfig(itpm=1000), clock=clock)
    big = [{"role": "user", "content": "x" * 2400}]  # 600 input tokens
    await client.messages.create(model=MODEL, max_tokens=10, messages=big)
    with pytest.raises(anthropic.RateLimitError) as info:
        await client.messages.create(model=MODEL, max_tokens=10, messages=big)
    # 200 more tokens at 1000/60 a second: 12 s.
    assert info.value.response.headers["retry-after"] == "12"
    clock.now += 11
    with pytest.raises(anthropic.RateLimitError):
        await client.messages.create(model=MODEL, max_tokens=10, messages=big)
    clock.now += 1
    await client.messages.create(model=MODEL, max_tokens=10, messages=big)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"max_tokens": 10, "messages": USER}, "model: Field required"),
        ({"model": MODEL, "messages": USER}, "max_tokens: Field required"),
        ({"model": MODEL, "max_tokens": 10, "messages": []}, "messages: Field required"),
        (
            {"model": MODEL, "max_tokens": 10, "messages": [{"role": "bot", "content": "x"}]},
            "messages.0.role",
        ),
    ],
)
async def test_invalid_bodies_get_invalid_request_errors(body, message):
    sim = Simulator(responder=reply)
    http = httpx2.AsyncClient(transport=SimulatorTransport(sim), base_url="http://simulator.local")
    response = await http.post("/v1/messages", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert message in error["error"]["message"]
    assert error["request_id"] == response.headers["request-id"]


async def test_unknown_paths_are_404_not_found_errors():
    sim = Simulator()
    http = httpx2.AsyncClient(transport=SimulatorTransport(sim), base_url="http://simulator.local")
    response = await http.get("/v1/models")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    assert sim.stats.attempts == 0
