"""`python -m resilient.simulator`: a real process on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import pytest

from resilient.simulator.__main__ import build_parser, config_from_args, main
from tests.resilient.simulator.sdk_faults import MODEL

REPO = Path(__file__).resolve().parents[3]
STARTUP_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-m", "resilient.simulator", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_flags_build_the_config():
    args = build_parser().parse_args(
        [
            "--port",
            "9",
            "--faults",
            "529,ok",
            "--rpm",
            "50",
            "--itpm",
            "40000",
            "--otpm",
            "8000",
            "--ttft",
            "0.5",
            "--tokens-per-second",
            "30",
        ]
    )
    config = config_from_args(args)
    assert (config.rpm, config.itpm, config.otpm) == (50, 40_000, 8_000)
    assert (config.ttft, config.tokens_per_second, config.faults) == (0.5, 30.0, "529,ok")
    assert args.host == "127.0.0.1"


def test_a_bad_plan_is_refused_with_the_item_named(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--port", "9", "--faults", "529,drop@x"])
    assert info.value.code == 2
    assert "'drop@x'" in capsys.readouterr().err


async def test_it_serves_the_plan_and_prints_its_url():
    # One real process: most of its start-up time is importing the SDK via `resilient`.
    port = free_port()
    process = run("--port", str(port), "--faults", "529")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        assert url in line
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"the simulator did not start: {process.stderr.read()}")
                time.sleep(0.05)
        async with anthropic.AsyncAnthropic(api_key="t", base_url=url, max_retries=0) as client:
            with pytest.raises(anthropic.OverloadedError):
                await client.messages.create(
                    model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )
            message = await client.messages.create(
                model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
        assert message.stop_reason == "max_tokens"  # the default reply is longer than 10
    finally:
        process.terminate()
        process.wait(timeout=STARTUP_SECONDS)
        process.stdout.close()
        process.stderr.close()
