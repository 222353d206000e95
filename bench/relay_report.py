"""The relay benchmark's figures and verdicts: each a ratio to a baseline from the same run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.learners import Turn
from bench.relay_phases import Chat, Growth, Idle
from bench.relay_site import TurnRow, Upstream

TARGET_ADDED_TTFT_P95 = 0.020  # seconds, at TTFT_TARGET_LEARNERS
TTFT_TARGET_LEARNERS = 50
TARGET_CPU_PER_TOKEN = 50e-6  # seconds of server CPU per relayed token
ERRORS_TARGET_LEARNERS = 200  # zero errors at this load
TARGET_IDLE_BYTES = 64 * 1024  # per idle connection
STALL_BOUND_BYTES = 1024 * 1024  # extra server memory one stalled client may cost


@dataclass
class ServerRun:
    server: str
    idle: Idle | None = None
    chats: dict[int, tuple[Chat, dict[int, TurnRow]]] = field(default_factory=dict)
    reading: Growth | None = None
    stalled: Growth | None = None
    stalled_outcomes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    profiles: dict[int, list[str]] = field(default_factory=dict)
    log_tail: str = ""
    # CPU seconds of the simulator's own process over each load (loopback upstream only)
    simulator_cpu: dict[int, float] = field(default_factory=dict)


@dataclass
class Run:
    simulator_ttft: float  # configured
    tokens_per_second: float
    # inprocess: (simulator alone, simulator + SDK + client), both in the bench process;
    # loopback: (SDK + client over the default transport, SDK + client as a turn runs it),
    # against the simulator's process
    upstream: tuple[Upstream, Upstream]
    servers: list[ServerRun]
    elapsed: float
    mode: str = "inprocess"  # where the simulator runs: "inprocess" | "loopback"

    @property
    def loopback(self) -> bool:
        return self.mode == "loopback"

    @property
    def baseline_ttft(self) -> float:
        """The upstream's own TTFT: configured in process; over loopback, as a bare SDK sees it."""
        if self.loopback:
            measured = percentile(self.upstream[0].ttfts, 0.5)
            if not math.isnan(measured):
                return measured
        return self.simulator_ttft

    @property
    def upstream_names(self) -> tuple[str, str]:
        if self.loopback:
            return (
                "SDK + resilient client over the SDK's default transport",
                "SDK + resilient client as a turn runs it (lean transport, paced reads)",
            )
        return "simulator alone", "simulator + SDK + resilient client"


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class ChatFigures:
    learners: int
    turns: list[Turn]
    errors: list[str]
    client_ttft: list[float]
    server_ttft: list[float]  # the resilient client's own TTFT, written to the turn row
    gap: list[float]  # client TTFT minus server TTFT, turn by turn: admission + relay
    delivered: int  # tokens the clients received
    relayed: int  # tokens streamed: the turn row's count, or what reached the client
    seconds: float
    cpu: float
    waited: float
    rates: list[float]  # tokens per second of each completed turn, first token to last frame
    rss_before: int
    rss_peak: int
    extensions: str
    client_cpu: float = 0.0
    loop_cpu: float = 0.0

    @property
    def cpu_per_token(self) -> float:
        return self.cpu / self.relayed if self.relayed else math.nan


