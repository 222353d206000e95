"""Every database read and write of a coach turn, as small async helpers.

The consumer and the turn task never touch the ORM directly; each helper is one short
transaction run in Django's thread (`database_sync_to_async`), so per-token work never waits on
the database. Spend is summed from `CoachTurn` rows, never kept in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar, cast

from channels.db import database_sync_to_async
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from labs.limits import Spent
from labs.models import CoachTurn, Conversation, Message
from resilient import Spend

# How long a turn holds a conversation without renewing it. A running turn renews its lease
# every LEASE_RENEWAL, so the lease only lapses when the worker running the turn died: then
# another worker may serve the learner's retry within TURN_LEASE.
TURN_LEASE = timedelta(seconds=15)
LEASE_RENEWAL = timedelta(seconds=5)
TITLE_CHARS = 80

P = ParamSpec("P")
R = TypeVar("R")


def in_db_thread(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`database_sync_to_async` with its signature kept for the type checker."""
    return cast(Callable[P, Awaitable[R]], database_sync_to_async(fn))


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)


@dataclass(frozen=True)
class StartedTurn:
    turn: CoachTurn
    user_message: Message
    assistant_message: Message


@in_db_thread
def owned_conversation(user_id: int, conversation_id: int) -> Conversation | None:
    return Conversation.objects.filter(pk=conversation_id, user_id=user_id).first()


@in_db_thread
def claim(conversation_id: int) -> bool:
    """Take the conversation for one turn; False when another turn holds it."""
    now = timezone.now()
    taken = Conversation.objects.filter(
        Q(busy_until__isnull=True) | Q(busy_until__lt=now), pk=conversation_id
    ).update(busy_until=now + TURN_LEASE)
    return taken == 1


@in_db_thread
def renew(conversation_id: int) -> None:
    """Extend a running turn's lease; a no-op once the turn has finished (lease cleared)."""
    Conversation.objects.filter(pk=conversation_id, busy_until__isnull=False).update(
        busy_until=timezone.now() + TURN_LEASE
    )


@in_db_thread
def release(conversation_id: int) -> None:
    Conversation.objects.filter(pk=conversation_id).update(busy_until=None)


@in_db_thread
def recent_turn_starts(user_id: int, since: datetime) -> list[datetime]:
    return list(
        CoachTurn.objects.filter(user_id=user_id, started__gte=since).values_list(
            "started", flat=True
        )
    )


def _sum(**filters: Any) -> Decimal:
    total = CoachTurn.objects.filter(**filters).aggregate(total=Sum("cost_usd"))["total"]
    return total or Decimal("0")


@in_db_thread
def spent(conversation_id: int, user_id: int, now: datetime) -> Spent:
    since = day_start(now)
    return Spent(
        conversation=_sum(conversation_id=conversation_id),
        learner_today=_sum(user_id=user_id, started__gte=since),
        everyone_today=_sum(started__gte=since),
    )


@in_db_thread
def unanswered_user_message(conversation_id: int) -> Message | None:
    """The last learner message, if the coach's last answer to it failed or never came.

    A reply still marked streaming counts as never came: either its turn is running (then
    `claim` refuses the retry) or its worker died mid-stream (then the retry is welcome).
    """
    last = Message.objects.filter(conversation_id=conversation_id).order_by("-created", "-id")
    for message in last[:50]:
        if message.role == Message.Role.USER:
            return message
        if message.status not in (Message.Status.FAILED, Message.Status.STREAMING):
            return None
    return None


@in_db_thread
def start_turn(
    conversation: Conversation,
    user_id: int,
    *,
    text: str | None,
    retry_of: Message | None,
    backend: str,
    model: str,
    fault_plan: str,
) -> StartedTurn:
    """Save the learner's message (unless retrying it), a reply placeholder and the turn row."""
    with transaction.atomic():
        if retry_of is not None:
            user_message = retry_of
        else:
            user_message = Message.objects.create(
                conversation=conversation, role=Message.Role.USER, text=text or ""
            )
            if not conversation.title:
                title = " ".join((text or "").split())
                if len(title) > TITLE_CHARS:
                    title = title[: TITLE_CHARS - 1].rstrip() + "…"
                Conversation.objects.filter(pk=conversation.pk).update(title=title)
        # This turn holds the claim, so a reply still streaming was left by a dead worker.
        Message.objects.filter(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            status=Message.Status.STREAMING,
        ).update(status=Message.Status.FAILED)
        assistant = Message.objects.create(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            status=Message.Status.STREAMING,
        )
        turn = CoachTurn.objects.create(
            conversation=conversation,
            user_id=user_id,
            user_message=user_message,
            assistant_message=assistant,
            module=conversation.module,
            lab=conversation.lab,
            model=model,
            backend=backend,
            fault_plan=fault_plan,
            started=timezone.now(),
        )
    return StartedTurn(turn, user_message, assistant)


@in_db_thread
def history(conversation_id: int, before_id: int) -> list[tuple[str, str]]:
    """(role, text) of the conversation so far, leaving out replies that failed."""
    rows = Message.objects.filter(conversation_id=conversation_id, id__lt=before_id).exclude(
        role=Message.Role.ASSISTANT,
        status__in=[Message.Status.FAILED, Message.Status.STREAMING],
    )
    return [(row.role, row.text) for row in rows]


@in_db_thread
def finish_turn(
    turn_id: int,
    conversation_id: int,
    message_id: int,
    *,
    message_text: str,
    message_status: str,
    fields: dict[str, Any],
) -> CoachTurn:
    """Store the reply and the turn's telemetry, and free the conversation, in one go."""
    with transaction.atomic():
        Message.objects.filter(pk=message_id).update(text=message_text, status=message_status)
        CoachTurn.objects.filter(pk=turn_id).update(finished=timezone.now(), **fields)
        Conversation.objects.filter(pk=conversation_id).update(
            busy_until=None, updated=timezone.now()
        )
    return CoachTurn.objects.get(pk=turn_id)


class TurnBudgetStore:
    """`resilient.BudgetStore` over the `CoachTurn` table, for one turn.

    `get` sums the stored turns of the scope plus what this turn has already been billed (its
    own row is written at the end); `add` only tallies this turn's bill, which `finish_turn`
    then stores as the turn's cost.
    """

    def __init__(self, conversation_id: int, user_id: int) -> None:
        self.conversation_id = conversation_id
        self.user_id = user_id
        self.billed = Spend()

    async def get(self, scope: str) -> Spend:
        return await self._stored(scope) + self.billed

    async def add(self, scope: str, spend: Spend) -> None:
        # Every record names the global scope exactly once: tally there to count each bill once.
        if scope.startswith("global:"):
            self.billed = self.billed + spend

    @in_db_thread
    def _stored(self, scope: str) -> Spend:
        kind = scope.split(":", 1)[0]
        since = day_start(timezone.now())
        if kind == "conversation":
            rows = CoachTurn.objects.filter(conversation_id=self.conversation_id)
        elif kind == "learner":
            rows = CoachTurn.objects.filter(user_id=self.user_id, started__gte=since)
        else:
            rows = CoachTurn.objects.filter(started__gte=since)
        totals = rows.aggregate(
            cost=Sum("cost_usd"),
            i=Sum("input_tokens"),
            o=Sum("output_tokens"),
            r=Sum("cache_read_tokens"),
            w=Sum("cache_write_tokens"),
        )
        tokens = sum(totals[k] or 0 for k in ("i", "o", "r", "w"))
        return Spend(tokens, float(totals["cost"] or 0))


@in_db_thread
def message(message_id: int) -> Message:
    return Message.objects.get(pk=message_id)
