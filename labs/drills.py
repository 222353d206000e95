"""Fault drills: named fault plans a learner can aim at their next offline turn.

Each plan uses the simulator's grammar (one outcome per attempt, see
`resilient/simulator/README.md`); it rides on the turn's request as `x-simulator-faults`, keyed
by the turn id, so one learner's drill never touches another learner's turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from resilient.simulator import FAULT_KEY_HEADER, FAULTS_HEADER, PlanError, parse_plan


@dataclass(frozen=True)
class Drill:
    key: str
    label: str
    plan: str
    expect: str  # what the learner should watch for


DRILLS: tuple[Drill, ...] = (
    Drill(
        "rate-limit-storm",
        "429 storm",
        "429:retry_after=1,429:retry_after=1,ok",
        "two 429s: the client waits for retry-after each time, then answers",
    ),
    Drill(
        "overloaded", "Overloaded", "529,529,ok", "two 529s, backoff with jitter, then an answer"
    ),
    Drill(
        "dropped-stream",
        "Dropped stream",
        "drop@15,ok",
        "the stream breaks after 15 tokens: the partial reply is discarded and restarted",
    ),
    Drill(
        "slow-first-token",
        "Slow first token",
        "slow_ttft=3,ok",
        "three seconds of pings before the first token, within the first-token timeout",
    ),
    Drill("truncated", "Truncated reply", "max_tokens", "the reply stops at max_tokens"),
    Drill(
        "outage",
        "Outage (ends degraded)",
        "529*6",
        "every attempt is overloaded: the client gives up and degrades gracefully",
    ),
)
DRILLS_BY_KEY = {drill.key: drill for drill in DRILLS}


def drill_plan(key: str | None) -> str | None:
    """The plan for a drill key; None for no drill; raises KeyError for an unknown key."""
    if not key or key == "none":
        return None
    return DRILLS_BY_KEY[key].plan


def fault_headers(plan: str, turn_id: int) -> dict[str, str]:
    """Per-request fault headers; raises PlanError for a plan the simulator would refuse."""
    parse_plan(plan)
    return {FAULTS_HEADER: plan, FAULT_KEY_HEADER: f"turn-{turn_id}"}


__all__ = ["DRILLS", "DRILLS_BY_KEY", "Drill", "PlanError", "drill_plan", "fault_headers"]
