"""Every Python block in the lessons runs as a learner would copy it: saved as a file and run,
against the Messages API simulator on loopback, with every warning an error."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anthropic
import pytest
from django.conf import settings

from course.registry import load_module, module_folders
from resilient.simulator import Simulator, SimulatorConfig
from tests.served import simulator_in_thread

USER = {"role": "user", "content": "Explain backoff in one line."}
# Far above what these tests use, so no block is throttled; and far from the fallbacks that
# RateLimitAwareClient uses when a header is missing (999 and 999_999).
LIMITS = {"rpm": 10_000, "itpm": 5_000_000, "otpm": 1_000_000}


def python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for folder in module_folders(Path(settings.CONTENT_DIR)):
        for lesson in load_module(folder).lessons:
            for index, code in enumerate(re.findall(r"```python\n(.*?)```", lesson.body, re.S)):
                blocks.append((f"{lesson.slug}#{index + 1}", code))
    return blocks


BLOCKS = python_blocks()


def block(defining: str) -> str:
    (code,) = [code for _, code in BLOCKS if defining in code]
    return code


@dataclass
class Served:
    simulator: Simulator
    url: str


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """The simulator's ASGI app under uvicorn on 127.0.0.1, as `python -m resilient.simulator`."""
    simulator = Simulator(SimulatorConfig(ping_interval=0.05, **LIMITS))
    with simulator_in_thread(simulator) as url:
        yield Served(simulator, url)


