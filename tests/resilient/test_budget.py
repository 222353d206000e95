from __future__ import annotations

from datetime import date

import pytest

from resilient.budget import (
    Budget,
    BudgetKeys,
    BudgetLimits,
    Cap,
    MemoryBudgetStore,
    ScopeSpend,
    Spend,
    exhausted,
)
from resilient.events import Usage
from resilient.prices import DEFAULT_PRICES, ModelPrice, PriceTable, UnknownModelError


@pytest.mark.parametrize(
    ("model", "usage", "expected"),
    [
        ("claude-sonnet-4-5", Usage(1_000_000, 0), 3.0),
        ("claude-sonnet-4-5", Usage(0, 1_000_000), 15.0),
        ("claude-sonnet-4-5", Usage(0, 0, 1_000_000, 0), 3.75),  # cache write 1.25x
        ("claude-sonnet-4-5", Usage(0, 0, 0, 1_000_000), 0.30),  # cache read 0.1x
        ("claude-haiku-4-5", Usage(1_000_000, 1_000_000), 6.0),
        ("claude-opus-4-1", Usage(1_000_000, 1_000_000), 90.0),
        ("claude-sonnet-4-5-20250929", Usage(1_000_000, 0), 3.0),  # dated id
        ("claude-sonnet-4-5", Usage(1000, 500, 2000, 10_000), 0.003 + 0.0075 + 0.0075 + 0.003),
    ],
)
def test_price_table(model, usage, expected):
    assert DEFAULT_PRICES.cost(model, usage) == pytest.approx(expected)


def test_unknown_model_is_priced_conservatively_by_default_and_strictly_on_request():
    assert not DEFAULT_PRICES.known("claude-future-9")
    assert DEFAULT_PRICES.price("claude-future-9") == DEFAULT_PRICES.price("claude-opus-4-1")
    strict = PriceTable({"m": ModelPrice.of(1, 2)})
    with pytest.raises(UnknownModelError, match="claude-future-9"):
        strict.price("claude-future-9")


DAY = date(2025, 1, 15)


def make_budget(limits):
    return Budget(limits, today=lambda: DAY)


async def test_a_request_that_could_break_the_conversation_budget_is_refused_before_sending():
    budget = make_budget(BudgetLimits(conversation=Cap(tokens=1000)))
    keys = BudgetKeys(conversation="c1", learner="u1")
    assert (
        await budget.check(keys, model="claude-haiku-4-5", input_tokens=400, max_tokens=500) is None
    )
    await budget.record(keys, model="claude-haiku-4-5", usage=Usage(400, 300))
    refusal = await budget.check(keys, model="claude-haiku-4-5", input_tokens=400, max_tokens=500)
    assert refusal is not None and refusal.scope == "conversation"
    assert "1600 tokens > 1000" in refusal.reason
    # Another conversation of the same learner is unaffected.
    other = BudgetKeys(conversation="c2", learner="u1")
    assert (
        await budget.check(other, model="claude-haiku-4-5", input_tokens=400, max_tokens=500)
        is None
    )


async def test_cost_caps_apply_per_learner_per_day_and_globally():
    budget = make_budget(
        BudgetLimits(learner_daily=Cap(cost_usd=0.01), global_daily=Cap(cost_usd=0.05))
    )
    u1 = BudgetKeys(learner="u1")
    cost = await budget.record(u1, model="claude-sonnet-4-5", usage=Usage(1000, 500))
    assert cost == pytest.approx(0.0105)
    refusal = await budget.check(u1, model="claude-sonnet-4-5", input_tokens=10, max_tokens=10)
    assert refusal is not None and refusal.scope == "learner_daily"
    u2 = BudgetKeys(learner="u2")
    assert await budget.check(u2, model="claude-sonnet-4-5", input_tokens=10, max_tokens=10) is None
    # Worst case of max_tokens=3000 on sonnet is $0.045 + the $0.0105 spent > $0.05 global.
    refusal = await budget.check(u2, model="claude-sonnet-4-5", input_tokens=0, max_tokens=3000)
    assert refusal is not None and refusal.scope == "global_daily"


async def test_daily_scopes_roll_over():
    days = [DAY]
    budget = Budget(BudgetLimits(learner_daily=Cap(tokens=100)), today=lambda: days[0])
    keys = BudgetKeys(learner="u1")
    await budget.record(keys, model="claude-haiku-4-5", usage=Usage(90, 10))
    assert await budget.check(keys, model="claude-haiku-4-5", input_tokens=1, max_tokens=1)
    days[0] = date(2025, 1, 16)
    assert await budget.check(keys, model="claude-haiku-4-5", input_tokens=1, max_tokens=1) is None


@pytest.mark.parametrize(
    ("spent", "limits", "scope"),
    [
        (ScopeSpend(), BudgetLimits(), None),  # no caps: never exhausted
        (ScopeSpend(Spend(10, 0.49)), BudgetLimits(Cap(cost_usd=0.5)), None),
        (ScopeSpend(Spend(10, 0.5)), BudgetLimits(Cap(cost_usd=0.5)), "conversation"),
        (ScopeSpend(Spend(100, 0)), BudgetLimits(Cap(tokens=100)), "conversation"),
        (
            ScopeSpend(Spend(0, 1), Spend(0, 2), Spend(0, 50)),
            BudgetLimits(Cap(cost_usd=5), Cap(cost_usd=2), Cap(cost_usd=50)),
            "learner_daily",  # the narrowest scope with nothing left
        ),
        (
            ScopeSpend(global_daily=Spend(0, 50)),
            BudgetLimits(global_daily=Cap(cost_usd=50)),
            "global_daily",
        ),
    ],
)
def test_a_scope_is_exhausted_once_its_cap_is_reached(spent, limits, scope):
    assert exhausted(spent, limits) == scope


async def test_a_store_is_asked_for_every_scope_at_once_and_told_each_bill_once():
    class Counting(MemoryBudgetStore):
        adds = 0

        async def add(self, keys, day, spend):
            self.adds += 1
            await super().add(keys, day, spend)

    store = Counting()
    budget = Budget(BudgetLimits(), store=store, today=lambda: DAY)
    keys = BudgetKeys(conversation="c1", learner="u1")
    await budget.record(keys, model="claude-haiku-4-5", usage=Usage(100, 50, 10, 1000))
    assert store.adds == 1
    spent = await budget.spent(keys)
    assert spent.conversation == spent.learner_daily == spent.global_daily
    assert spent.conversation.tokens == 1160
    assert (await budget.spent(BudgetKeys(learner="u2"))).learner_daily == Spend()
