"""Admission reads each budget scope's stored spend, and starts the turn, in one go."""

from __future__ import annotations

import asyncio
import importlib
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps as django_apps
from django.db import connection, transaction
from django.utils import timezone

from labs import store
from labs.limits import BUSY_MESSAGE, Refused, TurnLimits
from labs.models import CoachTurn, Conversation, DailySpend, Message
from resilient import BudgetLimits, Cap, ScopeSpend, Spend
from resilient.prices import DEFAULT_PRICES
from tests.labs.conftest import make_conversation, past_turn

pytestmark = pytest.mark.django_db(transaction=True)


ROOMY = TurnLimits(per_minute=100, budget=BudgetLimits())
SPENT = TurnLimits(per_minute=100, budget=BudgetLimits(conversation=Cap(cost_usd=0)))


async def admit(
    conversation: Conversation, max_tokens: int = 0, limits: TurnLimits = ROOMY
) -> store.Admission | Refused:
    """Admit a billed turn whose reservation is its input (a few tokens) plus `max_tokens` of
    output (an offline turn reserves and spends nothing: tests/labs/test_limits.py)."""
    request = store.TurnRequest(
        "How do I back off?",
        None,
        "api",
        "claude-sonnet-4-6",
        "",
        limits=limits,
        system_tokens=0,
        max_tokens=max_tokens,
    )
    return await store.admit_turn(conversation, conversation.user_id, request, timezone.now())


def cost(spend: Spend) -> Decimal:
    return Decimal(str(round(spend.cost_usd, 6)))


async def test_each_scope_counts_its_own_turns(learner, other_learner):
    now = timezone.now()
    yesterday = now - timedelta(days=1, hours=1)

    def rows() -> Conversation:
        conversation = make_conversation(learner)
        past_turn(conversation, "0.100001", input_tokens=10, started=now)
        # The conversation's budget never resets.
        past_turn(conversation, "0.2", input_tokens=20, started=yesterday)
        other_lab = make_conversation(learner, "budget-lab")
        past_turn(other_lab, "0.4", input_tokens=40, started=now)
        past_turn(make_conversation(other_learner), "0.8", input_tokens=80, started=now)
        past_turn(make_conversation(other_learner), "1.6", input_tokens=160, started=yesterday)
        return conversation

    conversation = await sync_to_async(rows)()
    admission = await admit(conversation)
    assert isinstance(admission, store.Admission)
    assert admission.spend == ScopeSpend(
        Spend(30, 0.300001), Spend(50, 0.500001), Spend(130, 1.300001)
    )
    assert admission.history == [("user", "How do I back off?")]
    assert await CoachTurn.objects.filter(conversation=conversation).acount() == 3


async def test_a_refused_turn_leaves_the_conversation_free_and_nothing_saved(learner):
    conversation = await sync_to_async(make_conversation)(learner)
    refused = await admit(conversation, limits=SPENT)
    assert isinstance(refused, Refused) and "This conversation has used its budget" in str(refused)
    await conversation.arefresh_from_db()
    assert conversation.busy_until is None  # the claim was rolled back with the rest
    assert await Message.objects.filter(conversation=conversation).acount() == 0
    assert isinstance(await admit(conversation), store.Admission)


async def test_a_held_conversation_is_refused_and_nothing_is_saved(learner):
    conversation = await sync_to_async(make_conversation)(learner)
    await Conversation.objects.filter(pk=conversation.pk).aupdate(
        busy_until=timezone.now() + timedelta(minutes=1)
    )
    assert await admit(conversation) == Refused(BUSY_MESSAGE)
    assert await CoachTurn.objects.filter(conversation=conversation).acount() == 0


async def finish(admission: store.Admission, cost: str, **tokens: int) -> store.FinishedTurn:
    return await store.finish_turn(
        admission.started,
        message_text="Back off exponentially, with jitter.",
        message_status="complete",
        fields={"outcome": "completed", "cost_usd": Decimal(cost), **tokens},
    )


async def test_a_finished_turn_counts_once_in_everyones_spend_today(learner, other_learner):
    first = await admit(await sync_to_async(make_conversation)(learner))
    second = await admit(await sync_to_async(make_conversation)(other_learner))
    assert isinstance(first, store.Admission) and isinstance(second, store.Admission)
    await finish(first, "0.25", input_tokens=100, output_tokens=20)
    await finish(second, "0.5", input_tokens=200, cache_read_tokens=1000)
    await finish(first, "0.25", input_tokens=100, output_tokens=20)  # finished already: no-op
    third = await admit(await sync_to_async(make_conversation)(other_learner, "budget-lab"))
    assert isinstance(third, store.Admission)
    assert cost(third.spend.global_daily) == Decimal("0.75")
    day = await DailySpend.objects.aget()
    assert (day.cost_usd, day.tokens) == (Decimal("0.75"), 1320)


def test_upgrading_totals_the_turns_already_stored_per_day(learner, other_learner):
    now = timezone.now()
    past_turn(make_conversation(learner), "0.1", input_tokens=10, started=now)
    past_turn(make_conversation(other_learner), "0.2", input_tokens=20, started=now)
    two_days_ago = now - timedelta(days=2)
    past_turn(make_conversation(other_learner), "0.4", input_tokens=40, started=two_days_ago)
    DailySpend.objects.all().delete()  # as before the table existed
    migration = importlib.import_module("labs.migrations.0002_daily_spend")
    migration.total_existing_turns(django_apps, None)
    totals = {d.day: (d.cost_usd, d.tokens) for d in DailySpend.objects.all()}
    today = store.day_start(now).date()
    assert totals == {
        today: (Decimal("0.3"), 30),
        today - timedelta(days=2): (Decimal("0.4"), 40),
    }


