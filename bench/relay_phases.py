"""The relay benchmark's measurements against one running server, one phase at a time.

Each phase is an `asyncio.run` of its own, bounded by timeouts, and reads the server
process's CPU time and RSS from /proc around the work it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection

from bench.learners import (
    QUESTIONS,
    TURN_TIMEOUT,
    Learner,
    Seat,
    StalledSocket,
    Turn,
    close_all,
    connect_to,
    converse,
    one_turn,
    open_idle,
)
from bench.procstat import cpu_seconds, main_thread_cpu_seconds, rss_bytes, run_queue_wait

STAGGER = 1.0  # seconds over which learners send their first message, as a class settles in
SAMPLE_EVERY = 0.2  # seconds between RSS samples


@dataclass
class Chat:
    learners: list[Learner]
    connect_errors: list[str]
    seconds: float  # from the first message to the last final frame
    cpu: float  # server CPU seconds over the same span
    waited: float  # seconds the server's threads were runnable but had no CPU
    rss_before: int
    rss_peak: int
    client_cpu: float = 0.0  # this process's CPU over the same span: the learners' side
    loop_cpu: float = 0.0  # of `cpu`, the server's main thread (its event loop)

    @property
    def turns(self) -> list[Turn]:
        return [turn for learner in self.learners for turn in learner.turns]


async def _sample_peak(pid: int, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_bytes(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY)


async def _chat(
    port: int,
    pid: int,
    seats: list[Seat],
    seconds: float,
    think: float,
    on_start: Callable[[], object],
) -> Chat:
    sockets, connect_errors = await open_idle(port, seats)
    try:
        on_start()
        rss_before = rss_bytes(pid)
        peak = [rss_before]
        stop = asyncio.Event()
        sampler = asyncio.create_task(_sample_peak(pid, peak, stop))
        cpu_before = cpu_seconds(pid)
        loop_before = main_thread_cpu_seconds(pid)
        client_before = time.process_time()
        waited_before = run_queue_wait(pid)
        begun = time.perf_counter()
        stop_at = begun + seconds
        count = max(1, len(sockets))
        learners = await asyncio.wait_for(
            asyncio.gather(
                *(
                    converse(ws, i, begun + STAGGER * i / count, stop_at, think)
                    for i, ws in enumerate(sockets)
                )
            ),
            seconds + STAGGER + TURN_TIMEOUT + 5,
        )
        ended = max(
            (t.done for learner in learners for t in learner.turns if t.done is not None),
            default=time.perf_counter(),
        )
        cpu = cpu_seconds(pid) - cpu_before
        loop_cpu = main_thread_cpu_seconds(pid) - loop_before
        client_cpu = time.process_time() - client_before
        waited = run_queue_wait(pid) - waited_before
        stop.set()
        await sampler
        return Chat(
            list(learners),
            connect_errors,
            ended - begun,
            cpu,
            waited,
            rss_before,
            peak[0],
            client_cpu,
            loop_cpu,
        )
    finally:
        await close_all(sockets)


def chat(
    port: int,
    pid: int,
    seats: list[Seat],
    seconds: float,
    think: float,
    on_start: Callable[[], object] = lambda: None,
) -> Chat:
    """Every seat chats for `seconds`: send, read the reply, think, send again.

    The sockets are all open before the clock starts (and `on_start` is called): connecting
    is measured by the idle phase, not here.
    """
    return asyncio.run(_chat(port, pid, seats, seconds, think, on_start))


def warm_up(port: int, seats: list[Seat]) -> list[str]:
    """One turn per seat, unmeasured: imports, the SDK client and the passage index get built."""

    async def one(index: int, seat: Seat) -> str:
        async with connect_to(port, seat) as ws:
            turn = await one_turn(ws, QUESTIONS[index % len(QUESTIONS)])
        return f"warm-up turn: {turn.error}" if turn.error else ""

    async def run() -> list[str]:
        errors = await asyncio.gather(*(one(i, seat) for i, seat in enumerate(seats)))
        return [error for error in errors if error]

    return asyncio.run(run())


@dataclass
class Idle:
    count: int  # sockets opened in each of the two steps
    errors: list[str]
    rss_start: int
    rss_first: int  # after the first `count` sockets
    rss_second: int  # after the second `count` sockets

    @property
    def per_connection(self) -> float:
        """The second step's slope: the first step also refills the allocator's free lists."""
        return (self.rss_second - self.rss_first) / self.count if self.count else float("nan")

    @property
    def per_connection_first(self) -> float:
        return (self.rss_first - self.rss_start) / self.count if self.count else float("nan")


def idle(port: int, pid: int, seats: list[Seat], settle: float = 0.5) -> Idle:
    """Open two batches of idle sockets; RSS before, between and after."""
    half = len(seats) // 2

    async def run() -> Idle:
        rss_start = rss_bytes(pid)
        first, errors = await open_idle(port, seats[:half])
        second: list[ClientConnection] = []
        try:
            await asyncio.sleep(settle)
            rss_first = rss_bytes(pid)
            second, more = await open_idle(port, seats[half : 2 * half])
            errors += more
            await asyncio.sleep(settle)
            rss_second = rss_bytes(pid)
        finally:
            await close_all(first + second)
        return Idle(half, errors, rss_start, rss_first, rss_second)

    return asyncio.run(run())


@dataclass
class Growth:
    """Server RSS over a window while one client's long turn streams."""

    rss_start: int
    samples: list[int] = field(default_factory=list)
    frame_bytes: int = 0  # what the reading client received (the stalled one: unknown)
    error: str = ""

    @property
    def growth(self) -> int:
        return max(self.samples, default=self.rss_start) - self.rss_start

    @property
    def growth_second_half(self) -> int:
        """Growth over the window's second half: a bounded buffer has stopped growing by then."""
        half = self.samples[len(self.samples) // 2 :]
        return (max(half) - half[0]) if half else 0


async def _sample_for(pid: int, growth: Growth, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        growth.samples.append(rss_bytes(pid))
        await asyncio.sleep(SAMPLE_EVERY)


async def _reading(port: int, pid: int, seat: Seat, seconds: float) -> Growth:
    async with connect_to(port, seat) as ws:
        growth = Growth(rss_bytes(pid))
        sampler = asyncio.create_task(_sample_for(pid, growth, seconds))
        turn = await one_turn(ws, QUESTIONS[0])
        growth.frame_bytes = turn.frame_bytes
        growth.error = turn.error
        await sampler
    return growth


async def _stalled(port: int, pid: int, seat: Seat, seconds: float) -> Growth:
    sock = await asyncio.to_thread(StalledSocket, port, seat)
    try:
        growth = Growth(rss_bytes(pid))
        await asyncio.to_thread(sock.send_message, QUESTIONS[0])
        await _sample_for(pid, growth, seconds)
    finally:
        sock.close()
    return growth


def stall(
    port: int, pid: int, reader: Seat, staller: Seat, seconds: float
) -> tuple[Growth, Growth]:
    """(a client that reads its long turn, a client that stops reading), one after the other."""
    reading = asyncio.run(asyncio.wait_for(_reading(port, pid, reader, seconds), seconds + 30))
    stalled = asyncio.run(asyncio.wait_for(_stalled(port, pid, staller, seconds), seconds + 30))
    return reading, stalled
