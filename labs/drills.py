"""Fault drills: named fault plans a learner can aim at their next offline turn.

Each plan uses the simulator's grammar (one outcome per attempt, see
`resilient/simulator/README.md`); it rides on the turn's request as `x-simulator-faults`, keyed
by the turn id, so one learner's drill never touches another learner's turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from resilient.simulator import FAULT_KEY_HEADER, FAULTS_HEADER, PlanError, parse_plan


@dataclass(frozen=True)
class Drill:
    key: str
    label: str
    summary: str  # what happens, in plain words (the selector shows it)
    expect: str  # what the learner should watch for
    plan: str  # the simulator's plan: shown under the hood, never in the selector


DRILLS: tuple[Drill, ...] = (
    Drill(
        "rate-limit-storm",
        "429 storm",
        "the coach is told to slow down twice, then answers",
        "Two “too many requests” answers: the client waits as long as the server asks "
        "(retry-after) each time, then the reply comes.",
        "429:retry_after=1,429:retry_after=1,ok",
    ),
    Drill(
        "overloaded",
        "Overloaded",
        "the service is busy twice, then answers",
        "Two “overloaded” answers: the client waits a little longer each time, with some "
        "randomness (backoff with jitter), then the reply comes.",
        "529,529,ok",
    ),
    Drill(
        "dropped-stream",
        "Dropped stream",
        "the reply breaks off part-way and starts again",
        "The connection drops after a few words: the half-written reply is cleared, the "
        "notice says why, and the whole reply is asked for again.",
        "drop@15,ok",
    ),
    Drill(
        "slow-first-token",
        "Slow first token",
        "the first words take three seconds to come",
        "The status line says the coach is still waiting for the first words; they arrive "
        "before the first-token timeout, so nothing is retried.",
        "slow_ttft=3,ok",
    ),
    Drill(
        "truncated",
        "Truncated reply",
        "the reply is cut off at the length limit",
        "The reply stops early and is marked “Truncated”, never shown as complete.",
        "max_tokens",
    ),
    Drill(
        "outage",
        "Outage",
        "the service stays overloaded, so the coach gives up",
        "Every attempt is overloaded: after its last attempt the client stops, says why "
        "under the hood, and the reply offers Try again.",
        "529*6",
    ),
)
DRILLS_BY_KEY = {drill.key: drill for drill in DRILLS}


def drill_plan(key: str | None) -> str | None:
    """The plan for a drill key; None for no drill; raises KeyError for an unknown key."""
    if not key or key == "none":
        return None
    return DRILLS_BY_KEY[key].plan


_running: ContextVar[str] = ContextVar("lab_drill", default="")


@contextmanager
def drill_scope(key: str) -> Iterator[None]:
    """Within it, the turn running is the drill `key` (empty: a real turn), so a metrics hook
    can leave the attempts of a drill out of the production figures (`running_drill`)."""
    token = _running.set(key)
    try:
        yield
    finally:
        _running.reset(token)


def running_drill() -> str:
    """The drill the current turn is, or "" for a real turn (or outside any turn)."""
    return _running.get()


def fault_headers(plan: str, turn_id: int) -> dict[str, str]:
    """Per-request fault headers; raises PlanError for a plan the simulator would refuse."""
    parse_plan(plan)
    return {FAULTS_HEADER: plan, FAULT_KEY_HEADER: f"turn-{turn_id}"}


__all__ = [
    "DRILLS",
    "DRILLS_BY_KEY",
    "Drill",
    "PlanError",
    "drill_plan",
    "drill_scope",
    "fault_headers",
    "running_drill",
]
