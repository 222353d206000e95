"""The relay benchmark's upstream: the Messages API simulator in a process of its own, and
what a client in this process pays per token to stream from it, stack by stack.

`python -m bench.relay_upstream --port P [--ttft S --tokens-per-second T ...]` serves the engine
of `python -m resilient.simulator` (same flags) with the labs' offline responder, so a turn
streams the offline coach's ~190-token reply; Django is set up for the responder's course text.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

from bench.loopback import Process, free_port, start
from bench.relay_learners import QUESTIONS

HTTPX, TURN = 2, 4  # the SDK default stack with the resilient client; the stack a turn uses


class Stack(NamedTuple):
    name: str
    per_token: float  # seconds of this process's CPU per streamed token
    tokens: int


def start_simulator(env: dict[str, str], ttft: float, tokens_per_second: float) -> Process:
    """The simulator process on a free loopback port, answering; the caller stops it."""
    port = free_port()
    command = [sys.executable, "-m", "bench.relay_upstream", "--port", str(port)]
    command += ["--ttft", str(ttft), "--tokens-per-second", str(tokens_per_second)]
    return start(command, env, port, name=f"simulator:{port}")


def _request(index: int) -> dict[str, Any]:
    from django.conf import settings

    from course.registry import get_modules
    from labs.coach import system_prefix
    from resilient import cached_system

    module = get_modules()[0]
    lab = module.labs[index % len(module.labs)]
    return {
        "model": str(settings.COACH_MODEL),
        "max_tokens": int(settings.COACH_MAX_TOKENS),
        "system": cached_system(system_prefix(lab, module.lesson(lab.lesson))),
        "messages": [{"role": "user", "content": QUESTIONS[index % len(QUESTIONS)]}],
    }


def _sdk(aiohttp: bool) -> Any:
    import anthropic
    from django.conf import settings

    return anthropic.AsyncAnthropic(
        api_key=str(settings.ANTHROPIC_API_KEY),
        base_url=settings.ANTHROPIC_BASE_URL,
        max_retries=0,
        http_client=anthropic.DefaultAioHttpClient() if aiohttp else None,
    )


Reply = Callable[[Any, dict[str, Any]], Awaitable[int]]


async def _typed(sdk: Any, request: dict[str, Any]) -> int:
    """The SDK's own typed stream, no resilient client: the text deltas of one reply."""
    tokens = 0
    async for event in await sdk.messages.create(**request, stream=True):
        tokens += event.type == "content_block_delta" and event.delta.type == "text_delta"
    return tokens


async def _sse(sdk: Any, request: dict[str, Any]) -> int:
    """The same reply's body decoded by `resilient.sse`, as `resilient.stream` reads it."""
    from resilient.sse import SSEDecoder

    decoder, tokens = SSEDecoder(), 0
    async with sdk.messages.with_streaming_response.create(**request, stream=True) as response:
        async for chunk in response.iter_bytes():
            for event in decoder.feed(chunk):
                if event.event == "content_block_delta":
                    tokens += json.loads(event.data)["delta"]["type"] == "text_delta"
    return tokens


def _resilient(make_client: Callable[[Any], Any]) -> Reply:
    async def reply(sdk: Any, request: dict[str, Any]) -> int:
        from resilient import Completed

        events = [event async for event in make_client(sdk).stream(**request)]
        return events[-1].usage.output_tokens if isinstance(events[-1], Completed) else 0

    return reply


async def _measure(name: str, sdk: Any, reply: Reply, streams: int) -> Stack:
    await reply(sdk, _request(0))  # a connection, imports, the responder's index: not measured
    requests, tokens = [_request(i) for i in range(streams)], 0
    cpu = time.process_time()
    for _ in range(3):  # three rounds: a short sample is noisy on a shared machine
        tokens += sum(await asyncio.gather(*(reply(sdk, request) for request in requests)))
    return Stack(name, (time.process_time() - cpu) / max(tokens, 1), tokens)


async def _probe_ttft() -> list[float]:
    sdk = _sdk(aiohttp=True)
    ttfts = []
    for index in range(8):
        begun = time.perf_counter()
        async with sdk.messages.stream(**_request(index)) as stream:
            async for _ in stream.text_stream:
                ttfts.append(time.perf_counter() - begun)
                break  # leaving the block closes the response: the simulator stops
    await sdk.close()
    return ttfts


async def _baselines(streams: int) -> tuple[list[float], list[Stack]]:
    from django.conf import settings

    from labs.backend import Backend, client_for
    from resilient import ResilientClient

    ttfts = await _probe_ttft()
    aio, default = _sdk(aiohttp=True), _sdk(aiohttp=False)
    turn = Backend("api", str(settings.COACH_MODEL), str(settings.COACH_MODEL))
    paced = _resilient(lambda _: client_for(turn, None))
    stacks = [
        ("aiohttp, the SDK's typed stream, no resilient client", aio, _typed),
        ("aiohttp, resilient.sse decoding, no resilient client", aio, _sse),
        ("httpx (the SDK's default), resilient client", default, _resilient(ResilientClient)),
        ("aiohttp, resilient client", aio, _resilient(ResilientClient)),
        ("aiohttp, resilient client as a turn runs it (paced reads)", None, paced),
    ]
    measured = [await _measure(*stack, streams) for stack in stacks]
    await asyncio.gather(aio.close(), default.close())
    return ttfts, measured


def baselines(streams: int) -> tuple[list[float], list[Stack]]:
    """(bare SDK TTFTs one at a time, CPU per token of each stack with `streams` at once).

    One event loop for all: the labs' SDK client is cached, with its connections."""
    return asyncio.run(_baselines(streams))


def main(argv: Sequence[str] | None = None) -> int:
    import django
    import uvicorn

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()

    from labs.offline import offline_responder
    from resilient.simulator import Simulator, make_asgi_app
    from resilient.simulator.__main__ import build_parser, config_from_args

    parser = build_parser()
    parser.prog = "python -m bench.relay_upstream"
    args = parser.parse_args(argv)
    simulator = Simulator(config_from_args(args), responder=offline_responder)
    uvicorn.run(make_asgi_app(simulator), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
