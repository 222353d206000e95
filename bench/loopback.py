"""Bench helpers: start the site on a free loopback port, and a small keep-alive load generator."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


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


@contextlib.contextmanager
def serve(server: str, env: dict[str, str], port: int | None = None) -> Iterator[int]:
    """Run `daphne` or `uvicorn` with the project's ASGI app; yield the port; always stop it."""
    port = port or free_port()
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True
    )
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=REPO, env=env, check=True
    )
    if server == "daphne":
        cmd = [
            python,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ]
    else:
        cmd = [
            python,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{server} did not start on port {port}")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _worker(port: int, path: str, stop_at: float, result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n".encode()
    try:
        while time.monotonic() < stop_at:
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            if b" 200 " in status_line:
                result.requests += 1
            else:
                result.errors += 1
    finally:
        writer.close()


async def _load(port: int, path: str, seconds: float, connections: int) -> LoadResult:
    result = LoadResult(0, 0, seconds)
    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(_worker(port, path, stop_at, result) for _ in range(connections)))
    return result


def load(port: int, path: str, seconds: float = 5.0, connections: int = 8) -> LoadResult:
    return asyncio.run(_load(port, path, seconds, connections))
