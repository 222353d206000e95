"""`python -m resilient.simulator`: a real process on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anthropic
import pytest

from resilient.simulator.__main__ import build_parser, config_from_args, main
from resilient.simulator.engine import DEFAULT_LIMITS
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


@contextmanager
def served(*args: str) -> Iterator[str]:
    """A real simulator process on a free loopback port; yields its URL once it accepts."""
    port = free_port()
    process = run("--port", str(port), *args)
    try:
        assert process.stdout is not None
        url = f"http://127.0.0.1:{port}"
        assert url in process.stdout.readline()
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"the simulator did not start: {process.stderr.read()}")
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=STARTUP_SECONDS)
        process.stdout.close()
        process.stderr.close()


async def test_it_serves_the_plan_and_prints_its_url():
    # One real process: most of its start-up time is importing the SDK via `resilient`.
    with served("--faults", "529") as url:
        async with anthropic.AsyncAnthropic(api_key="t", base_url=url, max_retries=0) as client:
            with pytest.raises(anthropic.OverloadedError):
                await client.messages.create(
                    model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
                )
            message = await client.messages.create(
                model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
    assert message.stop_reason == "max_tokens"  # the default reply is longer than 10


LIMIT_FAMILIES = ("requests", "input-tokens", "output-tokens", "tokens")


async def test_with_no_flags_every_response_carries_rate_limit_headers_like_the_api():
    with served() as url:
        async with anthropic.AsyncAnthropic(api_key="t", base_url=url, max_retries=0) as client:
            raw = await client.messages.with_raw_response.create(
                model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
            with pytest.raises(anthropic.RateLimitError) as info:
                await client.messages.create(
                    model=MODEL,
                    max_tokens=10,
                    messages=[{"role": "user", "content": "hi"}],
                    extra_headers={
                        "x-simulator-faults": "429",
                        "x-simulator-fault-key": "no-flags",
                    },
                )
    for headers in (raw.headers, info.value.response.headers):
        for family in LIMIT_FAMILIES:
            prefix = f"anthropic-ratelimit-{family}"
            assert int(headers[f"{prefix}-limit"]) > 0
            assert 0 <= int(headers[f"{prefix}-remaining"]) <= int(headers[f"{prefix}-limit"])
            assert headers[f"{prefix}-reset"].endswith("Z")
    assert int(raw.headers["anthropic-ratelimit-requests-limit"]) == DEFAULT_LIMITS.rpm
    assert int(raw.headers["anthropic-ratelimit-input-tokens-limit"]) == DEFAULT_LIMITS.itpm
    assert int(raw.headers["anthropic-ratelimit-output-tokens-limit"]) == DEFAULT_LIMITS.otpm
    assert int(raw.headers["anthropic-ratelimit-requests-remaining"]) == DEFAULT_LIMITS.rpm - 1
    assert float(info.value.response.headers["retry-after"]) > 0
