"""Bad frames and spent limits: a clear message in the chat, nothing lost, consumer alive."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from labs.models import CoachTurn, Conversation, Message
from tests.labs.conftest import (
    LAB,
    MODULE,
    communicator,
    connected,
    make_conversation,
    past_turn,
    receive,
    send,
    until_idle,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def refused(comm) -> str:
    frame = await receive(comm)
    assert frame["target"] == "#chat-alert" and frame["error"] is True
    assert "accepted" not in frame
    return frame["content"]


BAD_FRAMES = [
    ("not json at all", "not JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"action": "delete-everything"}', "Unknown action"),
    ('{"action": "send", "message": "   "}', "Type a message"),
    ('{"action": "send"}', "Type a message"),
    ('{"action": "send", "message": 42}', "Type a message"),
    ('{"action": "send", "message": "hi", "faults": "meteor"}', "fault drill does not exist"),
    ('{"action": "retry"}', "no unanswered message"),
]


async def test_each_bad_frame_gets_a_clear_message_and_the_chat_still_works(learner, fast_coach):
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        for raw, expected in BAD_FRAMES:
            await comm.send_to(text_data=raw)
            assert expected in await refused(comm), raw
        await send(comm, message="x" * 4001)
        text = await refused(comm)
        assert "4,001 characters" in text and "limit is 4,000" in text
        assert await Message.objects.filter(conversation=conversation).acount() == 0
        await send(comm, message="After all that, how do I back off?")
        assert (await receive(comm))["accepted"] is True
        assert "Reply complete" in (await until_idle(comm))[-1]["content"]


async def test_too_many_messages_a_minute_are_refused(learner, fast_coach, settings):
    settings.CHAT_MESSAGES_PER_MINUTE = 2
    other = await database_sync_to_async(make_conversation)(learner, "budget-lab")
    # Turns in any conversation count, and only those inside the last minute.
    await database_sync_to_async(past_turn)(other, "0")
    await database_sync_to_async(past_turn)(
        other, "0", started=timezone.now() - timedelta(minutes=2)
    )
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="first")
        await until_idle(comm)
        await send(comm, message="second")
        assert "2 messages a minute" in await refused(comm)
    assert await Message.objects.filter(conversation=conversation, role="user").acount() == 1


@pytest.mark.parametrize(
    ("setting", "scope", "expected"),
    [
        ("BUDGET_CONVERSATION_USD", "conversation", "This conversation has used its budget"),
        ("BUDGET_LEARNER_DAY_USD", "learner", "You have used today's coach budget"),
        ("BUDGET_GLOBAL_DAY_USD", "global", "used today's coach budget for everyone"),
    ],
)
async def test_a_spent_budget_is_refused_with_its_reason(
    learner, other_learner, billed_coach, settings, setting, scope, expected
):
    settings.BUDGET_CONVERSATION_USD = 5
    settings.BUDGET_LEARNER_DAY_USD = 5
    settings.BUDGET_GLOBAL_DAY_USD = 5
    setattr(settings, setting, 0.25)
    conversation = await database_sync_to_async(make_conversation)(learner)
    spender = {
        "conversation": conversation,
        "learner": await database_sync_to_async(make_conversation)(learner, "budget-lab"),
        "global": await database_sync_to_async(make_conversation)(other_learner),
    }[scope]
    await database_sync_to_async(past_turn)(spender, "0.30")
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="One more question please")
        assert expected.replace("'", "&#x27;") in await refused(comm)


async def test_a_budget_the_next_call_could_break_degrades_before_calling(
    learner, billed_coach, settings
):
    # Spent is under the cap, but the worst case of one more call is not: refused by the client.
    settings.BUDGET_CONVERSATION_USD = 0.02
    conversation = await database_sync_to_async(make_conversation)(learner)
    await database_sync_to_async(past_turn)(conversation, "0.015")
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="And what about jitter?")
        await receive(comm)
        final = (await until_idle(comm))[-1]
    assert "token budget" in final["content"]
    turn = await CoachTurn.objects.filter(conversation=conversation).alatest("started")
    assert turn.degraded_kind == "budget_exhausted" and turn.attempts == 0


async def test_a_second_message_while_the_coach_is_busy_is_refused(learner, fast_coach):
    conversation = await database_sync_to_async(make_conversation)(learner)
    # Another tab or worker holds the conversation: the refusal comes from the database.
    await Conversation.objects.filter(pk=conversation.pk).aupdate(
        busy_until=timezone.now() + timedelta(minutes=1)
    )
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="Are you there?")
        assert "still answering" in await refused(comm)
    assert await Message.objects.filter(conversation=conversation).acount() == 0


async def test_a_turn_reserves_its_worst_case_the_coach_prompt_and_all_its_output(
    learner, billed_coach, settings
):
    from course.registry import get_module
    from labs.coach import system_prefix
    from resilient.prices import DEFAULT_PRICES
    from resilient.tokens import estimate_text_tokens

    settings.COACH_MAX_TOKENS = 1000
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="Hi")
        await until_idle(comm)
    turn = await CoachTurn.objects.aget(conversation=conversation)
    module = get_module(MODULE)
    prompt = estimate_text_tokens(system_prefix(module.lab(LAB), module.lesson("retries")))
    assert prompt > 100
    worst = DEFAULT_PRICES.price(turn.model).worst_case(prompt + 1, 1000)
    assert turn.reserved_usd >= Decimal(str(round(worst, 6)))
    assert turn.cost_usd < turn.reserved_usd


async def test_two_turns_at_once_cannot_together_spend_past_a_budget_each_fits_under(
    learner, billed_coach, settings
):
    settings.COACH_MAX_TOKENS = 1024  # a worst case of about $0.02 a turn
    settings.BUDGET_LEARNER_DAY_USD = 0.03  # one turn's worst case fits, two do not
    settings.COACH_TOKENS_PER_SECOND = 50.0
    one = await database_sync_to_async(make_conversation)(learner)
    two = await database_sync_to_async(make_conversation)(learner, "budget-lab")
    first = await communicator(learner, one.pk)
    second = await communicator(learner, two.pk)
    assert (await first.connect())[0] and (await second.connect())[0]
    try:
        await send(first, message="How should I back off?")
        await receive(first)  # accepted: the first turn is streaming
        await send(second, message="And what about jitter?")
        ended = await until_idle(second)
        await until_idle(first)
    finally:
        await first.disconnect()
        await second.disconnect()
    assert "token budget" in ended[-1]["content"]
    outcomes = [t.outcome async for t in CoachTurn.objects.order_by("started")]
    kinds = [t.degraded_kind async for t in CoachTurn.objects.order_by("started")]
    assert outcomes == ["completed", "degraded"] and kinds[1] == "budget_exhausted"


@pytest.mark.parametrize("scope", ["conversation", "learner", "global"])
async def test_fault_drills_spend_no_budget(learner, other_learner, billed_coach, settings, scope):
    settings.BUDGET_CONVERSATION_USD = 0.25
    settings.BUDGET_LEARNER_DAY_USD = 0.25
    settings.BUDGET_GLOBAL_DAY_USD = 0.25
    conversation = await database_sync_to_async(make_conversation)(learner)
    spender = {
        "conversation": conversation,
        "learner": await database_sync_to_async(make_conversation)(learner, "budget-lab"),
        "global": await database_sync_to_async(make_conversation)(other_learner),
    }[scope]
    await database_sync_to_async(past_turn)(spender, "0.30", drill="outage")
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="One more question please")
        frames = await until_idle(comm)
    assert "Reply complete" in frames[-1]["content"]


# --- offline turns cost nothing real ----------------------------------------------------------


async def test_offline_turns_count_against_no_budget_and_reserve_nothing(
    learner, other_learner, fast_coach, settings
):
    from labs import store
    from labs.models import DailySpend

    settings.BUDGET_CONVERSATION_USD = 0.000001  # any billed turn would be refused at once
    settings.BUDGET_LEARNER_DAY_USD = 0.000001
    settings.BUDGET_GLOBAL_DAY_USD = 0.000001
    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        for question in ("How should I back off?", "And what about jitter?", "Why?"):
            await send(comm, message=question)
            assert (await receive(comm))["accepted"] is True
            assert "Reply complete" in (await until_idle(comm))[-1]["content"]
    turns = [t async for t in CoachTurn.objects.filter(conversation=conversation)]
    assert len(turns) == 3 and all(t.backend == "offline" for t in turns)
    assert all(t.cost_usd == 0 and t.reserved_usd == 0 and t.output_tokens > 0 for t in turns)
    assert not await DailySpend.objects.aexists()
    now = timezone.now()
    facts = await database_sync_to_async(store._facts)(
        conversation.pk, learner.pk, store.day_start(now), now
    )
    spend = facts.spend
    assert facts.recent.count == 3  # offline turns bill nothing but count in the rate
    assert spend.conversation.cost_usd == spend.learner_daily.cost_usd == 0
    assert spend.conversation.tokens == spend.global_daily.tokens == 0


async def test_offline_turns_go_on_when_billed_turns_have_spent_the_budgets(
    learner, fast_coach, settings
):
    settings.BUDGET_CONVERSATION_USD = 0.25
    settings.BUDGET_LEARNER_DAY_USD = 0.25
    settings.BUDGET_GLOBAL_DAY_USD = 0.25
    conversation = await database_sync_to_async(make_conversation)(learner)
    await database_sync_to_async(past_turn)(conversation, "0.30")  # a billed turn, over them all
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="Can I still practise?")
        assert (await receive(comm))["accepted"] is True
        assert "Reply complete" in (await until_idle(comm))[-1]["content"]


async def test_the_page_labels_an_offline_turns_cost_as_simulated(learner, fast_coach, client):
    from labs.fragments import simulated_cost

    conversation = await database_sync_to_async(make_conversation)(learner)
    async with connected(learner, conversation.pk) as comm:
        await send(comm, message="How should I back off?")
        await receive(comm)
        final = (await until_idle(comm))[-1]["content"]
    turn = await CoachTurn.objects.aget(conversation=conversation)
    simulated = await database_sync_to_async(simulated_cost)(turn)
    assert simulated > 0
    shown = f"${simulated:.6f} (simulated)"
    assert "nothing billed: the offline coach is simulated" in final and shown in final
    assert "it counts against no budget" in final
    await database_sync_to_async(client.force_login)(learner)
    page = await database_sync_to_async(client.get)(
        f"/modules/{MODULE}/labs/{LAB}/conversations/{conversation.pk}/"
    )
    assert shown in page.content.decode()