def chat_figures(chat: Chat, rows: dict[int, TurnRow]) -> ChatFigures:
    errors = list(chat.connect_errors)
    for learner in chat.learners:
        errors += learner.errors
    client_ttft: list[float] = []
    server_ttft: list[float] = []
    gap: list[float] = []
    rates: list[float] = []
    relayed = 0
    for turn in chat.turns:
        row = rows.get(turn.turn_id or -1)
        if turn.error or row is None or row.outcome != "completed":
            # Its tokens still cost the server CPU: count those that reached the client.
            relayed += turn.tokens
            problem = turn.error or (row.outcome if row else "no turn row")
            errors.append(f"turn {turn.turn_id}: {problem}")
            continue
        relayed += row.output_tokens
        if turn.stream_seconds:
            # The turn row's count: the final frame carries the last coalesced tokens.
            rates.append(row.output_tokens / turn.stream_seconds)
        if turn.ttft is not None:
            client_ttft.append(turn.ttft)
            if row.ttft_ms is not None:
                server_ttft.append(row.ttft_ms / 1000)
                gap.append(turn.ttft - row.ttft_ms / 1000)
    return ChatFigures(
        learners=len(chat.learners) + len(chat.connect_errors),
        turns=chat.turns,
        errors=errors,
        client_ttft=client_ttft,
        server_ttft=server_ttft,
        gap=gap,
        delivered=sum(t.tokens for t in chat.turns if not t.error),
        relayed=relayed,
        seconds=chat.seconds,
        cpu=chat.cpu,
        waited=chat.waited,
        rates=rates,
        rss_before=chat.rss_before,
        rss_peak=chat.rss_peak,
        extensions=next((lr.extensions for lr in chat.learners if lr.extensions), ""),
        client_cpu=chat.client_cpu,
        loop_cpu=chat.loop_cpu,
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def kib(n: float) -> str:
    return f"{n / 1024:.1f} KiB"


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def times(value: float, baseline: float) -> str:
    if not baseline or math.isnan(value) or math.isnan(baseline):
        return "×n/a"
    return f"×{value / baseline:.2f}"


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def _chat_lines(
    run: Run,
    figures: ChatFigures,
    count: int,
    targets: list[str],
    name: str,
    simulator_cpu: float | None = None,
) -> list[str]:
    sim_ttft = run.baseline_ttft
    added = [t - sim_ttft for t in figures.client_ttft]
    upstream_added = [t - sim_ttft for t in figures.server_ttft]
    alone, through = run.upstream
    cpu = figures.cpu_per_token
    relay_share = cpu - through.cpu_per_token
    # Over loopback the server's CPU holds no simulator work to take out.
    without_sim = cpu if run.loopback else cpu - alone.cpu_per_token
    first_name, through_name = run.upstream_names

    def per_token(seconds: float) -> float:
        return seconds / figures.relayed if figures.relayed else math.nan

    completed = len(figures.turns) - sum(1 for t in figures.turns if t.error)
    lines = [
        f"  {count} learners: {len(figures.turns)} turns ({completed} answered) in "
        f"{figures.seconds:.1f} s; websocket extensions: {figures.extensions or 'none'}",
        f"    added TTFT: p50 {ms(percentile(added, 0.5))}, p95 {ms(percentile(added, 0.95))} "
        f"(client TTFT p50 {ms(percentile(figures.client_ttft, 0.5))} / p95 "
        f"{ms(percentile(figures.client_ttft, 0.95))} = "
        f"{times(percentile(figures.client_ttft, 0.95), sim_ttft)} the upstream's "
        f"{ms(sim_ttft)})",
        f"      of which upstream (resilient client's own TTFT minus the simulator's): p50 "
        f"{ms(percentile(upstream_added, 0.5))}, p95 {ms(percentile(upstream_added, 0.95))}; "
        f"admission + relay (client minus server TTFT): p50 {ms(percentile(figures.gap, 0.5))}, "
        f"p95 {ms(percentile(figures.gap, 0.95))}",
        f"    server CPU per relayed token: {us(cpu)} ({figures.cpu:.2f} s CPU over "
        f"{figures.relayed:,} tokens, {times(cpu, TARGET_CPU_PER_TOKEN)} the "
        f"{us(TARGET_CPU_PER_TOKEN)} target)",
        f"      by thread: event loop {us(per_token(figures.loop_cpu))}, other threads "
        f"(the database thread, mostly) {us(per_token(figures.cpu - figures.loop_cpu))}",
        f"      baselines measured in this run: {first_name} {us(alone.cpu_per_token)}, "
        f"{through_name} {us(through.cpu_per_token)}; so relay share "
        f"{us(relay_share)} ({times(relay_share, TARGET_CPU_PER_TOKEN)} target), server "
        f"without the simulator {us(without_sim)} ({times(without_sim, TARGET_CPU_PER_TOKEN)})",
        f"    delivered {figures.relayed / figures.seconds:,.0f} tokens/s "
        f"({figures.relayed:,} tokens; completed turns streamed {figures.delivered:,} as text "
        "frames, the rest came in their final frames); per-turn "
        f"rate p50 {percentile(figures.rates, 0.5):.0f} tok/s, slowest 5% "
        f"{percentile(figures.rates, 0.05):.0f} tok/s "
        f"({times(percentile(figures.rates, 0.05), run.tokens_per_second)} the simulator's "
        f"{run.tokens_per_second:g} tok/s)",
        f"    errors: {len(figures.errors)} of {len(figures.turns)} turns"
        + (f" (first: {'; '.join(sorted(set(figures.errors))[:3])})" if figures.errors else ""),
        f"    server busy {figures.cpu / figures.seconds:.0%} of one core; its threads waited "
        f"{figures.waited:.2f} s for a CPU taken by other processes "
        f"({figures.waited / figures.seconds:.0%} of the wall time)",
        f"    server RSS {mib(figures.rss_before)} before, peak {mib(figures.rss_peak)} "
        f"(+{mib(figures.rss_peak - figures.rss_before)})",
    ]
    if simulator_cpu is not None:
        lines.append(
            f"    simulator process (not counted above): {simulator_cpu:.2f} s CPU over the "
            f"load, {us(simulator_cpu / figures.relayed if figures.relayed else math.nan)} "
            f"per relayed token, busy {simulator_cpu / figures.seconds:.0%} of one core"
        )
    lines.append(
        f"    bench clients (this process, not counted above): {figures.client_cpu:.2f} s CPU, "
        f"busy {figures.client_cpu / figures.seconds:.0%} of one core"
    )
    if count == TTFT_TARGET_LEARNERS:
        p95 = percentile(added, 0.95)
        targets.append(
            f"{name}: p95 added TTFT at {count} learners {ms(p95)} <= "
            f"{ms(TARGET_ADDED_TTFT_P95)}: {verdict(p95 <= TARGET_ADDED_TTFT_P95)}"
        )
        # The whole server's CPU (less the simulator's, when it runs inside): admission, the
        # database, the upstream and the frames, as a deployment pays for them.
        targets.append(
            f"{name}: server CPU per token at {count} learners {us(without_sim)} <= "
            f"{us(TARGET_CPU_PER_TOKEN)}: {verdict(without_sim <= TARGET_CPU_PER_TOKEN)} "
            f"(of which the relay, beyond the upstream baseline: {us(relay_share)})"
        )
    if count == ERRORS_TARGET_LEARNERS:
        targets.append(
            f"{name}: errors at {count} learners {len(figures.errors)}: "
            f"{verdict(not figures.errors)}"
        )
    return lines


def _server_lines(run: Run, result: ServerRun, targets: list[str]) -> list[str]:
    name = result.server
    lines = [f"== {name} =="]
    idle = result.idle
    if idle is not None:
        per = idle.per_connection
        lines.append(
            f"  idle sockets: {kib(per)} per connection (RSS {mib(idle.rss_first)} -> "
            f"{mib(idle.rss_second)} over a second batch of {idle.count}; the first batch: "
            f"{kib(idle.per_connection_first)} each), {times(per, TARGET_IDLE_BYTES)} the "
            f"{kib(TARGET_IDLE_BYTES)} target; connect errors {len(idle.errors)}"
        )
        targets.append(
            f"{name}: idle memory {kib(per)} per connection <= {kib(TARGET_IDLE_BYTES)}: "
            f"{verdict(per <= TARGET_IDLE_BYTES and not idle.errors)}"
        )
    for count, (chat, rows) in result.chats.items():
        lines += _chat_lines(
            run, chat_figures(chat, rows), count, targets, name, result.simulator_cpu.get(count)
        )
        lines += ["    " + line for line in result.profiles.get(count, [])]
    if result.reading is not None and result.stalled is not None:
        reading, stalled = result.reading, result.stalled
        extra = stalled.growth - reading.growth
        lines.append(
            f"  one long turn, {len(stalled.samples)} RSS samples: a client that stops reading "
            f"grew the server {kib(stalled.growth)} ({kib(stalled.growth_second_half)} in the "
            f"second half), a reading client {kib(reading.growth)} "
            f"({times(stalled.growth, reading.growth)}); the reader received "
            f"{kib(reading.frame_bytes)} of frames; stalled turn outcome: "
            f"{', '.join(result.stalled_outcomes) or 'none'}"
        )
        targets.append(
            f"{name}: a stalled client costs {kib(extra)} more than a reading one <= "
            f"{kib(STALL_BOUND_BYTES)}: {verdict(extra <= STALL_BOUND_BYTES)}"
        )
    for error in result.errors:
        lines.append(f"  RUN ERROR: {error}")
    if result.errors and result.log_tail:
        lines.append("  server log tail:\n" + result.log_tail)
    return lines


def _compare(run: Run) -> list[str]:
    by_name = {r.server: r for r in run.servers}
    if set(by_name) != {"daphne", "uvicorn"}:
        return []
    daphne, uvicorn = by_name["daphne"], by_name["uvicorn"]
    lines = ["== daphne / uvicorn (below 1: daphne needs less) =="]
    for count in daphne.chats:
        if count not in uvicorn.chats:
            continue
        d = chat_figures(*daphne.chats[count])
        u = chat_figures(*uvicorn.chats[count])
        d95 = percentile([t - run.baseline_ttft for t in d.client_ttft], 0.95)
        u95 = percentile([t - run.baseline_ttft for t in u.client_ttft], 0.95)
        lines.append(
            f"  {count} learners: p95 added TTFT {ms(d95)} / {ms(u95)} = {times(d95, u95)}; "
            f"CPU per token {us(d.cpu_per_token)} / {us(u.cpu_per_token)} = "
            f"{times(d.cpu_per_token, u.cpu_per_token)}; tokens/s "
            f"{d.relayed / d.seconds:,.0f} / {u.relayed / u.seconds:,.0f} = "
            f"{times(d.relayed / d.seconds, u.relayed / u.seconds)}; errors "
            f"{len(d.errors)} / {len(u.errors)}"
        )
    if daphne.idle and uvicorn.idle:
        lines.append(
            f"  idle memory per connection {kib(daphne.idle.per_connection)} / "
            f"{kib(uvicorn.idle.per_connection)} = "
            f"{times(daphne.idle.per_connection, uvicorn.idle.per_connection)}"
        )
    if daphne.stalled and uvicorn.stalled:
        lines.append(
            f"  stalled-client growth {kib(daphne.stalled.growth)} / "
            f"{kib(uvicorn.stalled.growth)} = "
            f"{times(daphne.stalled.growth, uvicorn.stalled.growth)}"
        )
    return lines


def report(run: Run) -> list[str]:
    alone, through = run.upstream
    first_name, through_name = run.upstream_names
    where = "the simulator's own process over loopback" if run.loopback else "the bench process"
    lines = [
        f"upstream baseline in the bench process ({where}), {through.streams} paced streams at "
        f"once: {first_name} {us(alone.cpu_per_token)} CPU per token ({alone.tokens:,} "
        f"tokens), {through_name} {us(through.cpu_per_token)} "
        f"({times(through.cpu_per_token, alone.cpu_per_token)}, {through.tokens:,} tokens); "
        f"resilient client TTFT p50 {ms(percentile(through.ttfts, 0.5))}"
        + (
            f"; bare SDK TTFT, {len(alone.ttfts)} streams one at a time, p50 "
            f"{ms(run.baseline_ttft)} / max {ms(max(alone.ttfts, default=math.nan))} (the "
            f"added-TTFT baseline below); over the default transport, {through.streams} at "
            f"once, p50 {ms(percentile(alone.loaded_ttfts, 0.5))}"
            if run.loopback
            else ""
        )
        + f"; the simulator is set to {ms(run.simulator_ttft)}",
    ]
    targets: list[str] = []
    for result in run.servers:
        lines += _server_lines(run, result, targets)
    lines += _compare(run)
    lines.append("== targets ==")
    lines += ["  " + t for t in targets]
    lines.append(f"whole run: {run.elapsed:.0f} s")
    return lines
