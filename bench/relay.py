"""Benchmark the coach labs' websocket relay: `python -m bench.relay [--server both]`.

The site runs on loopback (production settings, SQLite, in-memory channel layer) with an API
key and `ANTHROPIC_BASE_URL` naming the Messages API simulator in a process of its own
(`bench.relay_upstream`), so each turn takes the real-API path: the SDK's aiohttp client, the
resilient client, the relay. Learners log in through sessions made in the server's database and
open the lab socket as the page does. Against baselines of the same run it prints the added time
to first token, server CPU per relayed token (psutil) beside the SDK default (httpx) stack's,
errors, memory per idle socket and what a client that stops reading costs. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import sys
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field

import psutil

from bench import relay_learners as learners
from bench import relay_upstream as upstream
from bench.loopback import prepare, production_env, start_server
from bench.relay_upstream import Stack

SIMULATOR_TTFT = 0.25
TOKENS_PER_SECOND = 100
IDLE_SOCKETS = 200  # per step; two steps
STALL_SECONDS = 8.0
STAGGER = 1.0  # seconds over which learners send their first message
SAMPLE_EVERY = 0.2  # seconds between RSS samples

TARGET_TTFT_P95 = 0.020  # seconds added, at TARGET_LOAD learners
TARGET_CPU_PER_TOKEN = 80e-6  # seconds of server CPU per relayed token, at TARGET_LOAD
TARGET_LOAD = 50
ERRORS_LOAD = 200  # zero errors at this load
TARGET_IDLE_BYTES = 64 * 1024  # per idle socket
STALL_BOUND_BYTES = 1024 * 1024  # what a client that stops reading may cost beyond a reader

_STARTED = time.perf_counter()


def say(text: str) -> None:
    """Progress on stderr, so that stdout holds only the results."""
    print(f"[{time.perf_counter() - _STARTED:5.1f} s] {text}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def kib(n: float) -> str:
    return f"{n / 1024:.1f} KiB"


def ratio(value: float, baseline: float) -> str:
    return "×n/a" if not baseline or math.isnan(value + baseline) else f"×{value / baseline:.2f}"


def target(targets: list[str], text: str, ok: bool) -> None:
    targets.append(f"{text}: {'MET' if ok else 'MISSED'}")


def cpu(process: psutil.Process) -> tuple[float, float]:
    """(CPU seconds of the whole process, of its main thread: the event loop)."""
    times = process.cpu_times()
    main = next((t for t in process.threads() if t.id == process.pid), None)
    return times.user + times.system, (main.user_time + main.system_time) if main else math.nan


@contextlib.asynccontextmanager
async def rss_samples(process: psutil.Process) -> AsyncIterator[list[int]]:
    """The process's RSS now and every SAMPLE_EVERY seconds while the block runs."""
    samples = [process.memory_info().rss]

    async def sample() -> None:
        while True:
            await asyncio.sleep(SAMPLE_EVERY)
            samples.append(process.memory_info().rss)

    task = asyncio.create_task(sample())
    try:
        yield samples
    finally:
        task.cancel()


