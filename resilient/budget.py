"""Token and cost budgets per conversation, per learner per day, and global per day.

A request is checked *before* it is sent against its worst case (estimated input tokens plus
`max_tokens`, lesson 2's "max_tokens as a hard budget"); a request that could break a budget
is refused with kind `budget_exhausted` instead of being paid for. After a call, its real usage
and cost are recorded on every scope it belongs to. Spending lives behind `BudgetStore`, a
two-method protocol, so the web app can keep it in its database; the default is in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from resilient.events import Usage
from resilient.prices import DEFAULT_PRICES, PriceTable


@dataclass(frozen=True, slots=True)
class Spend:
    tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.tokens + other.tokens, self.cost_usd + other.cost_usd)


@dataclass(frozen=True, slots=True)
class Cap:
    tokens: int | None = None
    cost_usd: float | None = None

    def exceeded_by(self, spent: Spend, extra: Spend) -> str | None:
        total = spent + extra
        if self.tokens is not None and total.tokens > self.tokens:
            return f"{total.tokens} tokens > {self.tokens}"
        if self.cost_usd is not None and total.cost_usd > self.cost_usd:
            return f"${total.cost_usd:.4f} > ${self.cost_usd:.4f}"
        return None


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    conversation: Cap = Cap()
    learner_daily: Cap = Cap()
    global_daily: Cap = Cap()


@dataclass(frozen=True, slots=True)
class BudgetKeys:
    conversation: str | None = None
    learner: str | None = None


class BudgetStore(Protocol):
    async def get(self, scope: str) -> Spend: ...

    async def add(self, scope: str, spend: Spend) -> None: ...


class MemoryBudgetStore:
    def __init__(self) -> None:
        self._spent: dict[str, Spend] = {}

    async def get(self, scope: str) -> Spend:
        return self._spent.get(scope, Spend())

    async def add(self, scope: str, spend: Spend) -> None:
        self._spent[scope] = self._spent.get(scope, Spend()) + spend


def scopes(keys: BudgetKeys, day: date) -> list[tuple[str, str]]:
    """(limit name, storage key) for every scope a request counts against."""
    found = [("global_daily", f"global:{day.isoformat()}")]
    if keys.learner is not None:
        found.append(("learner_daily", f"learner:{keys.learner}:{day.isoformat()}"))
    if keys.conversation is not None:
        found.append(("conversation", f"conversation:{keys.conversation}"))
    return found


def _utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class Refusal:
    scope: str
    detail: str

    @property
    def reason(self) -> str:
        return f"budget {self.scope} would be exceeded ({self.detail})"


class Budget:
    def __init__(
        self,
        limits: BudgetLimits,
        *,
        store: BudgetStore | None = None,
        prices: PriceTable = DEFAULT_PRICES,
        today: Callable[[], date] = _utc_today,
    ) -> None:
        self.limits = limits
        self.store: BudgetStore = store if store is not None else MemoryBudgetStore()
        self.prices = prices
        self._today = today

    async def check(
        self, keys: BudgetKeys, *, model: str, input_tokens: int, max_tokens: int
    ) -> Refusal | None:
        """Refuse (return a `Refusal`) when the worst case of this request breaks a budget."""
        worst = Spend(
            input_tokens + max_tokens,
            self.prices.price(model).worst_case(input_tokens, max_tokens),
        )
        for name, scope in scopes(keys, self._today()):
            cap: Cap = getattr(self.limits, name)
            detail = cap.exceeded_by(await self.store.get(scope), worst)
            if detail is not None:
                return Refusal(name, detail)
        return None

    async def record(self, keys: BudgetKeys, *, model: str, usage: Usage) -> float:
        """Add a finished call's usage to every scope; return its cost in USD."""
        cost = self.prices.cost(model, usage)
        tokens = (
            usage.input_tokens
            + usage.output_tokens
            + usage.cache_creation_input_tokens
            + usage.cache_read_input_tokens
        )
        for _, scope in scopes(keys, self._today()):
            await self.store.add(scope, Spend(tokens, cost))
        return cost

    async def spent(self, keys: BudgetKeys) -> dict[str, Spend]:
        return {name: await self.store.get(scope) for name, scope in scopes(keys, self._today())}
