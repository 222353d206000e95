"""The rules that can refuse a chat message before any call is made. Pure functions.

Each returns the sentence the learner reads, or None when the message may go. The inputs
(recent turn times, spend so far) come from the database so that every worker agrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from resilient.budget import BudgetLimits, ScopeSpend, exhausted

WINDOW = timedelta(minutes=1)
BUSY_MESSAGE = (
    "The coach is still answering. Wait for the reply to finish, then send again: "
    "your text is still in the box."
)


@dataclass(frozen=True)
class Refused:
    """The message may not go: what the learner reads instead of a reply."""

    message: str


def check_text(text: object, max_chars: int) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return "Type a message for the coach first."
    if len(text) > max_chars:
        return (
            f"That message is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Shorten it and send it again: your text is still in the box."
        )
    return None


@dataclass(frozen=True)
class RecentTurns:
    """The learner's turns (any conversation) started in the last `WINDOW`."""

    count: int
    oldest: datetime | None  # when the first of them started


def check_rate(recent: RecentTurns, now: datetime, per_minute: int) -> str | None:
    if recent.count < per_minute or recent.oldest is None:
        return None
    wait = math.ceil((recent.oldest + WINDOW - now).total_seconds())
    return (
        f"You can send {per_minute} messages a minute. "
        f"Wait {max(wait, 1)} s and send it again: your text is still in the box."
    )


def check_budget(spent: ScopeSpend, limits: BudgetLimits) -> str | None:
    """The sentence for a budget scope with nothing left (the rule is `resilient.budget`'s)."""
    scope = exhausted(spent, limits)
    if scope == "conversation":
        return (
            f"This conversation has used its budget (${limits.conversation.cost_usd or 0:.2f}). "
            "Start a new conversation to keep practising."
        )
    if scope == "learner_daily":
        return (
            f"You have used today's coach budget (${limits.learner_daily.cost_usd or 0:.2f}). "
            "Come back tomorrow; your conversations are saved."
        )
    if scope == "global_daily":
        return (
            "The course has used today's coach budget for everyone. "
            "Come back tomorrow; your conversations are saved."
        )
    return None


@dataclass(frozen=True)
class TurnLimits:
    """The limits a turn is admitted under (from settings)."""

    per_minute: int
    # None for a turn nothing real is billed for (the offline coach): no budget can refuse it.
    budget: BudgetLimits | None


def check_turn(
    limits: TurnLimits, recent: RecentTurns, spent: ScopeSpend, now: datetime
) -> str | None:
    """Every rule that reads the database's facts, in the order the learner is told them."""
    if limits.budget is None:
        return check_rate(recent, now, limits.per_minute)
    return check_rate(recent, now, limits.per_minute) or check_budget(spent, limits.budget)
