"""Every database read and write of a coach turn, in as few hops as possible.

The consumer and the turn task never touch the ORM directly. Each helper here is one short
transaction run in the database thread (`labs.dbthread`), which keeps its connection between
hops. That thread is shared by every socket of the process, so hops queue behind each other
under load: a turn makes one hop to be admitted (`admit_turn`), one cheap `renew` per
`LEASE_RENEWAL` while it streams, and one hop to finish (`finish_turn`). Spend is read from
the database at admission (the scope's `CoachTurn` rows, running ones at their reserved worst
case, and everyone's `DailySpend` row), never kept across turns in memory, so budgets survive
restarts and every worker agrees.
"""

from __future__ import annotations

import copy
import decimal
import enum
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from labs import rows
from labs.dbthread import in_db_thread
from labs.limits import Spent
from labs.models import CoachTurn, Conversation, DailySpend, Message
from resilient import Spend

# How long a turn holds a conversation without renewing it. A running turn renews its lease
# every LEASE_RENEWAL, so the lease only lapses when the worker running the turn died: then
# another worker may serve the learner's retry within TURN_LEASE.
TURN_LEASE = timedelta(seconds=15)
LEASE_RENEWAL = timedelta(seconds=5)
TITLE_CHARS = 80


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)


@dataclass(frozen=True)
class StartedTurn:
    turn: CoachTurn
    user_message: Message
    assistant_message: Message


@dataclass(frozen=True)
class ScopeSpend:
    """Tokens and cost already stored for each budget scope of a turn, before it started."""

    conversation: Spend
    learner_today: Spend
    everyone_today: Spend


@dataclass(frozen=True)
class TurnRequest:
    """What admission needs to know about the turn to start, beyond the rules."""

    text: str | None  # None when the turn answers `retry_of` again
    retry_of: Message | None
    backend: str
    model: str
    fault_plan: str
    # The most the turn can cost, given the history it will be sent with: held in the budgets
    # while the turn runs (`reserved_usd`).
    worst_case: Callable[[list[tuple[str, str]]], Decimal]


@dataclass(frozen=True)
class Admission:
    started: StartedTurn
    spend: ScopeSpend
    history: list[tuple[str, str]]  # (role, text) before the reply placeholder


# The rules that read the database's facts (pure, from `labs.limits`): recent turn starts of
# this learner and spend so far in, a sentence for the learner (or None to go on) out.
Rules = Callable[[Sequence[datetime], Spent], str | None]


@in_db_thread
def owned_conversation(user_id: int, conversation_id: int) -> Conversation | None:
    return Conversation.objects.filter(pk=conversation_id, user_id=user_id).first()


@in_db_thread
def renew(conversation_id: int) -> None:
    """Extend a running turn's lease; a no-op once the turn has finished (lease cleared)."""
    Conversation.objects.filter(pk=conversation_id, busy_until__isnull=False).update(
        busy_until=timezone.now() + TURN_LEASE
    )


@in_db_thread
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


# SQLite keeps 15 significant digits; Django converts a decimal SUM the same way.
_SQLITE_DECIMAL = decimal.Context(prec=15)

# The three budget scopes' spend in one statement. Written in SQL because the ORM spent more
# CPU compiling three aggregates than SQLite spent running them, on the one database thread
# every socket's admission queues on. A turn still running counts with what it may cost at
# most (`reserved_usd`), a finished one with what it cost; a turn started more than `HOLD`
# ago and never finished (its worker died) no longer holds its reservation. Everyone's spend
# today is one `DailySpend` row plus the reservations of the turns running now; the two sums
# read only this conversation's turns and this learner's turns of today (indexed).
_SPEND_SQL = """
SELECT
  SUM(CASE WHEN conversation_id = %(conversation)s THEN {spent} END),
  SUM(CASE WHEN conversation_id = %(conversation)s THEN {tokens} END),
  SUM(CASE WHEN user_id = %(user)s AND started >= %(since)s THEN {spent} END),
  SUM(CASE WHEN user_id = %(user)s AND started >= %(since)s THEN {tokens} END),
  (SELECT cost_usd FROM {daily} WHERE day = %(day)s),
  (SELECT tokens FROM {daily} WHERE day = %(day)s),
  (SELECT SUM(reserved_usd) FROM {table} WHERE finished IS NULL AND started >= %(held)s)
FROM {table}
WHERE conversation_id = %(conversation)s OR (user_id = %(user)s AND started >= %(since)s)
"""
_SPENT = "CASE WHEN finished IS NULL AND started >= %(held)s THEN reserved_usd ELSE cost_usd END"
# Longer than any turn runs (the client's deadline for a whole call is minutes, not more).
HOLD = timedelta(minutes=15)
_TURN_TOKENS = "input_tokens + output_tokens + cache_read_tokens + cache_write_tokens"


