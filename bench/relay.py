"""Benchmark the coach labs' websocket relay: `python -m bench.relay [--server both]`.

Runs the site on loopback (daphne, then uvicorn) with the coach streaming from the Messages
API simulator at `TOKENS_PER_SECOND`, and measures, against baselines taken in the same run:

- added time to first token: what the websocket client sees minus the simulator's own TTFT;
- server CPU per relayed token, beside the CPU per token of the upstream half of a turn
  (the simulator alone; simulator + SDK + resilient client) measured in this process;
- tokens per second delivered, and each turn's rate against the simulator's pace;
- errors at every load;
- server memory per idle connection;
- server memory growth while one client stops reading a long turn, beside a reading client.

Where the simulator runs (`--upstream`):

- `loopback` (default): in a process of its own (`bench.upstream`), as the real API is on
  another machine; the server runs with an API key and `ANTHROPIC_BASE_URL` pointing at it
  and `COACH_GOVERNOR=off`, so every turn takes the real-API path through the same resilient
  client. The baselines are a bare SDK client's TTFT and CPU against that process, and the
  simulator process's CPU is reported beside the server's, never inside it.
- `inprocess`: the offline coach, simulator inside the server process (the older setup,
  kept for comparison); its CPU per token then includes the simulator's.

Learners log in through session rows written straight into the server's SQLite file and open
the lab socket as the page does (session cookie, `Origin` header). Latest numbers and the
machine they were taken on: `docs/benchmarks.md`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import profile, relay_phases, relay_site
from bench.loopback import Process, prepare, production_env, start_server
from bench.procstat import cpu_seconds, machine_lines
from bench.relay_report import Run, ServerRun, report
from bench.upstream import start_simulator

SIMULATOR_TTFT = 0.25  # seconds the simulator waits before its first token
TOKENS_PER_SECOND = 100
WARM_UP_TURNS = 2
IDLE_SOCKETS = 200  # per step; two steps
STALL_SECONDS = 8.0


_STARTED = time.perf_counter()


def say(text: str) -> None:
    """Progress on stderr, so that stdout holds only the results."""
    print(f"[{time.perf_counter() - _STARTED:5.1f} s] {text}", file=sys.stderr, flush=True)


def bench_env() -> dict[str, str]:
    """Production settings, embedded mode (SQLite, in-memory layer), offline coach at pace.

    `loopback_env` turns it into the real-API path towards a simulator process.
    """
    env = production_env(
        COACH_TTFT=str(SIMULATOR_TTFT),
        COACH_TOKENS_PER_SECOND=str(TOKENS_PER_SECOND),
        COACH_FAULTS="",
        # Each learner chats non-stop and the run spends many turns: the per-learner rate
        # limit and the budgets are product rules, not what this benchmark measures.
        CHAT_MESSAGES_PER_MINUTE="100000",
        BUDGET_CONVERSATION_USD="100000",
        BUDGET_LEARNER_DAY_USD="100000",
        BUDGET_GLOBAL_DAY_USD="100000000",
    )
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY_FILE", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    return env


def loopback_env(env: dict[str, str], simulator: Process) -> dict[str, str]:
    """The real-API path, towards the simulator process, without the process's pacing governor.

    The key is never checked by the simulator; it only makes `choose_backend` pick the API.
    """
    return {
        **env,
        "ANTHROPIC_API_KEY": "sk-bench",
        "ANTHROPIC_BASE_URL": simulator.url,
        "COACH_GOVERNOR": "off",
    }


def run_server(
    server: str,
    env: dict[str, str],
    args: argparse.Namespace,
    profile_dir: Path | None,
    simulator: Process | None = None,
) -> ServerRun:
    learner_counts: list[int] = args.learners
    seats = {
        "warm": relay_site.make_seats(f"{server}-warm", WARM_UP_TURNS),
        "idle": relay_site.make_seats(f"{server}-idle", 2 * IDLE_SOCKETS),
        "stall": relay_site.make_seats(f"{server}-stall", 2),
    }
    for count in learner_counts:
        seats[f"chat{count}"] = relay_site.make_seats(f"{server}-chat{count}", count)
    say(f"{server}: learners and sessions created")
    log = Path(tempfile.mkstemp(prefix=f"relay-{server}-", suffix=".log")[1])
    process = start_server(server, env, log=log)
    pid, port = process.popen.pid, process.port
    result = ServerRun(server)
    say(f"{server}: serving on port {port}, pid {pid}")
    try:
        result.errors += relay_phases.warm_up(port, seats["warm"])
        say(f"{server}: warmed up")
        result.idle = relay_phases.idle(port, pid, seats["idle"])
        say(f"{server}: idle sockets measured")
        # Before the loads: an overloaded server may still be finishing their turns after.
        reader, staller = seats["stall"]
        result.reading, result.stalled = relay_phases.stall(
            port, pid, reader, staller, STALL_SECONDS
        )
        # The stalled socket is closed: give the server a moment to cancel or finish its turn.
        time.sleep(1.0)
        say(f"{server}: stalled client measured")
        result.stalled_outcomes = relay_site.outcomes_for([staller.conversation_id])
        for count in learner_counts:
            spy: list[subprocess.Popen[bytes] | None] = [None]
            output = (profile_dir or Path()) / f"{server}-{count}.txt"

            wanted = profile_dir is not None and count == max(learner_counts)

            def start_profile(
                output: Path = output,
                spy: list[subprocess.Popen[bytes] | None] = spy,
                wanted: bool = wanted,
            ) -> None:
                if wanted:
                    spy[0] = profile.record(pid, args.seconds, output)

            sim_before = cpu_seconds(simulator.popen.pid) if simulator else 0.0
            chat = relay_phases.chat(
                port, pid, seats[f"chat{count}"], args.seconds, args.think, start_profile
            )
            if simulator is not None:
                result.simulator_cpu[count] = cpu_seconds(simulator.popen.pid) - sim_before
            ids = [t.turn_id for t in chat.turns if t.turn_id is not None]
            result.chats[count] = (chat, relay_site.turn_rows(ids))
            if spy[0] is not None:
                spy[0].wait(30)
                result.profiles[count] = profile.summarise(output)
            say(f"{server}: {count} learners measured")
    except Exception as exc:
        result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
    finally:
        process.stop()
    if process.popen.returncode not in (0, -15, None):
        result.errors.append(f"{server} exited with {process.popen.returncode}")
    result.log_tail = process.log_tail(1500)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__)
    parser.add_argument(
        "--learners",
        type=lambda text: [int(n) for n in text.split(",") if n.strip()],
        default=[50, 200],
        help="concurrent learners, comma-separated (default 50,200)",
    )
    parser.add_argument(
        "--seconds", type=float, default=6.0, help="chatting time per load (default 6)"
    )
    parser.add_argument(
        "--think", type=float, default=0.5, help="pause between a reply and the next message"
    )
    parser.add_argument("--server", choices=("daphne", "uvicorn", "both"), default="both")
    parser.add_argument(
        "--upstream",
        choices=("loopback", "inprocess"),
        default="loopback",
        help="the simulator in its own process (default) or inside the server (the older setup)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="folder: sample the server with py-spy during the largest load and summarise",
    )
    args = parser.parse_args(argv)
    if not args.learners or min(args.learners) < 1 or args.seconds <= 0:
        parser.error("--learners needs positive counts and --seconds a positive number")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    servers = ["daphne", "uvicorn"] if args.server == "both" else [args.server]
    begun = time.perf_counter()
    coach = (
        "real-API path (resilient client, no governor) to the simulator in its own process"
        if args.upstream == "loopback"
        else "offline coach through the in-process simulator"
    )
    lines = [
        f"Coach labs websocket relay benchmark (python -m bench.relay --upstream {args.upstream})",
        *machine_lines(),
        f"servers: {', '.join(servers)}, one process each, loopback only, DEBUG off, SQLite, "
        f"in-memory channel layer, {coach}",
        f"simulator: TTFT {SIMULATOR_TTFT * 1000:.0f} ms, {TOKENS_PER_SECOND} tokens/s; "
        f"learners {', '.join(map(str, args.learners))} chatting {args.seconds:g} s each "
        f"(send, read the whole reply, pause {args.think:g} s, send again)",
    ]
    print("\n".join(lines), flush=True)
    env = bench_env()
    prepare(env)
    say("database migrated")
    profile_dir = args.profile
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    streams = min(50, max(args.learners))
    simulator: Process | None = None
    try:
        if args.upstream == "loopback":
            simulator = start_simulator(env, SIMULATOR_TTFT, TOKENS_PER_SECOND)
            env = loopback_env(env, simulator)
            say(f"simulator serving on port {simulator.port}, pid {simulator.popen.pid}")
            relay_site.setup_django(env)
            upstream = relay_site.loopback_baselines(streams)
        else:
            relay_site.setup_django(env)
            upstream = relay_site.upstream_baselines(streams)
        say("upstream baselines measured")
        runs = [run_server(server, env, args, profile_dir, simulator) for server in servers]
    finally:
        if simulator is not None:
            simulator.stop()
    run = Run(
        SIMULATOR_TTFT,
        TOKENS_PER_SECOND,
        upstream,
        runs,
        elapsed=time.perf_counter() - begun,
        mode=args.upstream,
    )
    print("\n".join(report(run)), flush=True)


if __name__ == "__main__":
    main()
