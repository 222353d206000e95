"""Every database read and write of a coach turn, through the ORM.

The consumer and the turn task never touch the ORM directly. Each coroutine here is one hop to
the database thread (`database_sync_to_async`, which leaves opening, reusing and closing the
connection to Django as `DATABASES` says; on PostgreSQL a pool keeps it between hops). A turn
makes one hop to be admitted (`admit_turn`), one `renew` per `LEASE_RENEWAL` while it streams,
and one to finish (`finish_turn`). Spend is read from the database at admission (the scope's
`CoachTurn` rows, running ones at their reserved worst case, and everyone's `DailySpend` row),
never kept across turns in memory, so budgets survive restarts and every worker agrees.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar, cast

from channels.db import database_sync_to_async
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from labs.coach import api_messages
from labs.limits import BUSY_MESSAGE, WINDOW, RecentTurns, Refused, TurnLimits, check_turn
from labs.models import CoachTurn, Conversation, DailySpend, Message
from resilient.budget import BudgetKeys, ScopeSpend, Spend
from resilient.events import Usage
from resilient.prices import DEFAULT_PRICES
from resilient.tokens import estimate_input_tokens

# How long a turn holds a conversation without renewing it. A running turn renews its lease
# every LEASE_RENEWAL, so the lease only lapses when the worker running the turn died: then
# another worker may serve the learner's retry within TURN_LEASE.
TURN_LEASE = timedelta(seconds=15)
LEASE_RENEWAL = timedelta(seconds=5)
# A turn unfinished this long after it started (its worker died) no longer holds its
# reservation: longer than any turn runs (the client's deadline for a whole call is minutes).
HOLD = timedelta(minutes=15)
TITLE_CHARS = 80


P = ParamSpec("P")
R = TypeVar("R")


def _hop(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`fn` as one hop to the database thread (Channels' `database_sync_to_async`, typed)."""
    return cast(Callable[P, Awaitable[R]], database_sync_to_async(fn))


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)


@dataclass(frozen=True)
class StartedTurn:
    turn: CoachTurn
    user_message: Message
    assistant_message: Message


@dataclass(frozen=True)
class TurnRequest:
    """The turn to start, and the limits it is admitted under."""

    text: str | None  # None when the turn answers `retry_of` again
    retry_of: Message | None
    backend: str
    model: str
    fault_plan: str
    limits: TurnLimits
    # The turn's worst case, held in the budgets while it runs (`reserved_usd`), is priced
    # as the resilient client bounds a call: the system prompt and the history (estimated)
    # all written to the cache, and all of `max_tokens` used.
    system_tokens: int
    max_tokens: int
    drill: str = ""  # the fault drill aimed at this turn: it counts in no budget


@dataclass(frozen=True)
class Admission:
    started: StartedTurn
    spend: ScopeSpend
    history: list[tuple[str, str]]  # (role, text) before the reply placeholder


@_hop
def owned_conversation(user_id: int, conversation_id: int) -> Conversation | None:
    return Conversation.objects.filter(pk=conversation_id, user_id=user_id).first()


@_hop
def renew(conversation_id: int) -> None:
    """Extend a running turn's lease; a no-op once the turn has finished (lease cleared)."""
    Conversation.objects.filter(pk=conversation_id, busy_until__isnull=False).update(
        busy_until=timezone.now() + TURN_LEASE
    )


@_hop
def streaming_reply(conversation_id: int) -> tuple[Message, datetime | None] | None:
    """The reply still marked streaming in this conversation, with the conversation's lease
    (None: no turn holds it); None when no reply is streaming."""
    reply = (
        Message.objects.filter(
            conversation_id=conversation_id,
            role=Message.Role.ASSISTANT,
            status=Message.Status.STREAMING,
        )
        .order_by("-created", "-id")
        .first()
    )
    if reply is None:
        return None
    lease = Conversation.objects.filter(pk=conversation_id).values_list("busy_until", flat=True)
    return reply, lease.first()