def _decimal(value: object) -> Decimal:
    if value is None:
        return Decimal("0")
    if isinstance(value, float):
        return _SQLITE_DECIMAL.create_decimal_from_float(value)
    return Decimal(str(value))


def _spend(
    conversation_id: int, user_id: int, since: datetime, now: datetime
) -> tuple[Spent, ScopeSpend]:
    """Stored spend per scope: as `Spent` (exact cost) for the rules, as `Spend` for the client."""
    sql = _SPEND_SQL.format(
        table=connection.ops.quote_name(CoachTurn._meta.db_table),
        daily=connection.ops.quote_name(DailySpend._meta.db_table),
        tokens=_TURN_TOKENS,
        spent=_SPENT,
    )
    params = {
        "conversation": conversation_id,
        "user": user_id,
        "since": connection.ops.adapt_datetimefield_value(since),
        "day": connection.ops.adapt_datefield_value(since.date()),
        "held": connection.ops.adapt_datetimefield_value(max(since, now - HOLD)),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    costs = [_decimal(row[0]), _decimal(row[2]), _decimal(row[4]) + _decimal(row[6])]
    spends = [Spend(int(row[i + 1] or 0), float(costs[i // 2])) for i in (0, 2, 4)]
    return Spent(*costs), ScopeSpend(*spends)


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
    lease = {"busy_until": now + TURN_LEASE}
    if rows.update(Conversation, lease, "id = %s AND busy_until IS NULL", [conversation_id]):
        return Claim.FREE
    if rows.update(Conversation, lease, "id = %s AND busy_until < %s", [conversation_id, _at(now)]):
        return Claim.TAKEN_OVER
    return None


def _at(moment: datetime) -> Any:
    """A datetime as a parameter of plain SQL."""
    return connection.ops.adapt_datetimefield_value(moment)


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


class _Refused(Exception):
    """A rule refused the turn: what admission wrote (the claim) is rolled back."""

    def __init__(self, message: str) -> None:
        self.message = message


def _start(
    conversation: Conversation,
    user_id: int,
    request: TurnRequest,
    reserved_usd: Decimal,
) -> StartedTurn:
    """Save the learner's message (unless retrying it), a reply placeholder and the turn row."""
    if request.retry_of is not None:
        user_message = request.retry_of
    else:
        text = request.text or ""
        user_message = Message(conversation=conversation, role=Message.Role.USER, text=text)
        rows.insert(user_message)
        if not conversation.title:
            title = " ".join(text.split())
            if len(title) > TITLE_CHARS:
                title = title[: TITLE_CHARS - 1].rstrip() + "…"
            Conversation.objects.filter(pk=conversation.pk).update(title=title)
    assistant = Message(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
    )
    rows.insert(assistant)
    turn = CoachTurn(
        conversation=conversation,
        user_id=user_id,
        user_message=user_message,
        assistant_message=assistant,
        module=conversation.module,
        lab=conversation.lab,
        model=request.model,
        backend=request.backend,
        fault_plan=request.fault_plan,
        reserved_usd=reserved_usd,
        started=timezone.now(),
    )
    rows.insert(turn)
    return StartedTurn(turn, user_message, assistant)


_HISTORY_SQL = """
SELECT {role}, {text} FROM {table}
WHERE {conversation} = %s AND NOT ({role} = %s AND {status} IN (%s, %s))
ORDER BY {created}, {id}
"""


@functools.cache
def _history_sql() -> str:
    names = ("conversation", "role", "text", "status", "created", "id")
    return _HISTORY_SQL.format(
        table=rows.table(Message), **{name: rows.column(Message, name) for name in names}
    )


def _history(conversation_id: int) -> list[tuple[str, str]]:
    """(role, text) of the conversation so far, leaving out replies that failed or never came."""
    params = [
        conversation_id,
        Message.Role.ASSISTANT,
        Message.Status.FAILED,
        Message.Status.STREAMING,
    ]
    return [(role, text) for role, text in rows.select(_history_sql(), params)]


@functools.cache
def _recent_sql() -> str:
    started = rows.column(CoachTurn, "started")
    return (
        f"SELECT {started} FROM {rows.table(CoachTurn)} "
        f"WHERE {rows.column(CoachTurn, 'user')} = %s AND {started} >= %s"
    )


def _recent_starts(user_id: int, since: datetime) -> list[datetime]:
    """When this learner's turns since `since` started (for the per-minute rate rule)."""
    params = [user_id, _at(since)]
    return [rows.moment(started) for (started,) in rows.select(_recent_sql(), params)]


@in_db_thread
def admit_turn(
    conversation: Conversation,
    user_id: int,
    request: TurnRequest,
    *,
    now: datetime,
    window: timedelta,
    rules: Rules,
    busy: str,
) -> Admission | str:
    """Claim the conversation, apply the rate and budget rules, start the turn: one hop.

    Returns the sentence for the learner when a rule refuses (`busy` when another turn holds
    the conversation), else the started turn with the spend and history it streams with. One
    transaction, rolled back when a rule refuses, and one admission at a time
    (`serialise_admissions`): two tabs or workers cannot both pass the rate limit with the
    same count, nor both fit under a budget that has room for only one of their reservations.
    A lease taken over from a dead worker ends that worker's turn before the spend is read, so
    the learner's retry is not refused for what the dead turn had reserved.
    """
    since = day_start(now)
    try:
        with transaction.atomic():
            serialise_admissions()
            claim = _claim(conversation.pk, now)
            if claim is None:
                return busy
            if claim is Claim.TAKEN_OVER:
                _end_dead_turn(conversation.pk)  # before the spend is read: its hold ends
            recent = _recent_starts(user_id, now - window)
            spent, spend = _spend(conversation.pk, user_id, since, now)
            problem = rules(recent, spent)
            if problem:
                raise _Refused(problem)
            history = _history(conversation.pk)
            if request.retry_of is None:
                history.append((Message.Role.USER, request.text or ""))
            started = _start(conversation, user_id, request, request.worst_case(history))
    except _Refused as refused:
        return refused.message
    return Admission(started, spend, history)


@dataclass(frozen=True)
class FinishedTurn:
    turn: CoachTurn
    message: Message  # the reply as stored


@in_db_thread
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
        reply = {"text": message_text, "status": message_status}
        rows.update(Message, reply, "id = %s", [message.pk])
        finishing = rows.update(
            CoachTurn, {"finished": now, **fields}, "id = %s AND finished IS NULL", [turn.pk]
        )
        rows.update(
            Conversation, {"busy_until": None, "updated": now}, "id = %s", [turn.conversation_id]
        )
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
    if not cost and not tokens:
        return
    if _add_to_day(day, cost, tokens):
        return
    try:
        with transaction.atomic():  # a savepoint: PostgreSQL may see another worker's row first
            DailySpend.objects.create(day=day, cost_usd=cost, tokens=tokens)
    except IntegrityError:
        _add_to_day(day, cost, tokens)


def _add_to_day(day: date, cost: Decimal, tokens: int) -> bool:
    # In SQL: the ORM took longer to compile this update's two F() expressions than the
    # database took to run it.
    table = connection.ops.quote_name(DailySpend._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET cost_usd = cost_usd + %s, tokens = tokens + %s WHERE day = %s",
            [
                connection.ops.adapt_decimalfield_value(cost, 14, 6),
                tokens,
                connection.ops.adapt_datefield_value(day),
            ],
        )
        return bool(cursor.rowcount)


class TurnBudgetStore:
    """`resilient.BudgetStore` for one turn, without a database query.

    `get` is the spend admission summed from the stored turns of the scope (moments before the
    call) plus what this turn has been billed since; `add` only tallies this turn's bill, which
    `finish_turn` then stores as the turn's cost. The resilient client checks the budget before
    every attempt, so querying here would put three aggregates on the path to the first token
    of each attempt.
    """

    def __init__(self, known: ScopeSpend) -> None:
        self.known = known
        self.billed = Spend()

    async def get(self, scope: str) -> Spend:
        kind = scope.split(":", 1)[0]
        if kind == "conversation":
            stored = self.known.conversation
        elif kind == "learner":
            stored = self.known.learner_today
        else:
            stored = self.known.everyone_today
        return stored + self.billed

    async def add(self, scope: str, spend: Spend) -> None:
        # Every record names the global scope exactly once: tally there to count each bill once.
        if scope.startswith("global:"):
            self.billed = self.billed + spend
