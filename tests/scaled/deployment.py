"""The scaled deployment on one machine: N ASGI workers sharing PostgreSQL and Redis.

The scaled tests start exactly this, and `make run-scaled` runs it by hand:

    python -m tests.scaled.deployment            # two uvicorn workers on 8001 and 8002

Workers are uvicorn: its websocket `send` waits for a slow reader, where daphne buffers
without bound (see DESIGN.md, measured traps); `make run` keeps daphne for one process.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.loopback import Process, free_port, prepare, start, start_server
from tests.scaled.services import (
    ensure_database,
    postgres_problem,
    redis_problem,
)

SERVER = "uvicorn"
# A key-shaped string: with ANTHROPIC_BASE_URL pointing at the simulator the app takes its
# real-API path (the SDK over the network), and the simulator accepts any key.
SIMULATOR_API_KEY = "sk-ant-scaled-test-key"
RUN_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/course"
RUN_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Deployment:
    env: dict[str, str]
    workers: list[Process] = field(default_factory=list)
    simulator: Process | None = None

    def stop(self) -> None:
        for process in [*self.workers, *([self.simulator] if self.simulator else [])]:
            process.stop()


def scaled_env(
    database_url: str,
    redis_url: str,
    *,
    static_root: Path,
    simulator_url: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """Production settings (DEBUG off) on loopback without TLS, sharing PostgreSQL and Redis."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "scaled-" + "s" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STATIC_ROOT": str(static_root),
        "LOG_LEVEL": "WARNING",
    }
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "COACH_FAULTS", "SQLITE_PATH"):
        env.pop(name, None)
    if simulator_url:
        env["ANTHROPIC_API_KEY"] = SIMULATOR_API_KEY
        env["ANTHROPIC_BASE_URL"] = simulator_url
    env.update(extra)
    return env


def simulator_command(port: int, *, rpm: int, ttft: float, tokens_per_second: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "resilient.simulator",
        "--port",
        str(port),
        "--rpm",
        str(rpm),
        "--ttft",
        str(ttft),
        "--tokens-per-second",
        str(tokens_per_second),
    ]


def start_simulator(
    env: dict[str, str], *, rpm: int, ttft: float, tokens_per_second: float, log: Path
) -> Process:
    port = free_port()
    command = simulator_command(port, rpm=rpm, ttft=ttft, tokens_per_second=tokens_per_second)
    # Any HTTP answer means it is serving; the simulator has no health page.
    return start(command, env, port, name=f"simulator:{port}", log=log, ready_path="/")


def start_workers(
    env: dict[str, str], count: int, logs: Path, ports: list[int] | None = None
) -> list[Process]:
    """Start `count` workers at once (each takes seconds to import the project)."""
    ports = ports or [free_port() for _ in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [
            pool.submit(start_server, SERVER, env, port, log=logs / f"worker-{index + 1}.log")
            for index, port in enumerate(ports)
        ]
        started = [f.result() for f in futures if f.exception() is None]
        failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        for process in started:
            process.stop()
        raise failed[0]  # type: ignore[misc]
    return started


@contextlib.contextmanager
def deployment(
    env: dict[str, str], *, workers: int = 2, logs: Path, ports: list[int] | None = None
) -> Iterator[Deployment]:
    """Migrate once, then start `workers` processes on the same database and Redis."""
    prepare(env)
    running = Deployment(env)
    try:
        running.workers = start_workers(env, workers, logs, ports)
        yield running
    finally:
        running.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make run-scaled",
        description="Run the scaled deployment locally: N workers on PostgreSQL + Redis.",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--first-port", type=int, default=8001)
    args = parser.parse_args(argv)
    # Not the tests' databases: the scaled tests empty theirs on every run.
    database_url = os.environ.get("DATABASE_URL") or RUN_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or RUN_REDIS_URL
    missing = [p for p in (postgres_problem(database_url), redis_problem(redis_url)) if p]
    if missing:
        print("The scaled deployment needs PostgreSQL and Redis:", file=sys.stderr)
        for problem in missing:
            print(f"  - {problem}", file=sys.stderr)
        print(
            "Start them (or set DATABASE_URL / REDIS_URL), then run `make run-scaled` again.",
            file=sys.stderr,
        )
        return 1
    ensure_database(database_url)
    static_root = Path(tempfile.mkdtemp(prefix="scaled-static-"))
    env = scaled_env(database_url, redis_url, static_root=static_root)
    # Keep what the operator set: a real key, the coach model, budgets.
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "COACH_MODEL", "SECRET_KEY"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    ports = [args.first_port + index for index in range(args.workers)]
    logs = Path("artifacts") / "run-scaled"
    with deployment(env, workers=args.workers, logs=logs.resolve(), ports=ports) as running:
        print(f"Scaled deployment: {args.workers} {SERVER} workers sharing")
        print(f"  PostgreSQL {database_url}")
        print(f"  Redis      {redis_url}")
        for worker in running.workers:
            print(f"  worker     {worker.url}/   (log: {worker.log})")
        print("Any worker serves any learner. Create a staff account with:")
        print(f"  DATABASE_URL={database_url} .venv/bin/python manage.py createsuperuser")
        print("Ctrl+C stops every worker.", flush=True)
        stopping = False

        def on_signal(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, on_signal)
        try:
            while not stopping:
                for worker in running.workers:
                    if worker.popen.poll() is not None:
                        print(f"{worker.name} exited; see {worker.log}", file=sys.stderr)
                        return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
