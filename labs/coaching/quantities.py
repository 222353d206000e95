"""The numbers a learner gives, read into named quantities: tokens, limits, prices, volumes.

`read_quantities("2,000 input + 500 output tokens at $3/$15 per million")` gives
`Quantities(input_tokens=2000, output_tokens=500, price_in=3.0, price_out=15.0)`. Each number
is named by the words around it ("input tokens", "RPM", "max_tokens=", "a day", "$ ... per
million"); a number whose words name nothing the lessons have a rule for is left out, so "What's
2+2?" reads as no quantities at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from labs.coaching.words import normalise

_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000, "mm": 1e6}
_NUMBER = re.compile(
    r"(?P<dollar>\$\s?)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<mult>k|m|mm|thousand|million)\b)?(?P<pct>\s?%)?"
)
_MODELS = re.compile(r"\b(opus|sonnet|haiku)(?:[\s-]*(\d)(?:[.\s-](\d))?)?")


@dataclass
class Quantities:
    input_tokens: float | None = None  # per request, prompt and history included
    system_tokens: float | None = None  # the static part of the prompt (system prompt, docs)
    output_tokens: float | None = None  # per request, what replies actually use
    max_tokens: float | None = None
    price_in: float | None = None  # USD per million tokens
    price_out: float | None = None
    model: str | None = None  # a model id of the price table, when one is named
    rpm: float | None = None
    itpm: float | None = None
    otpm: float | None = None
    tpm: float | None = None  # tokens per minute when input and output are not told apart
    requests: float | None = None  # how many requests (documents, calls) in the batch
    per_day: float | None = None  # requests (sessions, calls) a day
    spend_per_day: float | None = None  # USD
    budget_per_day: float | None = None  # USD
    base_delay: float | None = None  # seconds
    max_delay: float | None = None
    retries: float | None = None
    latency: float | None = None  # seconds one request takes
    concurrency: float | None = None
    cached_share: float | None = None  # fraction of the input that repeats (0-1)
    tier: float | None = None
    mentions_cache: bool = False

    @property
    def empty(self) -> bool:
        return all(
            getattr(self, f.name) in (None, False) for f in fields(self) if f.name != "model"
        )


def _value(match: re.Match[str]) -> float:
    value = float(match.group("num").replace(",", ""))
    mult = match.group("mult")
    return value * _MULTIPLIERS[mult] if mult else value


def _model(text: str) -> str | None:
    found = _MODELS.search(text)
    if not found:
        return None
    family, major, minor = found.group(1), found.group(2), found.group(3)
    if major is None:
        return {"opus": "claude-opus-4-5", "sonnet": "claude-sonnet-4-5"}.get(
            family, "claude-haiku-4-5"
        )
    return f"claude-{family}-{major}-{minor or 0}"


def _has(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


_TOKENS = r"(?:-?\s?tokens?|\s?tok)\b"
_PER_MINUTE = r"(?:per|a|/|each)\s?(?:minute|min)\b"
_PER_DAY = r"(?:(?:per|a|/|each)\s?(?:day|night)\b|daily|nightly|every (?:day|night))"


def read_quantities(message: str) -> Quantities:
    """Every quantity the message names; words decide which one a number is."""
    text = normalise(message).replace("×", " x ").replace("–", "-").replace("—", " - ")
    q = Quantities(model=_model(text), mentions_cache=_has(r"\bcach(?:e|ed|ing)\b", text))
    explicit = re.search(r"max_tokens\s*(?:=|:|of|to|is|at)?\s*(\d[\d,]*)", text)
    if explicit:
        q.max_tokens = float(explicit.group(1).replace(",", ""))
    pair = re.search(
        r"\$\s?(\d+(?:\.\d+)?)\s*(?:/|and|vs\.?|versus)\s*\$\s?(\d+(?:\.\d+)?)"
        r"(?:\s*(?:per|/)\s*(?:million|mtok|m\b|1m))?",
        text,
    )
    if pair:
        q.price_in, q.price_out = float(pair.group(1)), float(pair.group(2))
    for match in _NUMBER.finditer(text):
        if explicit and explicit.start(1) <= match.start() < explicit.end(1):
            continue
        if pair and pair.start() <= match.start() < pair.end():
            continue
        before = text[max(0, match.start() - 40) : match.start()]
        after = text[match.end() : match.end() + 45]
        _name(
            q, _value(match), bool(match.group("dollar")), bool(match.group("pct")), before, after
        )
    return q


def _name(q: Quantities, value: float, dollar: bool, pct: bool, before: str, after: str) -> None:
    """Give `value` the name its neighbouring words imply (first rule that fits)."""
    near_after = after[:30]
    if pct:
        if _has(r"\b(cach|static|repeat|same|identical|hit)", after + before):
            q.cached_share = value / 100
        return
    if dollar:
        if _has(r"^\s*(?:per|/|a)\s*(?:million|mtok|m\b|1m)", after):
            if _has(r"output", before[-20:] + near_after):
                q.price_out = value
            else:
                q.price_in = value
        elif _has(rf"^\s*{_PER_DAY}|^\s*(?:in )?(?:api )?(?:cost|spend)s? (?:a|per) day", after):
            if _has(r"budget", before[-25:] + after[:12]):
                q.budget_per_day = value
            else:
                q.spend_per_day = value
        elif _has(r"budget\s*(?:of|is|:)?\s*$", before):
            q.budget_per_day = value
        return
    if _has(r"^\s*(?:rpm\b|requests?\s*" + _PER_MINUTE + ")", after):
        q.rpm = value
    elif _has(r"^\s*(?:itpm\b|input[-\s]tokens?\s*" + _PER_MINUTE + r"|input\s*tpm\b)", after) or (
        _has(
            r"(?:itpm|input[-\s]tokens? per minute|input tpm)\s*(?:limit)?\s*(?:of|is|=|:)?\s*$",
            before,
        )
    ):
        q.itpm = value
    elif _has(
        r"^\s*(?:otpm\b|output[-\s]tokens?\s*" + _PER_MINUTE + r"|output\s*tpm\b)", after
    ) or (
        _has(
            r"(?:otpm|output tokens? per minute|output tpm)\s*(?:limit)?\s*(?:of|is|=|:)?\s*$",
            before,
        )
    ):
        q.otpm = value
    elif _has(r"^\s*(?:tpm\b|tokens?\s*" + _PER_MINUTE + ")", after):
        # "an output limit of 20,000 tokens per minute"
        if _has(r"\boutput\b", before[-25:]):
            q.otpm = value
        elif _has(r"\binput\b", before[-25:]):
            q.itpm = value
        else:
            q.tpm = value
    elif _has(r"(?:rpm|requests per minute)\s*(?:limit)?\s*(?:of|is|=|:)?\s*$", before):
        q.rpm = value
    elif _has(r"\btier\s*$", before):
        q.tier = value
    elif _has(r"^" + _TOKENS, after):
        _name_tokens(q, value, before, after)
    elif _has(r"^\s*(?:input|in)\b", after) and _has(r"\btokens?\b", after + before[-30:]):
        q.input_tokens = value
    elif _has(r"^\s*(?:output|out)\b", after) and _has(r"\btokens?\b", after + before[-30:]):
        q.output_tokens = value
    elif _has(
        r"^\s*(?:pdfs?|docs?|documents?|files?|items?|records?|requests?|calls?|"
        r"messages?|sessions?|conversations?|chats?|users?|queries|questions|pages?|"
        r"images?|tickets?|emails?|jobs?|turns?)\b",
        after,
    ):
        if _has(r"^\s*\w+\s*" + _PER_DAY, after) or _has(r"^\s*\w+\s+(?:per|a|each)\s+day", after):
            q.per_day = value
        elif _has(r"^\s*\w+\s*" + _PER_MINUTE, after):
            q.rpm = value
        else:
            q.requests = value
    elif _has(r"^\s*(?:retries|retry|attempts?)\b", after) or _has(r"max_retries\s*=?\s*$", before):
        q.retries = value
    elif _has(
        r"^\s*(?:concurrent|in flight|in-flight|parallel|workers?|at a time|at once)", after
    ) or _has(r"(?:semaphore\(|concurrency(?: of| =| is|:)?)\s*$", before):
        q.concurrency = value
    elif _has(r"^\s*(?:s|sec|secs|seconds?|ms|milliseconds?)\b", after):
        seconds = value / 1000 if _has(r"^\s*(?:ms|milliseconds?)\b", after) else value
        if _has(r"\b(?:base|initial|start(?:ing)?|first)\b[\w\s]*$", before[-25:]):
            q.base_delay = seconds
        elif _has(r"\b(?:cap|max(?:imum)?|ceiling|at most)\b[\w\s]*$", before[-25:]):
            q.max_delay = seconds
        elif _has(
            r"\b(?:takes?|took|latency|each|per request|average|averages|about)\b", before[-30:]
        ):
            q.latency = seconds
        elif q.base_delay is None and _has(r"backoff|retry|delay", before + after):
            q.base_delay = seconds
        else:
            q.latency = seconds


def _name_tokens(q: Quantities, value: float, before: str, after: str) -> None:
    words = before[-40:] + " | " + after[:40]
    if _has(
        r"^(?:-?\s?tokens?|\s?tok)\s*(?:of\s+)?(?:system|static)|system prompt", after[:25]
    ) or (_has(r"system prompt\s*(?:of|is|=|:)?\s*$", before)):
        q.system_tokens = value
    elif _has(r"^\s*-?\s?tokens?\s+(?:of\s+)?(?:input|in|prompt|context)\b", after) or _has(
        r"\binput\b[^|]*$", before[-15:]
    ):
        q.input_tokens = value
    elif (
        _has(r"^\s*-?\s?tokens?\s+(?:of\s+)?(?:output|out)\b", after)
        or _has(r"\boutput\b[^|]*$", before[-15:])
        or _has(r"repl|respon|answer|generat|output|completion|summar", words)
    ):
        q.output_tokens = value
    elif (
        _has(r"prompt|context|document|input|doc\b|pdf|page|history", words)
        or q.input_tokens is None
    ):
        q.input_tokens = value
    elif q.output_tokens is None:
        q.output_tokens = value
