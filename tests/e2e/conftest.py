"""Fixtures for browser journeys: the site as `make run` serves it, and Debian's Chromium.

The site runs in its own daphne process on a free loopback port, with debug mode off (collected,
hashed static files, the Content-Security-Policy, the error pages learners see), a temporary
SQLite database, the offline coach streaming at a visible but quick pace, and a staff account.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from bench.loopback import Process, prepare, start_server
from tests.e2e.browser import ARTIFACTS, AXE_JS, CHROMIUM, CHROMIUM_ARGS, Tour
from tests.scaled.conftest import ServedSimulator, served_simulator

INSTRUCTOR = ("ins", "instructor-pass-1234")
# Variables that would point the site at shared services or the real API.
FOREIGN = (
    "DATABASE_URL",
    "REDIS_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "COACH_FAULTS",
    "ALLOWED_HOSTS",
    "HOST",
    "TLS_PROXY",
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class Site:
    url: str
    process: Process


def site_env(folder: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN}
    env.update(
        DEBUG="0",
        SECRET_KEY="e2e-" + "k" * 60,
        SQLITE_PATH=str(folder / "e2e.sqlite3"),
        STATIC_ROOT=str(folder / "static"),
        COACH_TTFT="0.2",
        COACH_TOKENS_PER_SECOND="40",
        CHAT_MESSAGES_PER_MINUTE="60",
        LOG_LEVEL="WARNING",
        DJANGO_SUPERUSER_PASSWORD=INSTRUCTOR[1],
    )
    return env


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    folder = Path(tempfile.mkdtemp(prefix="e2e-site-"))
    env = site_env(folder)
    prepare(
        env,
        ["createsuperuser", "--noinput", "--username", INSTRUCTOR[0], "--email", "i@example.org"],
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    process = start_server("daphne", env, log=ARTIFACTS / "server.log")
    try:
        yield Site(process.url, process)
    finally:
        process.stop()
        shutil.rmtree(folder, ignore_errors=True)


class Script:
    """The reply the simulator behind `api_site` streams next (a test sets `reply`)."""

    def __init__(self) -> None:
        self.reply = "Hello."

    def __call__(self, request: object) -> str:
        return self.reply


@dataclass(frozen=True)
class ApiSite(Site):
    script: Script
    simulator: ServedSimulator


@pytest.fixture(scope="session")
def api_site() -> Iterator[ApiSite]:
    """The site on its real-API path (the SDK over HTTP), talking to the Messages API simulator
    on loopback with a reply a test writes, and with rate limits, so every response carries
    `anthropic-ratelimit-*` headers."""
    folder = Path(tempfile.mkdtemp(prefix="e2e-api-site-"))
    script = Script()
    with served_simulator(
        responder=script, ttft=0.2, tokens_per_second=40, rpm=50, itpm=40_000, otpm=8_000
    ) as served:
        env = site_env(folder)
        env.update(ANTHROPIC_API_KEY="sk-ant-e2e-simulator", ANTHROPIC_BASE_URL=served.url)
        prepare(env)
        process = start_server("daphne", env, log=ARTIFACTS / "api-server.log")
        try:
            yield ApiSite(process.url, process, script, served)
        finally:
            process.stop()
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    if not AXE_JS.is_file():
        _unavailable(f"axe-core is not vendored at {AXE_JS} (run `make vendor-axe`)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def tour(request, site: Site, browser: Browser) -> Iterator[Tour]:
    journey = Tour(browser, site.url, request.node.name)
    yield journey
    problems = journey.close()
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def api_tour(request, api_site: ApiSite, browser: Browser) -> Iterator[Tour]:
    journey = Tour(browser, api_site.url, request.node.name)
    yield journey
    problems = journey.close()
    if problems:
        pytest.fail("\n".join(problems))
