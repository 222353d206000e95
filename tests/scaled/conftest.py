"""Fixtures for the scaled deployment: PostgreSQL, Redis, the simulator and two workers.

PostgreSQL or Redis missing: every scaled test is skipped with the reason, or fails with
CI=true. The simulator runs in this process (uvicorn in a thread, on loopback) so a test can
read its counters: how many attempts it received and how many it answered with a 429.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.loopback import REPO, prepare
from resilient.simulator import Responder, Simulator, SimulatorConfig
from tests.scaled.deployment import Deployment, scaled_env, start_workers
from tests.scaled.services import (
    flush_redis,
    postgres_problem,
    recreate_database,
    redis_problem,
    scaled_database_url,
    scaled_redis_url,
)
from tests.served import simulator_in_thread

LOGS = REPO / "artifacts" / "scaled"


@dataclass
class ServedSimulator:
    simulator: Simulator
    url: str


@contextmanager
def served_simulator(
    responder: Responder | None = None, **config: float | int | None
) -> Iterator[ServedSimulator]:
    """The Messages API simulator on a loopback port, served by uvicorn in a thread."""
    simulator = Simulator(SimulatorConfig(**config), responder=responder)  # type: ignore[arg-type]
    with simulator_in_thread(simulator) as url:
        yield ServedSimulator(simulator, url)


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str
    static_root: Path


@pytest.fixture(scope="session")
def services() -> Services:
    database_url, redis_url = scaled_database_url(), scaled_redis_url()
    problems = [p for p in (postgres_problem(database_url), redis_problem(redis_url)) if p]
    if problems:
        reason = "; ".join(problems)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the scaled deployment cannot run: {reason}")
        pytest.skip(f"scaled deployment not available: {reason}")
    recreate_database(database_url)
    flush_redis(redis_url)
    static_root = Path(tempfile.mkdtemp(prefix="scaled-static-"))
    prepare(scaled_env(database_url, redis_url, static_root=static_root))
    return Services(database_url, redis_url, static_root)


# Roomy per-learner limits: these tests are about the shared services, not the chat limits.
GENEROUS = {
    "CHAT_MESSAGES_PER_MINUTE": "1000",
    "BUDGET_CONVERSATION_USD": "100",
    "BUDGET_LEARNER_DAY_USD": "1000",
    "BUDGET_GLOBAL_DAY_USD": "1000",
}

StartDeployment = Callable[..., Deployment]


@pytest.fixture
def start_deployment(services: Services, request) -> Iterator[StartDeployment]:
    """Start two workers against `simulator_url` with extra settings; stopped after the test."""
    started: list[Deployment] = []

    def start(simulator_url: str, workers: int = 2, **extra: str) -> Deployment:
        env = scaled_env(
            services.database_url,
            services.redis_url,
            static_root=services.static_root,
            simulator_url=simulator_url,
            **{**GENEROUS, **extra},
        )
        logs = LOGS / request.node.name / f"deployment-{len(started) + 1}"
        running = Deployment(env, start_workers(env, workers, logs))
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