@_hop
def unanswered_user_message(conversation_id: int) -> Message | None:
    """The last learner message, if the coach's last answer to it failed or never came.

    A reply still marked streaming counts as never came: either its turn is running (then
    admission refuses the retry as busy) or its worker died mid-stream (then it is welcome).
    """
    last = Message.objects.filter(conversation_id=conversation_id).order_by("-created", "-id")
    for message in last[:50]:
        if message.role == Message.Role.USER:
            return message
        if message.status not in (Message.Status.FAILED, Message.Status.STREAMING):
            return None
    return None


@dataclass(frozen=True)
class Facts:
    """What admission reads before it applies the rules (`labs.limits.check_turn`)."""

    recent: RecentTurns
    spend: ScopeSpend


def _facts(conversation_id: int, user_id: int, since: datetime, now: datetime) -> Facts:
    """The learner's turns of the last minute and the stored spend per scope.

    A turn still running counts with what it may cost at most (`reserved_usd`), a finished one
    with what it cost; a turn started more than `HOLD` ago and never finished (its worker died)
    no longer holds its reservation. Everyone's spend today is one `DailySpend` row plus the
    reservations of the turns running now. Drill turns and offline turns count in no spend
    (drills fail on purpose, offline turns bill nothing), but in the rate like any other.

    The narrow scopes are summed here from their rows (one conversation's turns and one
    learner's turns of today, a few dozen at most, found by their indexes): SQL aggregates with
    conditions cost the ORM more to compile than reading the rows does.
    """
    held_since = max(since, now - HOLD)
    window_start = now - WINDOW
    recent: list[datetime] = []
    conversation_cost = learner_cost = Decimal(0)
    conversation_tokens = learner_tokens = 0
    turns = (
        CoachTurn.objects.filter(
            Q(conversation_id=conversation_id)
            | Q(user_id=user_id, started__gte=min(since, window_start))
        )
        .order_by()
        .values_list(
            "conversation_id",
            "user_id",
            "started",
            "finished",
            "drill",
            "backend",
            "cost_usd",
            "reserved_usd",
            "input_tokens",
            "output_tokens",
            "cache_write_tokens",
            "cache_read_tokens",
        )
    )
    for conversation, user, started, finished, drill, backend, cost, reserved, *usage in turns:
        if user == user_id and started >= window_start:
            recent.append(started)
        if drill or backend == CoachTurn.Backend.OFFLINE:
            continue
        spent = reserved if finished is None and started >= held_since else cost
        billed = Usage(*usage).total_tokens
        if conversation == conversation_id:
            conversation_cost += spent
            conversation_tokens += billed
        if user == user_id and started >= since:
            learner_cost += spent
            learner_tokens += billed
    running = CoachTurn.objects.filter(
        finished__isnull=True, started__gte=held_since, drill=""
    ).exclude(backend=CoachTurn.Backend.OFFLINE)
    reserved_now = sum(running.order_by().values_list("reserved_usd", flat=True), Decimal(0))
    day = DailySpend.objects.filter(day=since.date()).values_list("cost_usd", "tokens").first()
    day_cost, day_tokens = day or (Decimal(0), 0)
    spend = ScopeSpend(
        Spend(conversation_tokens, float(conversation_cost)),
        Spend(learner_tokens, float(learner_cost)),
        Spend(day_tokens, float(day_cost + reserved_now)),
    )
    return Facts(RecentTurns(len(recent), min(recent, default=None)), spend)


# PostgreSQL advisory lock key of admission ("coach" in ASCII).
ADMISSION_LOCK = 0x636F616368