async def test_a_lapsed_lease_is_taken_over_and_the_dead_workers_reply_marked_failed(learner):
    def dead_workers_turn() -> tuple[Conversation, Message]:
        conversation = make_conversation(learner)
        Message.objects.create(conversation=conversation, role="user", text="Hello?")
        reply = Message.objects.create(
            conversation=conversation, role="assistant", status="streaming"
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            busy_until=timezone.now() - timedelta(seconds=1)
        )
        return conversation, reply

    conversation, reply = await sync_to_async(dead_workers_turn)()
    admission = await admit(conversation)
    assert isinstance(admission, store.Admission)
    await reply.arefresh_from_db()
    assert reply.status == "failed"
    # The failed reply is left out of what the coach is sent.
    assert admission.history == [("user", "Hello?"), ("user", "How do I back off?")]


async def test_a_turns_reservation_is_its_worst_case_for_what_it_will_send(learner):
    conversation = await sync_to_async(make_conversation)(learner)
    short = await admit(conversation, max_tokens=1000)
    assert isinstance(short, store.Admission)
    await finish(short, "0")
    longer = await admit(conversation, max_tokens=1000)  # with the first turn in its history
    assert isinstance(longer, store.Admission)
    all_output = Decimal(str(DEFAULT_PRICES.price("claude-sonnet-4-6").worst_case(0, 1000)))
    # All the output it may write, plus its input (the history so far, then the new message).
    assert all_output < short.started.turn.reserved_usd < longer.started.turn.reserved_usd


async def test_a_running_turn_holds_its_worst_case_in_every_budget_until_it_finishes(
    learner, other_learner
):
    first = await admit(await sync_to_async(make_conversation)(learner), max_tokens=10_000)
    assert isinstance(first, store.Admission)
    reserved = first.started.turn.reserved_usd
    assert reserved > Decimal("0.1")
    # The same learner in another lab, while the first turn streams.
    second = await admit(await sync_to_async(make_conversation)(learner, "budget-lab"))
    assert isinstance(second, store.Admission)
    spend = second.spend
    assert (cost(spend.conversation), cost(spend.learner_daily)) == (0, reserved)
    assert cost(spend.global_daily) == reserved
    await finish(first, "0.125", output_tokens=300)
    await finish(second, "0")
    third = await admit(await sync_to_async(make_conversation)(other_learner))
    assert isinstance(third, store.Admission)
    # Finished: what it cost replaces what it might have cost.
    assert cost(third.spend.learner_daily) == 0
    assert cost(third.spend.global_daily) == Decimal("0.125")


async def test_a_turn_that_never_finished_stops_holding_its_reservation(learner):
    conversation = await sync_to_async(make_conversation)(learner)
    stale = await admit(conversation, max_tokens=10_000)
    assert isinstance(stale, store.Admission)
    await CoachTurn.objects.filter(pk=stale.started.turn.pk).aupdate(
        started=timezone.now() - store.HOLD - timedelta(minutes=1)
    )
    later = await admit(await sync_to_async(make_conversation)(learner, "budget-lab"))
    assert isinstance(later, store.Admission)
    assert cost(later.spend.learner_daily) == cost(later.spend.global_daily) == 0


async def test_taking_over_a_lapsed_lease_ends_the_dead_workers_turn(learner):
    conversation = await sync_to_async(make_conversation)(learner)
    dead = await admit(conversation, max_tokens=10_000)
    assert isinstance(dead, store.Admission)
    await Conversation.objects.filter(pk=conversation.pk).aupdate(
        busy_until=timezone.now() - timedelta(seconds=1)
    )
    retry = await admit(conversation)
    assert isinstance(retry, store.Admission)
    # Ended before the spend was read: the retry is not refused for its reservation.
    assert retry.spend == ScopeSpend(Spend(), Spend(), Spend())
    turn = await CoachTurn.objects.aget(pk=dead.started.turn.pk)
    assert turn.finished is not None and turn.outcome == "degraded"


@pytest.mark.postgres
def test_a_second_workers_admission_waits_for_the_first(learner, other_learner):
    # Two workers admitting at once could both read the spend before either stored its
    # reservation. The second waits until the first's transaction ends. (On SQLite the
    # IMMEDIATE transaction is that lock; the test database there is in memory, where a
    # second writer fails at once instead of waiting, so this runs on PostgreSQL only.)
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: make test-postgres")
    conversation = make_conversation(other_learner)
    done = threading.Event()

    def second_worker() -> None:
        # Another event loop in another thread: its hop runs on a connection of its own.
        asyncio.run(admit(conversation))
        done.set()

    with transaction.atomic():
        store.serialise_admissions()  # the first worker, mid-admission
        worker = threading.Thread(target=second_worker)
        worker.start()
        assert not done.wait(0.5)
    worker.join(10)
    assert done.is_set()
    assert CoachTurn.objects.filter(conversation=conversation).count() == 1
