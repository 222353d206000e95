"""The plain-SQL row helpers store exactly what the ORM would (run on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from labs import rows
from labs.models import CoachTurn, Conversation, Message
from tests.labs.conftest import make_conversation

pytestmark = pytest.mark.django_db


def test_an_inserted_turn_reads_back_through_the_orm_field_for_field(learner):
    conversation = make_conversation(learner)
    asked = Message(conversation=conversation, role=Message.Role.USER, text="Ünïcode ‘quotes’")
    rows.insert(asked)
    started = timezone.now()
    turn = CoachTurn(
        conversation=conversation,
        user_id=learner.pk,
        user_message=asked,
        module=conversation.module,
        lab=conversation.lab,
        model="claude-x",
        backend=CoachTurn.Backend.API,
        waits=[{"attempt": 1, "delay": 0.5, "reason": "rate limited"}],
        reserved_usd=Decimal("0.123456"),
        started=started,
    )
    rows.insert(turn)

    stored = CoachTurn.objects.get(pk=turn.pk)
    assert stored.user_message == Message.objects.get(text="Ünïcode ‘quotes’") == asked
    assert stored.waits == [{"attempt": 1, "delay": 0.5, "reason": "rate limited"}]
    assert stored.reserved_usd == Decimal("0.123456")
    assert stored.started == started
    # Fields left unset took their defaults, as `save()` gives them.
    assert (stored.outcome, stored.attempts, stored.restarts, stored.finished) == (
        CoachTurn.Outcome.RUNNING,
        0,
        [],
        None,
    )
    assert stored.cost_usd == Decimal("0")
    # `auto_now_add` was stamped on the instance and the row alike.
    assert asked.created is not None
    assert Message.objects.get(pk=asked.pk).created == asked.created


def test_an_update_changes_only_the_rows_its_condition_names(learner):
    conversation = make_conversation(learner)
    until = timezone.now() + timedelta(seconds=15)
    free = "id = %s AND busy_until IS NULL"
    assert rows.update(Conversation, {"busy_until": until}, free, [conversation.pk]) == 1
    assert rows.update(Conversation, {"busy_until": until}, free, [conversation.pk]) == 0
    conversation.refresh_from_db()
    assert conversation.busy_until == until

    turn = CoachTurn.objects.create(
        conversation=conversation,
        user=learner,
        module="m",
        lab="l",
        model="claude-x",
        backend=CoachTurn.Backend.API,
        started=timezone.now(),
    )
    values = {"cost_usd": Decimal("0.000123"), "restarts": [{"attempt": 2, "reason": "cut"}]}
    assert rows.update(CoachTurn, values, "id = %s", [turn.pk]) == 1
    turn.refresh_from_db()
    assert (turn.cost_usd, turn.restarts) == (
        Decimal("0.000123"),
        [{"attempt": 2, "reason": "cut"}],
    )


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-24 08:57:40.123456",
        datetime(2026, 11, 24, 8, 57, 40, 123456),
        datetime(2026, 11, 24, 8, 57, 40, 123456, tzinfo=UTC),
    ],
)
def test_a_moment_read_by_plain_sql_is_aware_and_in_utc(value):
    assert rows.moment(value) == datetime(2026, 11, 24, 8, 57, 40, 123456, tzinfo=UTC)