def serialise_admissions() -> None:
    """Wait, within this transaction, until no other admission is in one.

    Admission reads what the running turns have reserved, then adds its own reservation. On
    SQLite the IMMEDIATE transaction already holds the database's write lock from its start.
    On PostgreSQL, read committed, two workers could otherwise both read the spend before
    either stored its reservation, and both pass a budget with room for one; a transaction
    advisory lock makes them take turns (for the milliseconds an admission lasts).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADMISSION_LOCK])


class Claim(enum.Enum):
    FREE = "free"  # nobody held the conversation
    TAKEN_OVER = "taken over"  # the lease of a turn whose worker died had lapsed


def _claim(conversation_id: int, now: datetime) -> Claim | None:
    """Take the conversation for one turn; None when another turn holds it."""
    conversation = Conversation.objects.filter(pk=conversation_id)
    lease = now + TURN_LEASE
    if conversation.filter(busy_until__isnull=True).update(busy_until=lease):
        return Claim.FREE
    if conversation.filter(busy_until__lt=now).update(busy_until=lease):
        return Claim.TAKEN_OVER
    return None


def _end_dead_turn(conversation_id: int) -> None:
    """The turn whose lease lapsed (its worker died) never will end: its reply failed, its turn
    ends degraded, and no longer holds its reservation in the budgets."""
    Message.objects.filter(
        conversation_id=conversation_id,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
    ).update(status=Message.Status.FAILED)
    CoachTurn.objects.filter(conversation_id=conversation_id, finished__isnull=True).update(
        finished=timezone.now(),
        outcome=CoachTurn.Outcome.DEGRADED,
        degraded_kind="network",  # the learner saw the reply interrupted
    )


def _history(conversation_id: int) -> list[tuple[str, str]]:
    """(role, text) of the conversation so far, leaving out replies that failed or never came."""
    messages = Message.objects.filter(conversation_id=conversation_id).exclude(
        role=Message.Role.ASSISTANT,
        status__in=[Message.Status.FAILED, Message.Status.STREAMING],
    )
    return list(messages.order_by("created", "id").values_list("role", "text"))


def _reservation(request: TurnRequest, history: list[tuple[str, str]]) -> Decimal:
    if request.drill or request.backend == CoachTurn.Backend.OFFLINE:
        return Decimal(0)  # a drill or an offline turn bills nothing: there is nothing to hold
    tokens = request.system_tokens + estimate_input_tokens(None, api_messages(history))
    cost = DEFAULT_PRICES.price(request.model).worst_case(tokens, request.max_tokens)
    return Decimal(str(round(cost, 6)))


def _start(
    conversation: Conversation, user_id: int, request: TurnRequest, reserved_usd: Decimal
) -> StartedTurn:
    """Save the learner's message (unless retrying it), a reply placeholder and the turn row.

    The conversation is titled with the first message the learner sends in it.
    """
    assistant = Message(
        conversation=conversation, role=Message.Role.ASSISTANT, status=Message.Status.STREAMING
    )
    if request.retry_of is not None:
        user_message = request.retry_of
        assistant.save()
    else:
        text = request.text or ""
        user_message = Message(conversation=conversation, role=Message.Role.USER, text=text)
        Message.objects.bulk_create([user_message, assistant])  # in this order: by `created`
        if not conversation.title:
            title = " ".join(text.split())
            if len(title) > TITLE_CHARS:
                title = title[: TITLE_CHARS - 1].rstrip() + "…"
            Conversation.objects.filter(pk=conversation.pk, title="").update(title=title)
            transaction.on_commit(lambda: setattr(conversation, "title", title))
    turn = CoachTurn.objects.create(
        conversation=conversation,
        user_id=user_id,
        user_message=user_message,
        assistant_message=assistant,
        module=conversation.module,
        lab=conversation.lab,
        model=request.model,
        backend=request.backend,
        fault_plan=request.fault_plan,
        drill=request.drill,
        reserved_usd=reserved_usd,
        started=timezone.now(),
    )
    return StartedTurn(turn, user_message, assistant)


@_hop
def admit_turn(
    conversation: Conversation, user_id: int, request: TurnRequest, now: datetime
) -> Admission | Refused:
    """Claim the conversation, apply the rate and budget rules, start the turn: one hop.

    One transaction, rolled back when a rule refuses, and one admission at a time
    (`serialise_admissions`): two tabs or workers cannot both pass the rate limit with the
    same count, nor both fit under a budget that has room for only one of their reservations.
    A lease taken over from a dead worker ends that worker's turn before the spend is read, so
    the learner's retry is not refused for what the dead turn had reserved.
    """
    since = day_start(now)
    with transaction.atomic():
        serialise_admissions()
        claim = _claim(conversation.pk, now)
        if claim is None:
            return Refused(BUSY_MESSAGE)
        if claim is Claim.TAKEN_OVER:
            _end_dead_turn(conversation.pk)  # before the spend is read: its hold ends
        facts = _facts(conversation.pk, user_id, since, now)
        problem = check_turn(request.limits, facts.recent, facts.spend, now)
        if problem:
            transaction.set_rollback(True)  # the claim too: the conversation stays free
            return Refused(problem)
        history = _history(conversation.pk)
        if request.retry_of is None:
            history.append((Message.Role.USER, request.text or ""))
        started = _start(conversation, user_id, request, _reservation(request, history))
    return Admission(started, facts.spend, history)


@dataclass(frozen=True)
class FinishedTurn:
    turn: CoachTurn
    message: Message  # the reply as stored


@_hop
def finish_turn(
    started: StartedTurn,
    *,
    message_text: str,
    message_status: str,
    fields: dict[str, Any],
) -> FinishedTurn:
    """Store the reply and the turn's telemetry, free the conversation; return both rows.

    The rows come from admission with this hop's changes applied, not read back: a turn is
    finished once (`finished` is still empty), so what was written is what is stored.
    """
    now = timezone.now()
    turn = copy.copy(started.turn)
    message = copy.copy(started.assistant_message)
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(text=message_text, status=message_status)
        finishing = CoachTurn.objects.filter(pk=turn.pk, finished__isnull=True).update(
            finished=now, **fields
        )
        Conversation.objects.filter(pk=turn.conversation_id).update(busy_until=None, updated=now)
        if finishing:
            for name, value in {"finished": now, **fields}.items():
                setattr(turn, name, value)
            add_daily_spend(turn)  # counted once, by whoever finishes the turn
        else:
            turn = CoachTurn.objects.get(pk=turn.pk)
    message.text = message_text
    message.status = message_status
    return FinishedTurn(turn, message)


def add_daily_spend(turn: CoachTurn) -> None:
    """Add a finished turn's cost and tokens to its start day's `DailySpend` (in a transaction).

    The day is the turn's start day, as for the per-learner daily sums.
    """
    day = day_start(turn.started).date()
    cost, tokens = turn.cost_usd, turn.tokens
    if turn.drill or turn.backend == CoachTurn.Backend.OFFLINE or (not cost and not tokens):
        return  # a drill's or an offline turn's tokens are simulated: nobody's spend
    today = DailySpend.objects.filter(day=day)
    if today.update(cost_usd=F("cost_usd") + cost, tokens=F("tokens") + tokens):
        return
    try:
        with transaction.atomic():  # a savepoint: PostgreSQL may see another worker's row first
            DailySpend.objects.create(day=day, cost_usd=cost, tokens=tokens)
    except IntegrityError:
        today.update(cost_usd=F("cost_usd") + cost, tokens=F("tokens") + tokens)


class TurnBudgetStore:
    """`resilient.BudgetStore` for one turn, without a database query.

    `spent` is what admission summed from the stored turns of each scope (moments before the
    call) plus what this turn has been billed since; `add` only tallies this turn's bill, which
    `finish_turn` then stores as the turn's cost. The resilient client checks the budget before
    every attempt, so querying here would put three aggregates on the path to the first token
    of each attempt.
    """

    def __init__(self, known: ScopeSpend) -> None:
        self.known = known
        self.billed = Spend()

    async def spent(self, keys: BudgetKeys, day: date) -> ScopeSpend:
        return self.known + self.billed

    async def add(self, keys: BudgetKeys, day: date, spend: Spend) -> None:
        self.billed = self.billed + spend
