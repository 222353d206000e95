"""Start the site (or any server) on a free loopback port; a small keep-alive load generator.

Shared by the benchmarks and by the browser and scaled-mode test fixtures.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APP = "config.asgi:application"
# Readiness: the ops health page once it exists; until then any answer below 500 will do.
HEALTH_PATH = "/healthz"
# Chat frames are small: compressing them costs CPU per frame and ~35 KiB of zlib state per idle
# socket (measured by bench/relay.py), and saves little.
DEFLATE_OFF = ["--ws-per-message-deflate", "false"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def production_env(**extra: str) -> dict[str, str]:
    """Settings as an operator would run them, on loopback without TLS."""
    static_root = tempfile.mkdtemp(prefix="bench-static-")
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": static_root,
        "SQLITE_PATH": str(Path(static_root) / "bench.sqlite3"),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


_PREPARE = """
import json, sys, django
django.setup()
from django.core.management import call_command
for name, *args in json.loads(sys.argv[1]):
    call_command(name, *args)
"""


def prepare(env: dict[str, str], *commands: list[str]) -> None:
    """Migrate and collect static files (as `make run` does), then any extra `manage.py` commands.

    One process runs them all: importing the project costs seconds, once is enough.
    """
    steps = [["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"], *commands]
    subprocess.run(
        [sys.executable, "-c", _PREPARE, json.dumps(steps)],
        cwd=REPO,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", **env},
        check=True,
    )


def server_command(server: str, port: int) -> list[str]:
    """The command line of one ASGI worker (`daphne` or `uvicorn`) bound to loopback."""
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), APP]
    if server == "uvicorn":
        flags = f"--host 127.0.0.1 --port {port} --log-level warning --no-access-log"
        return [sys.executable, "-m", "uvicorn", APP, *flags.split(), *DEFLATE_OFF]
    raise ValueError(f"unknown server {server!r}: use 'daphne' or 'uvicorn'")


@dataclass
class Process:
    """One process listening on a loopback port, its output captured in a log file."""

    name: str
    port: int
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up, as when a worker crashes."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)


def _status(port: int, path: str) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def wait_ready(process: Process, path: str = HEALTH_PATH, timeout: float = 30.0) -> None:
    """Poll `path` until it answers below 500 (a 404 means there is no health page: serving)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(
                f"{process.name} exited with {process.popen.returncode} before it was ready:\n"
                + process.log_tail()
            )
        status = _status(process.port, path)
        if status is not None and status < 500:
            return
        time.sleep(0.1)
    process.stop()
    raise RuntimeError(
        f"{process.name} was not ready on port {process.port} within {timeout:.0f} s:\n"
        + process.log_tail()
    )


def start(
    command: list[str],
    env: dict[str, str],
    port: int,
    *,
    name: str,
    log: Path | None = None,
    ready_path: str = HEALTH_PATH,
    timeout: float = 30.0,
) -> Process:
    """Start `command` (which must listen on `port`), wait until it answers, return it."""
    if log is None:
        log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        popen = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
    process = Process(name, port, popen, log)
    try:
        wait_ready(process, ready_path, timeout)
    except BaseException:
        process.stop()
        raise
    return process


def start_server(
    server: str, env: dict[str, str], port: int | None = None, *, log: Path | None = None
) -> Process:
    """One ASGI worker of the site; the caller has already run `prepare(env)`."""
    port = port or free_port()
    return start(server_command(server, port), env, port, name=f"{server}:{port}", log=log)


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _load(port: int, path: str, seconds: float, connections: int) -> LoadResult:
    import aiohttp

    result = LoadResult(0, 0, seconds)
    stop_at = time.monotonic() + seconds

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < stop_at:
            async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                await response.read()
                result.requests += response.status == 200
                result.errors += response.status != 200

    connector = aiohttp.TCPConnector(limit=connections)  # keep-alive, one per worker
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    return result


def load(port: int, path: str, seconds: float = 5.0, connections: int = 8) -> LoadResult:
    """`connections` keep-alive clients request `path` for `seconds`, one request at a time."""
    return asyncio.run(_load(port, path, seconds, connections))
