"""Token and cost budgets per conversation, per learner per day, and global per day.

One vocabulary for spend and its limits, and the two rules that read them:

- `exhausted`: a scope has reached its cap, so no request can go (an app refuses the message
  before anything is sent or stored, with the scope named);
- `Budget.check`: the worst case of *this* request (estimated input tokens plus `max_tokens`,
  lesson 2's "max_tokens as a hard budget") would break a cap, so it is refused with kind
  `budget_exhausted` instead of being paid for.

After a call its real usage and cost are added to every scope it belongs to. Spending lives
behind `BudgetStore`, a two-method protocol, so an app can keep it in its database; the
default is in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal, Protocol

from resilient.events import Usage
from resilient.prices import DEFAULT_PRICES, PriceTable

ScopeName = Literal["conversation", "learner_daily", "global_daily"]
# In the order a refusal names them: the narrowest scope first.
SCOPES: tuple[ScopeName, ...] = ("conversation", "learner_daily", "global_daily")


@dataclass(frozen=True, slots=True)
class Spend:
    tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.tokens + other.tokens, self.cost_usd + other.cost_usd)

    @classmethod
    def of(cls, usage: Usage, cost_usd: float) -> Spend:
        return cls(usage.total_tokens, cost_usd)


@dataclass(frozen=True, slots=True)
class Cap:
    tokens: int | None = None
    cost_usd: float | None = None

    def reached_by(self, spent: Spend) -> bool:
        """Nothing is left under this cap."""
        return (self.tokens is not None and spent.tokens >= self.tokens) or (
            self.cost_usd is not None and spent.cost_usd >= self.cost_usd
        )

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
class ScopeSpend:
    """What has been spent in each scope a request counts against."""

    conversation: Spend = Spend()
    learner_daily: Spend = Spend()
    global_daily: Spend = Spend()

    def __add__(self, spend: Spend) -> ScopeSpend:
        """`spend` added to every scope (one request counts in each)."""
        return ScopeSpend(
            self.conversation + spend, self.learner_daily + spend, self.global_daily + spend
        )


def exhausted(spent: ScopeSpend, limits: BudgetLimits) -> ScopeName | None:
    """The first scope whose cap `spent` has reached, or None while every scope has room."""
    for name in SCOPES:
        cap: Cap = getattr(limits, name)
        if cap.reached_by(getattr(spent, name)):
            return name
    return None


@dataclass(frozen=True, slots=True)
class BudgetKeys:
    conversation: str | None = None
    learner: str | None = None

    def scopes(self) -> tuple[ScopeName, ...]:
        """The scopes a request with these keys counts against."""
        return tuple(
            name
            for name in SCOPES
            if name == "global_daily"
            or (name == "learner_daily" and self.learner is not None)
            or (name == "conversation" and self.conversation is not None)
        )


class BudgetStore(Protocol):
    async def spent(self, keys: BudgetKeys, day: date) -> ScopeSpend: ...

    async def add(self, keys: BudgetKeys, day: date, spend: Spend) -> None: ...


class MemoryBudgetStore:
    def __init__(self) -> None:
        self._spent: dict[tuple[str, ...], Spend] = {}

    @staticmethod
    def _keys(keys: BudgetKeys, day: date) -> dict[ScopeName, tuple[str, ...]]:
        found: dict[ScopeName, tuple[str, ...]] = {"global_daily": ("global", day.isoformat())}
        if keys.learner is not None:
            found["learner_daily"] = ("learner", keys.learner, day.isoformat())
        if keys.conversation is not None:
            found["conversation"] = ("conversation", keys.conversation)
        return found

    async def spent(self, keys: BudgetKeys, day: date) -> ScopeSpend:
        found = {name: self._spent.get(key, Spend()) for name, key in self._keys(keys, day).items()}
        return ScopeSpend(**found)

    async def add(self, keys: BudgetKeys, day: date, spend: Spend) -> None:
        for key in self._keys(keys, day).values():
            self._spent[key] = self._spent.get(key, Spend()) + spend


def _utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True, slots=True)
class Refusal:
    scope: ScopeName
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
        spent = await self.store.spent(keys, self._today())
        for name in reversed(keys.scopes()):  # the widest scope first
            cap: Cap = getattr(self.limits, name)
            detail = cap.exceeded_by(getattr(spent, name), worst)
            if detail is not None:
                return Refusal(name, detail)
        return None

    async def record(self, keys: BudgetKeys, *, model: str, usage: Usage) -> float:
        """Add a finished call's usage to every scope; return its cost in USD."""
        cost = self.prices.cost(model, usage)
        await self.store.add(keys, self._today(), Spend.of(usage, cost))
        return cost

    async def spent(self, keys: BudgetKeys) -> ScopeSpend:
        return await self.store.spent(keys, self._today())
