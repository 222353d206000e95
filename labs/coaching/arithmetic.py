"""Worked numbers: the lessons' rules applied to the learner's own quantities, working shown.

Each `Working` is one calculation with every step as a line ("2,000 input tokens × $3 per
million = $0.006"), the figure it arrives at, and the words of the lesson section the rule
comes from (so the reply can cite it). Prices come from `resilient.prices`, the same table that
bills the coach's own turns, unless the learner names theirs. Money is exact (`Decimal`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from labs.coaching.quantities import Quantities
from resilient.prices import CACHE_READ_MULTIPLIER, CACHE_WRITE_MULTIPLIER, DEFAULT_PRICES

DEFAULT_MODEL = "claude-sonnet-4-5"  # the lesson's own price example ($3 / $15)
DEFAULT_MAX_DELAY = 60.0  # the lesson's `max_delay`
JITTER = (0.75, 1.25)  # the lesson's ±25 %
MILLION = Decimal(1_000_000)

# What each calculation draws on, as words retrieval finds the lesson section by.
TOPICS = {
    "cost": "pricing model input tokens output tokens price per million",
    "cache": "prompt caching cache_control static prefix fraction of the input cost",
    "max_tokens": "max_tokens parameter hard budget output cost control",
    "budget": "per-session cost accumulator hard stop threshold budget",
    "rate": "RPM TPM requests per minute tokens per minute 429 limits",
    "backoff": "exponential backoff jitter retry waits twice as long",
    "concurrency": "asyncio Semaphore concurrency batch in flight",
}

# Questions for the number a calculation is missing: the coach asks before it prescribes.
ASK_INPUT = (
    "How many input tokens (system prompt, history and document) does one request send? "
    "With that I can finish the arithmetic."
)
ASK_OUTPUT = (
    "How many output tokens does a typical reply actually use? With that I can finish the "
    "arithmetic."
)
ASK_LIMITS = (
    "How many tokens does one request use, in and out, and what are your input- and "
    "output-tokens-per-minute limits? A large request can hit those long before RPM."
)
ASK_SPEND = (
    "How many tokens in and out does a typical request use, and how many requests a day? "
    "Then we can see where the money goes."
)


@dataclass(frozen=True)
class Working:
    topic: str  # a key of TOPICS
    title: str
    lines: tuple[str, ...]
    figure: str  # the result, as shown in the last line
    needs: str = ""  # a question for the number that would complete the picture


def usd(value: Decimal | float) -> str:
    """$0.0135, $0.006, $21.60, $1,350: exact, no float noise, cents once past a dollar."""
    amount = Decimal(str(value))
    if abs(amount) >= 1:
        text = f"{amount:,.2f}"
        return "$" + (text[:-3] if text.endswith(".00") else text)
    text = format(amount.quantize(Decimal("0.0000001")).normalize(), "f")
    return "$" + text


def price(value: float) -> str:
    amount = Decimal(str(value))
    if amount == amount.to_integral_value():
        return f"${int(amount)}"
    return f"${amount.quantize(Decimal('0.01'))}"


def num(value: float, digits: int = 1) -> str:
    """1,000 or 13.3 or 1.2: commas, and decimals only as far as they say something."""
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _d(value: float) -> Decimal:
    return Decimal(str(value))


def _prices(q: Quantities, default_model: str) -> tuple[float, float, str]:
    """(input, output) USD per million and where they came from."""
    model = q.model or default_model
    table = DEFAULT_PRICES.price(model)
    if q.price_in is not None and q.price_out is not None:
        return q.price_in, q.price_out, "your prices"
    if q.price_in is not None:
        return q.price_in, q.price_in * 5, "your input price, output at 5× (the lesson's ratio)"
    return table.input, table.output, f"{model} prices"


def cost(q: Quantities, default_model: str) -> Working | None:
    input_tokens = (q.input_tokens or 0) + (q.system_tokens or 0)
    output = q.output_tokens if q.output_tokens is not None else q.max_tokens
    if not input_tokens and output is None:
        return None
    p_in, p_out, source = _prices(q, default_model)
    lines = []
    total = Decimal(0)
    parts = []
    if input_tokens:
        c = _d(input_tokens) * _d(p_in) / MILLION
        total += c
        parts.append(usd(c))
        lines.append(f"Input: {num(input_tokens)} tokens × {price(p_in)} per million = {usd(c)}")
    if output is not None:
        c = _d(output) * _d(p_out) / MILLION
        total += c
        parts.append(usd(c))
        what = (
            "tokens"
            if q.output_tokens is not None
            else f"tokens at most (max_tokens={num(output)})"
        )
        lines.append(f"Output: {num(output)} {what} × {price(p_out)} per million = {usd(c)}")
    needs = ""
    if len(parts) == 2:
        lines.append(f"Per request: {parts[0]} + {parts[1]} = {usd(total)}")
    else:
        needs = ASK_OUTPUT if output is None else ASK_INPUT
    figure = usd(total)
    if q.output_tokens is not None and q.max_tokens and q.max_tokens > q.output_tokens:
        worst = _d(q.max_tokens) * _d(p_out) / MILLION
        lines.append(
            f"If a reply used all of max_tokens={num(q.max_tokens)}: "
            f"{num(q.max_tokens)} × {price(p_out)} per million = {usd(worst)} of output"
        )
    volume = q.per_day or q.requests
    if volume and len(parts) == 2:
        label = "Per day" if q.per_day else "For the batch"
        unit = "requests a day" if q.per_day else "requests"
        scaled = total * _d(volume)
        lines.append(f"{label}: {usd(total)} × {num(volume)} {unit} = {usd(scaled)}")
        figure = usd(scaled)
        if q.per_day and q.budget_per_day:
            fits = math.floor(_d(q.budget_per_day) / total) if total else 0
            lines.append(
                f"Your {usd(q.budget_per_day)} a day pays for {usd(q.budget_per_day)} ÷ "
                f"{usd(total)} = {fits:,} requests"
            )
    lines.append(f"(Prices: {source}, {price(p_in)} / {price(p_out)} per million tokens.)")
    topic = "max_tokens" if q.output_tokens is None and q.max_tokens else "cost"
    return Working(topic, "Cost per request", tuple(lines), figure, needs)


def cache(q: Quantities, default_model: str) -> Working | None:
    if not q.mentions_cache:
        return None
    if q.system_tokens:
        static = q.system_tokens
    elif q.input_tokens and q.cached_share:
        static = q.input_tokens * q.cached_share
    elif q.input_tokens:
        static = q.input_tokens
    else:
        return None
    p_in = q.price_in if q.price_in is not None else _prices(q, default_model)[0]
    base = _d(static) * _d(p_in) / MILLION
    read = base * _d(CACHE_READ_MULTIPLIER)
    write = base * _d(CACHE_WRITE_MULTIPLIER)
    saved = base - read
    share = (saved / base * 100).quantize(Decimal("1")) if base else Decimal(0)
    lines = [
        f"Uncached: {num(static)} tokens × {price(p_in)} per million = {usd(base)} a request",
        f"Cache read (a tenth): {num(static)} × {price(p_in * CACHE_READ_MULTIPLIER)} per million "
        f"= {usd(read)} a request",
        f"Cache write (first request, and after each 5-minute expiry): {num(static)} × "
        f"{price(p_in * CACHE_WRITE_MULTIPLIER)} per million = {usd(write)}",
        f"Saved on each cached request: {usd(base)} − {usd(read)} = {usd(saved)} ({share} %)",
    ]
    figure = usd(saved)
    volume = q.per_day or q.requests
    if volume and volume > 1:
        total = saved * (_d(volume) - 1) - (write - base)
        lines.append(
            f"Over {num(volume)} requests that come within 5 minutes of each other (one write): "
            f"{usd(saved)} × {num(volume - 1)} − {usd(write - base)} (the write's premium) "
            f"= {usd(total)} saved"
        )
        figure = usd(total)
    return Working("cache", "Prompt-cache savings", tuple(lines), figure)


def budget(q: Quantities) -> Working | None:
    if not (q.spend_per_day and q.budget_per_day):
        return None
    ratio = _d(q.spend_per_day) / _d(q.budget_per_day)
    cut = _d(q.spend_per_day) - _d(q.budget_per_day)
    share = (cut / _d(q.spend_per_day) * 100).quantize(Decimal("1"))
    lines = [
        f"Spend against budget: {usd(q.spend_per_day)} ÷ {usd(q.budget_per_day)} = "
        f"{num(float(ratio), 2)}×",
        f"To fit: cut {usd(q.spend_per_day)} − {usd(q.budget_per_day)} = {usd(cut)} a day, "
        f"{share} % of today's spend",
    ]
    return Working("budget", "Spend against budget", tuple(lines), f"{usd(cut)} a day", ASK_SPEND)


def rate(q: Quantities) -> Working | None:
    if not (q.rpm or q.itpm or q.otpm or q.tpm):
        return None
    limits: list[tuple[str, float]] = []
    lines = []
    needs = ""
    input_tokens = (q.input_tokens or 0) + (q.system_tokens or 0)
    output = q.output_tokens if q.output_tokens is not None else q.max_tokens
    if q.rpm:
        limits.append(("RPM", q.rpm))
        lines.append(
            f"RPM: {num(q.rpm)} requests a minute, one every 60 ÷ {num(q.rpm)} = "
            f"{num(60 / q.rpm, 2)} s"
        )
    if q.itpm:
        if input_tokens:
            per = q.itpm / input_tokens
            limits.append(("input TPM", per))
            lines.append(
                f"Input TPM: {num(q.itpm)} ÷ {num(input_tokens)} input tokens a request = "
                f"{num(per)} requests a minute"
            )
        else:
            needs = ASK_INPUT
    if q.otpm:
        if output:
            per = q.otpm / output
            limits.append(("output TPM", per))
            what = "output tokens" if q.output_tokens is not None else "tokens of max_tokens"
            lines.append(
                f"Output TPM: {num(q.otpm)} ÷ {num(output)} {what} a request = "
                f"{num(per)} requests a minute"
            )
        else:
            needs = needs or ASK_OUTPUT
    if q.tpm:
        if input_tokens or output:
            per_request = input_tokens + (output or 0)
            per = q.tpm / per_request
            limits.append(("TPM", per))
            lines.append(
                f"TPM: {num(q.tpm)} ÷ {num(per_request)} tokens a request = "
                f"{num(per)} requests a minute"
            )
        else:
            needs = needs or ASK_LIMITS
    if not limits:
        return Working("rate", "Rate limits", tuple(lines), "", needs or ASK_LIMITS)
    name, binding = min(limits, key=lambda item: item[1])
    figure = f"{num(binding)} requests a minute"
    if len(limits) > 1:
        lines.append(
            f"The limit you hit first: {name}, at {num(binding)} requests a minute "
            f"(one every {num(60 / binding, 2)} s)"
        )
    elif not needs and not (q.itpm or q.otpm or q.tpm):
        needs = ASK_LIMITS
    if q.requests:
        minutes = q.requests / binding
        lines.append(
            f"The batch: {num(q.requests)} requests ÷ {num(binding)} a minute = "
            f"{num(minutes)} minutes at best"
        )
        figure = f"{num(minutes)} minutes"
    if q.per_day:
        average = q.per_day / (24 * 60)
        lines.append(
            f"{num(q.per_day)} requests a day ÷ 1,440 minutes = {num(average, 2)} a minute on "
            "average (peaks are what hit the limit)"
        )
    if q.latency:
        flight = binding * q.latency / 60
        lines.append(
            f"In flight at that pace: {num(binding)} a minute × {num(q.latency)} s each ÷ 60 = "
            f"{num(flight)} requests at once"
        )
    return Working("rate", "Rate limits", tuple(lines), figure, needs)


def backoff(q: Quantities) -> Working | None:
    if q.base_delay is None or not q.retries:
        return None
    cap = q.max_delay or DEFAULT_MAX_DELAY
    retries = min(int(q.retries), 12)
    waits = [min(q.base_delay * 2**attempt, cap) for attempt in range(retries)]
    low, high = JITTER
    lines = [
        "Waits: "
        + ", ".join(f"{num(w, 2)} s" for w in waits)
        + f" (base × 2^attempt, capped at {num(cap)} s)",
        "With ±25 % jitter each wait lands between "
        + ", ".join(f"{num(w * low, 2)}–{num(min(w * high, cap), 2)}" for w in waits[:4])
        + (" …" if len(waits) > 4 else ""),
        f"Total waiting before giving up: {' + '.join(num(w, 2) for w in waits)} = "
        f"{num(sum(waits), 2)} s",
    ]
    return Working("backoff", "Backoff schedule", tuple(lines), f"{num(sum(waits), 2)} s")


def concurrency(q: Quantities) -> Working | None:
    if not (q.concurrency and q.latency):
        return None
    per_minute = q.concurrency * 60 / q.latency
    lines = [
        f"Throughput: {num(q.concurrency)} in flight × 60 s ÷ {num(q.latency)} s a request = "
        f"{num(per_minute)} requests a minute"
    ]
    figure = f"{num(per_minute)} requests a minute"
    if q.requests:
        seconds = math.ceil(q.requests / q.concurrency) * q.latency
        lines.append(
            f"The batch: {num(q.requests)} ÷ {num(q.concurrency)} at a time × {num(q.latency)} s "
            f"= {num(seconds)} s ≈ {num(seconds / 60)} minutes"
        )
        figure = f"{num(seconds / 60)} minutes"
    if q.rpm and per_minute > q.rpm:
        lines.append(
            f"That is above your {num(q.rpm)} RPM: keep at most "
            f"{num(q.rpm * q.latency / 60)} in flight"
        )
    return Working("concurrency", "Concurrency", tuple(lines), figure)


def workings(q: Quantities, default_model: str = DEFAULT_MODEL) -> list[Working]:
    """Every calculation the quantities allow, most specific first."""
    found = [
        backoff(q),
        cache(q, default_model),
        budget(q),
        rate(q),
        concurrency(q),
        None if q.mentions_cache and q.output_tokens is None else cost(q, default_model),
    ]
    return [w for w in found if w is not None]
