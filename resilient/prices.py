"""What a call costs: a price table per model, including prompt-cache writes and reads.

Prices are USD per million tokens from Anthropic's public pricing page. A 5-minute cache write
costs 1.25x the input price and a cache read 0.1x (lesson 2); both are stored per model so a
model with other multipliers can say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from resilient.events import Usage

CACHE_WRITE_MULTIPLIER = 1.25
CACHE_READ_MULTIPLIER = 0.1


class UnknownModelError(KeyError):
    """The price table has no entry (and no fallback) for this model."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    input: float
    output: float
    cache_write: float
    cache_read: float

    @classmethod
    def of(cls, input_per_mtok: float, output_per_mtok: float) -> ModelPrice:
        return cls(
            input=input_per_mtok,
            output=output_per_mtok,
            cache_write=input_per_mtok * CACHE_WRITE_MULTIPLIER,
            cache_read=input_per_mtok * CACHE_READ_MULTIPLIER,
        )

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_creation_input_tokens * self.cache_write
            + usage.cache_read_input_tokens * self.cache_read
        ) / 1_000_000

    def worst_case(self, input_tokens: int, max_tokens: int) -> float:
        """Upper bound before sending: every input token written to the cache, all output used."""
        return (input_tokens * max(self.input, self.cache_write) + max_tokens * self.output) / (
            1_000_000
        )


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Prices by model id. Dated ids (`claude-sonnet-4-5-20250929`) resolve to their alias.

    `fallback` prices an unknown model; `None` makes an unknown model an `UnknownModelError`.
    """

    prices: Mapping[str, ModelPrice]
    fallback: ModelPrice | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)

    def known(self, model: str) -> bool:
        return self._lookup(model) is not None

    def price(self, model: str) -> ModelPrice:
        found = self._lookup(model)
        if found is not None:
            return found
        if self.fallback is not None:
            return self.fallback
        raise UnknownModelError(f"no price for model {model!r}; add it to the PriceTable")

    def cost(self, model: str, usage: Usage) -> float:
        return self.price(model).cost(usage)

    def _lookup(self, model: str) -> ModelPrice | None:
        model = self.aliases.get(model, model)
        if model in self.prices:
            return self.prices[model]
        # A dated snapshot id is the alias plus "-YYYYMMDD".
        base, _, suffix = model.rpartition("-")
        if suffix.isdigit() and len(suffix) == 8:
            return self.prices.get(base)
        return None


_OPUS_4_1 = ModelPrice.of(15.0, 75.0)

DEFAULT_PRICES = PriceTable(
    prices={
        "claude-opus-4-8": ModelPrice.of(5.0, 25.0),
        "claude-opus-4-7": ModelPrice.of(5.0, 25.0),
        "claude-opus-4-6": ModelPrice.of(5.0, 25.0),
        "claude-opus-4-5": ModelPrice.of(5.0, 25.0),
        "claude-opus-4-1": _OPUS_4_1,
        "claude-opus-4-0": _OPUS_4_1,
        "claude-sonnet-4-6": ModelPrice.of(3.0, 15.0),
        "claude-sonnet-4-5": ModelPrice.of(3.0, 15.0),
        "claude-sonnet-4-0": ModelPrice.of(3.0, 15.0),
        "claude-haiku-4-5": ModelPrice.of(1.0, 5.0),
        "claude-3-5-haiku": ModelPrice.of(0.8, 4.0),
    },
    # An unknown model is priced like the most expensive one we list, so a budget can only
    # stop too early, never let spending through; telemetry marks such a price as a guess.
    fallback=_OPUS_4_1,
    aliases={"claude-opus-4": "claude-opus-4-0", "claude-sonnet-4": "claude-sonnet-4-0"},
)
