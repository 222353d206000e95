"""Rate-limit benchmark: three clients against the same binding limit, in one process.

    python -m bench.rate_limit [--n 200] [--concurrency 20] [--rpm 600] [--itpm 80000]

Each client sends N requests (at most `concurrency` in flight) to a fresh in-process
simulator with the same limits:

- `seed`: the course text's `call_with_retry` (async): retry 429s after `retry-after` +-25 %,
  at most 5 attempts, then give up;
- `sdk`: the SDK's own retries, `max_retries=5`;
- `ours`: `ResilientClient` with a `Governor` that learns the limits from response headers.

The theoretical minimum completion time is `max_k (N*c_k - B_k) / r_k` over the dimensions
(requests, input tokens): spend the full bucket B_k at once, then the refill rate r_k. Every
figure is printed as a ratio beside its raw number.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2

from resilient import BATCH, Governor, ResilientClient, batch_map
from resilient.simulator import Simulator, SimulatorConfig, SimulatorTransport

MODEL = "claude-haiku-4-5"
MAX_TOKENS = 128
# ~2000 characters: about 500 input tokens per request.
PROMPT = ("Summarise the retry policy of a batch document pipeline in one line. " * 29).strip()


@dataclass
class Result:
    name: str
    seconds: float
    rate_limited: int
    attempts: int
    lost: int


def sim_for(args: argparse.Namespace) -> Simulator:
    return Simulator(SimulatorConfig(rpm=args.rpm, itpm=args.itpm, ttft=0.05))


def sdk_for(sim: Simulator, max_retries: int) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key="sk-bench",
        base_url="http://sim.bench",
        max_retries=max_retries,
        http_client=httpx2.AsyncClient(
            transport=SimulatorTransport(sim), limits=httpx2.Limits(max_connections=1000)
        ),
    )


def request(i: int) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": MAX_TOKENS,
        "messages": [{"role": "user", "content": f"{PROMPT} #{i:04d}"}],
    }


async def call_with_retry(client: anthropic.AsyncAnthropic, **kwargs: Any) -> Any:
    """The course text's retry loop, made async: retry-after +-25 %, 5 attempts."""
    max_retries = 5
    base_delay = 1.0
    max_delay = 60.0
    for attempt in range(max_retries):
        try:
            return await client.messages.create(**kwargs)
        except anthropic.RateLimitError as e:
            if attempt == max_retries - 1:
                raise
            retry_after = float(e.response.headers.get("retry-after", base_delay * 2**attempt))
            delay = min(retry_after * random.uniform(0.75, 1.25), max_delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def gather_bounded(n: int, concurrency: int, one: Callable[[int], Awaitable[bool]]) -> int:
    """Run one(i) for every i, `concurrency` at a time; return how many failed."""
    semaphore = asyncio.Semaphore(concurrency)

    async def guarded(i: int) -> bool:
        async with semaphore:
            try:
                return await one(i)
            except anthropic.APIError:
                return False

    results = await asyncio.gather(*(guarded(i) for i in range(n)))
    return sum(1 for ok in results if not ok)


async def run_seed(args: argparse.Namespace) -> Result:
    sim = sim_for(args)
    sdk = sdk_for(sim, max_retries=0)

    async def one(i: int) -> bool:
        await call_with_retry(sdk, **request(i))
        return True

    start = time.monotonic()
    lost = await gather_bounded(args.n, args.concurrency, one)
    return Result("seed call_with_retry", time.monotonic() - start, *_stats(sim), lost)


async def run_sdk(args: argparse.Namespace) -> Result:
    sim = sim_for(args)
    sdk = sdk_for(sim, max_retries=5)

    async def one(i: int) -> bool:
        await sdk.messages.create(**request(i))
        return True

    start = time.monotonic()
    lost = await gather_bounded(args.n, args.concurrency, one)
    return Result("sdk max_retries=5", time.monotonic() - start, *_stats(sim), lost)


async def run_ours(args: argparse.Namespace) -> Result:
    sim = sim_for(args)
    # No limits configured: the governor learns them from the first response's headers.
    client = ResilientClient(
        sdk_for(sim, max_retries=0), policy=BATCH, governor=Governor(concurrency=args.concurrency)
    )
    start = time.monotonic()
    results = await batch_map(client, list(range(args.n)), request, concurrency=args.concurrency)
    lost = sum(1 for r in results if not r.ok)
    return Result("ours (ResilientClient)", time.monotonic() - start, *_stats(sim), lost)


def _stats(sim: Simulator) -> tuple[int, int]:
    return sim.stats.rate_limited, sim.stats.attempts


async def input_tokens_per_request() -> int:
    sim = Simulator(SimulatorConfig())
    counted = await sdk_for(sim, 0).messages.count_tokens(
        model=MODEL, messages=request(0)["messages"]
    )
    return counted.input_tokens


def theoretical_minimum(args: argparse.Namespace, c_input: int, n: int | None = None) -> float:
    n = args.n if n is None else n
    dims = [(1, args.rpm), (c_input, args.itpm)]
    return float(max(0.0, *((n * c - limit) / (limit / 60) for c, limit in dims if limit)))


def table(results: list[Result], args: argparse.Namespace, minimum: float, c: int) -> str:
    lines = [
        f"N={args.n} requests, concurrency {args.concurrency}, limits {args.rpm} RPM / "
        f"{args.itpm} ITPM, ~{c} input tokens per request",
        f"theoretical minimum max_k (N*c_k - B_k)/r_k = {minimum:.2f} s",
        "",
        "A client that loses requests spends fewer tokens, so its time is also shown against",
        "the minimum for the requests it delivered.",
        "",
        "| client | time / minimum | time / minimum (delivered) | time (s) | 429s (% of N) "
        "| attempts / request | lost |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        delivered = theoretical_minimum(args, c, args.n - r.lost)
        vs_delivered = f"{r.seconds / delivered:.2f}x" if delivered > 0 else "n/a"
        lines.append(
            f"| {r.name} | {r.seconds / minimum:.2f}x | {vs_delivered} | {r.seconds:.2f} | "
            f"{r.rate_limited} ({100 * r.rate_limited / args.n:.1f} %) | "
            f"{r.attempts / args.n:.2f} ({r.attempts}) | {r.lost} |"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> str:
    c = await input_tokens_per_request()
    minimum = theoretical_minimum(args, c)
    results = [await run_seed(args), await run_sdk(args), await run_ours(args)]
    return table(results, args, minimum, c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rpm", type=int, default=600)
    parser.add_argument("--itpm", type=int, default=80_000)
    args = parser.parse_args()
    print(asyncio.run(main_async(args)))  # noqa: T201 - a benchmark's output is its table


if __name__ == "__main__":
    main()