@dataclass
class Load:
    count: int  # learners
    seconds: float = 0.0
    cpu: float = 0.0
    loop_cpu: float = 0.0
    rss: list[int] = field(default_factory=list)
    turns: list[learners.Turn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _chat(
    port: int,
    server: psutil.Process,
    load: Load,
    seats: list[learners.Seat],
    seconds: float,
) -> None:
    sockets, load.errors = await learners.open_sockets(port, seats)
    try:
        cpu_before, loop_before = cpu(server)
        begun = time.perf_counter()
        talks = [
            learners.converse(ws, i, begun + STAGGER * i / len(sockets), begun + seconds, 0.5)
            for i, ws in enumerate(sockets)
        ]
        async with rss_samples(server) as load.rss, asyncio.timeout(seconds + 30):
            for turns, errors in await asyncio.gather(*talks):
                load.turns += turns
                load.errors += errors
        ended = max((t.done for t in load.turns if t.done), default=time.perf_counter())
        load.seconds = ended - begun
        cpu_after, loop_after = cpu(server)
        load.cpu, load.loop_cpu = cpu_after - cpu_before, loop_after - loop_before
    finally:
        await learners.close_all(sockets)


async def _idle(
    port: int, server: psutil.Process, seats: list[learners.Seat]
) -> tuple[float, list[str]]:
    """RSS slope over a second batch of idle sockets (the first also refills allocator lists)."""
    first, errors = await learners.open_sockets(port, seats[:IDLE_SOCKETS])
    await asyncio.sleep(0.5)
    before = server.memory_info().rss
    second, more = await learners.open_sockets(port, seats[IDLE_SOCKETS:])
    await asyncio.sleep(0.5)
    per_socket = (server.memory_info().rss - before) / max(1, len(second))
    await learners.close_all(first + second)
    return per_socket, errors + more


async def _growth(server: psutil.Process, work: Coroutine[None, None, None]) -> int:
    """Server RSS growth over STALL_SECONDS while `work` runs (a turn, read or not)."""
    async with rss_samples(server) as samples, asyncio.timeout(STALL_SECONDS + 30):
        await asyncio.gather(work, asyncio.sleep(STALL_SECONDS))
    return max(samples) - samples[0]


async def _stall(
    port: int, server: psutil.Process, reader: learners.Seat, staller: learners.Seat
) -> tuple[int, int]:
    async def read() -> None:
        async with learners.connect_to(port, reader) as ws:
            await learners.one_turn(ws, learners.QUESTIONS[0])

    async def stall() -> None:
        async with learners.stalled(port, staller):
            await asyncio.sleep(STALL_SECONDS)

    await read()  # unmeasured: the first turn imports, builds the SDK client and coach index
    return await _growth(server, read()), await _growth(server, stall())


def load_lines(
    name: str, load: Load, baseline_ttft: float, stacks: list[Stack], targets: list[str]
) -> list[str]:
    rows = learners.turn_rows([t.turn_id for t in load.turns if t.turn_id is not None])
    errors, added, upstream_added, rates, relayed = list(load.errors), [], [], [], 0
    for turn in load.turns:
        outcome, ttft_ms, tokens = rows.get(turn.turn_id or -1, ("no turn row", None, 0))
        relayed += tokens  # what the turn streamed, finished or not: it cost the server CPU
        if turn.error or outcome != "completed":
            errors.append(f"turn {turn.turn_id}: {turn.error or outcome}")
            continue
        if turn.ttft is not None:
            added.append(turn.ttft - baseline_ttft)
        if ttft_ms is not None:
            upstream_added.append(ttft_ms / 1000 - baseline_ttft)
        if turn.first_text and turn.done and turn.done > turn.first_text:
            rates.append(tokens / (turn.done - turn.first_text))
    per_token = load.cpu / relayed if relayed else math.nan
    httpx, turn_stack = stacks[upstream.HTTPX].per_token, stacks[upstream.TURN].per_token
    p95 = percentile(added, 0.95)
    lines = [
        f"  {load.count} learners: {len(load.turns)} turns in {load.seconds:.1f} s, "
        f"{relayed:,} tokens ({relayed / max(load.seconds, 1e-9):,.0f}/s); errors {len(errors)}"
        + (f" (first: {'; '.join(sorted(set(errors))[:3])})" if errors else ""),
        f"    added TTFT p50 {ms(percentile(added, 0.5))}, p95 {ms(p95)}; of which the upstream "
        f"(the turn's own TTFT minus the simulator's) p95 {ms(percentile(upstream_added, 0.95))}",
        f"    server CPU per relayed token {us(per_token)} ({load.cpu:.2f} s; event loop "
        f"{us(load.loop_cpu / max(relayed, 1))}); SDK default (httpx) + resilient client alone "
        f"{us(httpx)}: server / httpx stack {ratio(per_token, httpx)}; the stack a turn uses "
        f"alone {us(turn_stack)} ({ratio(turn_stack, per_token)} of the server's)",
        f"    per-turn rate p50 {percentile(rates, 0.5):.0f} tok/s, slowest 5% "
        f"{percentile(rates, 0.05):.0f} ({ratio(percentile(rates, 0.05), TOKENS_PER_SECOND)} the "
        f"simulator's); server RSS peak +{kib(max(load.rss) - load.rss[0])}",
    ]
    if load.count == TARGET_LOAD:
        text = f"{name}: p95 added TTFT at {TARGET_LOAD} learners {ms(p95)} <= "
        target(targets, text + ms(TARGET_TTFT_P95), p95 <= TARGET_TTFT_P95)
        text = f"{name}: server CPU per token at {TARGET_LOAD} learners {us(per_token)} <= "
        target(targets, text + us(TARGET_CPU_PER_TOKEN), per_token <= TARGET_CPU_PER_TOKEN)
    if load.count == ERRORS_LOAD:
        target(targets, f"{name}: errors at {ERRORS_LOAD} learners {len(errors)}", not errors)
    return lines


def run_server(
    name: str,
    env: dict[str, str],
    args: argparse.Namespace,
    baseline_ttft: float,
    stacks: list[Stack],
    targets: list[str],
) -> list[str]:
    seats = {key: learners.make_seats(f"{name}-{key}", n) for key, n in args.seat_counts}
    process = start_server(name, env)
    server = psutil.Process(process.popen.pid)
    lines = [f"== {name} (pid {server.pid}, port {process.port}) =="]
    say(f"{name}: serving on port {process.port}")
    try:
        reader, staller = seats["stall"]
        reading, stalled = asyncio.run(_stall(process.port, server, reader, staller))
        time.sleep(1.0)  # the stalled socket closed: its turn ends or is cancelled
        lines.append(
            f"  one turn: a client that stops reading grew the server {kib(stalled)}, a "
            f"reading one {kib(reading)}; stalled turn: {learners.outcomes_for(staller)}"
        )
        text = f"{name}: a client that stops reading {kib(stalled)} <= a reader's + 1 MiB"
        target(targets, text, stalled <= reading + STALL_BOUND_BYTES)
        per_socket, errors = asyncio.run(_idle(process.port, server, seats["idle"]))
        lines.append(f"  idle sockets: {kib(per_socket)} each; connect errors {len(errors)}")
        text = f"{name}: idle socket {kib(per_socket)} <= {kib(TARGET_IDLE_BYTES)}"
        target(targets, text, per_socket <= TARGET_IDLE_BYTES and not errors)
        say(f"{name}: stalled and idle sockets measured")
        for count in args.learners:
            load = Load(count)
            asyncio.run(_chat(process.port, server, load, seats[f"chat{count}"], args.seconds))
            lines += load_lines(name, load, baseline_ttft, stacks, targets)
            say(f"{name}: {count} learners measured")
    except Exception as exc:
        lines += [f"  RUN ERROR: {type(exc).__name__}: {exc}"[:300], process.log_tail(1500)]
        target(targets, f"{name}: the run finished", False)
    finally:
        process.stop()
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__)
    parser.add_argument(
        "--learners",
        type=lambda text: [int(n) for n in text.split(",") if n.strip()],
        default=[TARGET_LOAD, ERRORS_LOAD],
        help="concurrent learners, comma-separated (default 50,200)",
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="chatting time per load")
    parser.add_argument("--server", choices=("daphne", "uvicorn", "both"), default="daphne")
    args = parser.parse_args(argv)
    if not args.learners or min(args.learners) < 1 or args.seconds <= 0:
        parser.error("--learners needs positive counts and --seconds a positive number")
    args.seat_counts = [("idle", 2 * IDLE_SOCKETS), ("stall", 2)]
    args.seat_counts += [(f"chat{n}", n) for n in args.learners]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    servers = ["daphne", "uvicorn"] if args.server == "both" else [args.server]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"Coach labs relay benchmark (python -m bench.relay {' '.join(argv or sys.argv[1:])})\n"
        f"machine: {psutil.cpu_count()} cores, Python {platform.python_version()}, load average "
        f"{load} at the start (other work makes absolute figures noisy: read the ratios)\n"
        f"simulator process: TTFT {ms(SIMULATOR_TTFT)}, {TOKENS_PER_SECOND} tokens/s; learners "
        f"{args.learners} chatting {args.seconds:g} s each (send, read the reply, 0.5 s, again)",
        flush=True,
    )
    env = production_env(
        COACH_FAULTS="",
        COACH_GOVERNOR="off",
        # Learners chat non-stop: rate limits and budgets are product rules, not measured here.
        CHAT_MESSAGES_PER_MINUTE="100000",
        BUDGET_CONVERSATION_USD="100000",
        BUDGET_LEARNER_DAY_USD="100000",
        BUDGET_GLOBAL_DAY_USD="100000000",
    )
    for name in ("ANTHROPIC_API_KEY_FILE", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    prepare(env)
    simulator = upstream.start_simulator(env, SIMULATOR_TTFT, TOKENS_PER_SECOND)
    try:
        env.update(ANTHROPIC_API_KEY="sk-bench", ANTHROPIC_BASE_URL=simulator.url)
        learners.setup_django(env)
        ttfts, stacks = upstream.baselines(TARGET_LOAD)
        baseline_ttft = percentile(ttfts, 0.5)
        print(
            f"CPU per token in this process, {TARGET_LOAD} replies at once (× SDK default stack):"
        )
        httpx = stacks[upstream.HTTPX].per_token
        for name, per_token, tokens in stacks:
            print(f"  {name}: {us(per_token)} per token, {ratio(per_token, httpx)} ({tokens:,})")
        print(f"  bare SDK TTFT, {len(ttfts)} replies one at a time: p50 {ms(baseline_ttft)}")
        say("baselines measured")
        targets: list[str] = []
        for server in servers:
            lines = run_server(server, env, args, baseline_ttft, stacks, targets)
            print("\n".join(lines), flush=True)
    finally:
        simulator.stop()
    print("== targets ==\n" + "\n".join(f"  {t}" for t in targets))
    print(f"whole run: {time.perf_counter() - _STARTED:.0f} s")


if __name__ == "__main__":
    main()
