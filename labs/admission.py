"""Admission of a learner's frame: every rule that can refuse it, then the turn it starts.

`admit` refuses a frame with a sentence for the learner (its shape, its length, the rate, the
budgets, one turn at a time per conversation), or saves the learner's message and reserves the
turn *before* any call is made (`labs.store.admit_turn`, one hop to the database).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from course.content import Lab, Module
from labs import store, switch
from labs.backend import Backend, choose_backend
from labs.coach import coach_system
from labs.drills import PlanError, drill_plan, fault_headers
from labs.limits import Refused, TurnLimits, check_text
from labs.models import Conversation, Message
from resilient import BudgetLimits, Cap, ScopeSpend

logger = logging.getLogger(__name__)

ACTIONS = ("send", "retry")


@dataclass(frozen=True)
class Admitted:
    started: store.StartedTurn
    backend: Backend
    fault_plan: str
    retry: bool
    spend: ScopeSpend  # stored spend of each budget scope when the turn was admitted
    history: list[tuple[str, str]]


def budget_limits() -> BudgetLimits:
    """The budgets of billed turns, from settings."""
    return BudgetLimits(
        conversation=Cap(cost_usd=settings.BUDGET_CONVERSATION_USD),
        learner_daily=Cap(cost_usd=settings.BUDGET_LEARNER_DAY_USD),
        global_daily=Cap(cost_usd=settings.BUDGET_GLOBAL_DAY_USD),
    )


def _turn_limits(backend: Backend) -> TurnLimits:
    """The rate limit always; the budgets only for a turn that is really billed."""
    budget = None if backend.offline else budget_limits()
    return TurnLimits(per_minute=settings.CHAT_MESSAGES_PER_MINUTE, budget=budget)


async def admit(
    conversation: Conversation, module: Module, lab: Lab, user_id: int, data: dict[str, Any]
) -> Admitted | Refused:
    """Refuse the frame with a sentence for the learner, or save it and reserve the turn."""
    action = data.get("action", "send")
    if action not in ACTIONS:
        return Refused(f"Unknown action {str(action)[:40]!r}: the page can send or try again.")
    retry_of: Message | None = None
    text: str | None = None
    if action == "send":
        text = data.get("message")
        problem = check_text(text, settings.CHAT_MAX_MESSAGE_CHARS)
        if problem:
            return Refused(problem)
    else:
        retry_of = await store.unanswered_user_message(conversation.pk)
        if retry_of is None:
            return Refused("There is no unanswered message to try again.")
    backend = choose_backend(await switch.acurrent())
    chosen = data.get("faults")
    drill = chosen if isinstance(chosen, str) and chosen != "none" else ""
    try:
        plan = drill_plan(drill or None)
    except KeyError:
        return Refused("That fault drill does not exist; pick one from the list.")
    if plan and not backend.offline:
        return Refused("Fault drills run on the offline coach only.")
    if backend.offline and not plan:
        plan = settings.COACH_FAULTS or None
    if plan:
        try:
            fault_headers(plan, 0)
        except PlanError as exc:
            logger.error("bad fault plan %r: %s", plan, exc)
            return Refused("The fault plan for this server is not valid; tell the instructor.")
    request = store.TurnRequest(
        text,
        retry_of,
        backend.kind,
        backend.model,
        plan or "",
        limits=_turn_limits(backend),
        system_tokens=coach_system(module, lab).tokens,
        max_tokens=settings.COACH_MAX_TOKENS,
        drill=drill,
    )
    admission = await store.admit_turn(conversation, user_id, request, timezone.now())
    if isinstance(admission, Refused):
        return admission
    return Admitted(
        admission.started,
        backend,
        plan or "",
        retry=retry_of is not None,
        spend=admission.spend,
        history=admission.history,
    )