@pytest.fixture
def simulator(served, monkeypatch) -> Simulator:
    """The served simulator with no faults planned; the SDK's clients find it through the
    environment, as a learner's would find the real API."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", served.url)
    served.simulator.set_faults("")
    return served.simulator


def run(code: str, monkeypatch, *, name: str = "__main__") -> types.ModuleType:
    """Run `code` as `python block.py` would (`name` "__main__"), or import it (any other name),
    with warnings as errors; return its module."""
    module = types.ModuleType(name)
    module.__file__ = f"{name}.py"
    # A real module, as `python file.py` would give: dataclasses look their module up.
    monkeypatch.setitem(sys.modules, name, module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, f"{name}.py", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[where for where, _ in BLOCKS])
def test_the_block_runs_as_a_script_against_the_simulator(where, code, simulator, monkeypatch):
    before = simulator.stats.attempts
    run(code, monkeypatch)
    if "messages." in code:  # it calls the API: its demo must have reached the simulator
        assert simulator.stats.attempts > before, f"{where} has no runnable demo"
        assert simulator.stats.completed > 0


def test_a_deprecated_model_would_fail_the_run(simulator, monkeypatch):
    code = block("def short_answer").replace("claude-sonnet-4-6", "claude-opus-4-5")
    with pytest.raises(DeprecationWarning, match="claude-opus-4-5"):
        run(code, monkeypatch)


def test_blocks_use_the_sdk_as_it_is_today():
    code = "\n".join(code for _, code in BLOCKS)
    assert "text_stream()" not in code  # a property, not a method
    assert "x-ratelimit-" not in code  # the real headers are anthropic-ratelimit-*
    assert not re.search(r"(?<!with)_raw_response", code)  # headers: with_raw_response
    assert "betas=" not in code  # prompt caching is generally available
    assert "import httpx\n" not in code  # the SDK is built on httpx2: anthropic.Timeout


# --- Lesson 1: retrying -------------------------------------------------------------------


def retry_client() -> anthropic.Anthropic:
    return anthropic.Anthropic(max_retries=0)  # as the block's comment asks


def test_call_with_retry_waits_at_least_retry_after_then_succeeds(simulator, monkeypatch):
    lesson = run(block("def call_with_retry"), monkeypatch, name="lesson_block")
    simulator.set_faults("429:retry_after=1,ok")
    before = simulator.stats.attempts

    started = time.monotonic()
    message = lesson.call_with_retry(
        retry_client(), model="claude-haiku-4-5", max_tokens=500, messages=[USER]
    )

    assert message.stop_reason == "end_turn"
    assert simulator.stats.attempts - before == 2
    assert time.monotonic() - started >= 1.0  # retry-after is a floor, never shortened


def test_call_with_retry_gives_up_at_once_on_a_spent_monthly_limit(simulator, monkeypatch):
    lesson = run(block("def call_with_retry"), monkeypatch, name="lesson_block")
    simulator.set_faults("spend_cap*5")
    before = simulator.stats.attempts
    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail(f"slept {seconds:.1f} s"))

    with pytest.raises(anthropic.RateLimitError) as raised:
        lesson.call_with_retry(
            retry_client(), model="claude-haiku-4-5", max_tokens=50, messages=[USER]
        )

    assert raised.value.error_code == "enforced_spend_limit_reached"
    assert simulator.stats.attempts - before == 1  # was 5 attempts and ~15 s of sleeping


def test_the_rate_limit_aware_client_reads_the_headers_the_api_sends(simulator, monkeypatch):
    lesson = run(block("class RateLimitAwareClient"), monkeypatch, name="lesson_block")
    paced = lesson.RateLimitAwareClient(anthropic.Anthropic())

    paced.create(model="claude-haiku-4-5", max_tokens=50, messages=[USER])

    assert LIMITS["rpm"] - 100 < paced.remaining_requests < LIMITS["rpm"]
    assert LIMITS["itpm"] - 100_000 < paced.remaining_input_tokens <= LIMITS["itpm"]
    assert LIMITS["otpm"] - 100_000 < paced.remaining_output_tokens <= LIMITS["otpm"]


# --- Lesson 3: streams that end early ------------------------------------------------------


def test_a_stream_that_ends_early_is_reported_not_printed_as_complete(
    simulator, monkeypatch, capsys
):
    lesson = run(block("def stream_reply"), monkeypatch, name="lesson_block")
    simulator.set_faults("eof@3")

    with pytest.raises(lesson.IncompleteReply):
        lesson.stream_reply("Explain exponential backoff in two sentences.")

    out = capsys.readouterr().out
    assert "[interrupted: this reply is incomplete]" in out
    assert "Tokens:" not in out  # what a finished reply prints


def test_a_complete_stream_prints_its_usage(simulator, monkeypatch, capsys):
    lesson = run(block("def stream_reply"), monkeypatch, name="lesson_block")
    final = lesson.stream_reply("Explain exponential backoff in two sentences.")
    out = capsys.readouterr().out
    assert final.stop_reason == "end_turn"
    assert f"Tokens: {final.usage.input_tokens} in, {final.usage.output_tokens} out" in out


def test_the_batch_does_not_return_a_reply_that_ended_early(simulator, monkeypatch):
    lesson = run(block("def batch_process"), monkeypatch, name="lesson_block")
    simulator.set_faults("eof@2")
    with pytest.raises(lesson.IncompleteReply):
        asyncio.run(lesson.batch_process(["Summarise: one", "Summarise: two"]))


# --- Lesson 4: what reaches the user -------------------------------------------------------


class Queue:
    def __init__(self) -> None:
        self.pushed: list[str] = []

    async def push(self, prompt: str) -> None:
        self.pushed.append(prompt)


class Cache:
    async def get_similar(self, prompt: str) -> str | None:
        return None


@pytest.mark.parametrize(
    ("plan", "logged"),
    [("401", "Claude request failed"), ("403", "Claude request failed"), ("400", "Invalid")],
)
def test_safe_complete_never_lets_an_api_error_reach_the_user(
    plan, logged, simulator, monkeypatch, caplog
):
    lesson = run(block("async def safe_complete"), monkeypatch, name="lesson_block")
    simulator.set_faults(plan)
    queue = Queue()

    with caplog.at_level(logging.ERROR, logger="claude.api"):
        reply = asyncio.run(lesson.safe_complete("Hi", queue, Cache(), "Try later."))

    assert reply == "Try later."
    assert queue.pushed == []  # retrying a bad key or request cannot help
    assert logged in caplog.text


def test_tracked_create_logs_an_api_error_and_raises_it(simulator, monkeypatch, caplog):
    lesson = run(block("def tracked_create"), monkeypatch, name="lesson_block")
    simulator.set_faults("401")
    with (
        caplog.at_level(logging.ERROR, logger="claude.api"),
        pytest.raises(anthropic.AuthenticationError),
    ):
        lesson.tracked_create(
            anthropic.Anthropic(), model="claude-haiku-4-5", max_tokens=50, messages=[USER]
        )
    assert "AuthenticationError" in caplog.text
