"""Words as retrieval compares them: contractions expanded, identifiers kept whole, stems.

`terms()` turns a learner message or a lesson passage into index terms. An identifier such as
`retry-after`, `max_tokens`, `client.messages.stream` or `anthropic-ratelimit-*` is kept whole
(lower-cased) *and* split into its stemmed parts, so "retry after" and `retry-after` meet; a
hyphenated header also yields its shorter prefixes, so `anthropic-ratelimit-*` finds
`anthropic-ratelimit-requests-remaining`. Plain words are stemmed with the Snowball English
stemmer ("retries" and "retry" are one term) after stopwords are dropped. Possessive and
contracted "'s" is dropped ("What's" is "what", never a stray "s").
"""

from __future__ import annotations

import functools
import re
import unicodedata

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")

# Contractions become their words; "'s" (is / has / possessive) is dropped.
_CONTRACTIONS = (
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'s\b"), ""),
    (re.compile(r"s'(?=\s|$)"), "s"),
)
# A word, number or identifier: parts joined by `-`, `_` or `.`, with an optional `*` suffix.
_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w-])|[a-z0-9]+(?:[-_.][a-z0-9]+)*(?:-\*)?")
_NUMBER = re.compile(r"^\d[\d,]*(?:\.\d+)?$")
# CamelCase names (`RateLimitError`, `AsyncAnthropic`) and their parts (`API`, `Timeout`).
_CAMEL = re.compile(r"\b[A-Za-z]*[a-z][A-Z][A-Za-z]*\b|\b[A-Z]{2,}[a-z][A-Za-z]*\b")
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")


def wordlist(text: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string (long lists stay readable)."""
    return frozenset(text.split())


# Words that say nothing about the topic of a question; without them BM25 ranks by "the".
STOPWORDS = wordlist(
    """
    a about above after again all also am an and any are as at be been before being but by
    can could did do does doing done each even ever every few for from further get gets got
    had has have having he her here hers him his how i if in into is it its itself just let
    lets like many may me might more most much must my myself need needs no nor not now of off
    on once one only or other our ours out over own per please quite rather really same say says
    shall she should so some such tell than that the their theirs them then there these they
    thing things this those through to too under until up us very want wants was way we
    were what when where which while who whom why will with would yes yet you your yours
    yourself ok okay hey hi hello thanks thank actually find
    """
)


def normalise(text: str) -> str:
    """Lower case, typographic quotes as ASCII, compatibility forms folded."""
    text = unicodedata.normalize("NFKC", text).lower()
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("`", " ")


def expand_contractions(text: str) -> str:
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=8192)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def split_camel(text: str) -> str:
    """`APITimeoutError` also as its words: "APITimeoutError api timeout error"."""
    return _CAMEL.sub(lambda m: f"{m.group(0)} {' '.join(_CAMEL_PART.findall(m.group(0)))}", text)


def raw_tokens(text: str) -> list[str]:
    """Tokens before stopwords and stemming: words, numbers (commas removed), identifiers."""
    tokens = []
    for match in _TOKEN.findall(expand_contractions(normalise(split_camel(text)))):
        tokens.append(match.replace(",", "") if _NUMBER.match(match) else match)
    return tokens


def _identifier_terms(token: str) -> list[str]:
    wildcard = token.endswith("-*")
    base = token[:-2] if wildcard else token
    parts = [p for p in re.split(r"[-_.]", base) if p]
    found = [base]
    if "-" in base:
        # Header families: every prefix of two parts or more is a term of its own.
        found.extend("-".join(parts[:n]) for n in range(2, len(parts)))
    found.extend(stem(p) for p in parts if p not in STOPWORDS)
    return found


def terms(text: str) -> list[str]:
    """Index terms of `text`, in order, with repeats (term frequency matters to BM25)."""
    found: list[str] = []
    for token in raw_tokens(text):
        if token in STOPWORDS:
            continue
        if any(sep in token for sep in "-_.*") and not _NUMBER.match(token):
            found.extend(_identifier_terms(token))
        elif _NUMBER.match(token):
            found.append(token)
        elif len(token) > 1:
            found.append(stem(token))
    return found


def content_words(text: str) -> list[str]:
    """The message's words that could carry a topic: not stopwords, not numbers, unstemmed."""
    return [
        token
        for token in raw_tokens(text)
        if token not in STOPWORDS and not _NUMBER.match(token) and len(token) > 1
    ]


# Words a learner uses for what the lessons call by another name: a query with the first also
# looks for the others, at a lower weight (`RELATED_WEIGHT`).
RELATED_WEIGHT = 0.5
_RELATED = {
    "rpm": "requests per minute",
    "tpm": "tokens per minute",
    "itpm": "input tokens per minute",
    "otpm": "output tokens per minute",
    "ttft": "time first token",
    "sse": "server-sent events",
    "throttle": "rate limits 429",
    "throttling": "rate limits 429",
    "wait": "delay",
    "delay": "wait",
    "bill": "cost price",
    "spend": "cost price",
    "spending": "cost price",
    "expensive": "cost price",
    "cheaper": "cost price",
    "money": "cost price",
    "hang": "timeout",
    "hung": "timeout",
    "stuck": "timeout",
    "crash": "error fallback",
    "outage": "unavailable fallback degradation",
    "down": "unavailable fallback",
    "monitor": "log alerts latency",
    "monitoring": "log alerts latency",
    "metrics": "log latency alerts",
    "dashboard": "latency alerts error rate",
    "truncated": "max_tokens stop_reason",
    "truncation": "max_tokens stop_reason",
    "cut": "truncated max_tokens",
    "parallel": "concurrency semaphore",
    "concurrent": "semaphore async",
    "trace": "correlation",
    "tracing": "correlation",
    "529": "overloaded",
    "overloaded": "529",
    "backoff": "exponential jitter",
    "headers": "anthropic-ratelimit",
    "429": "rate limits",
    "refusal": "stop_reason",
    "moderation": "refusal stop_reason",
    "resume": "restart",
    "chatbot": "streaming",
    "batch": "async semaphore",
    "cache": "cache_control",
    "caching": "cache_control",
    "used": "usage input_tokens output_tokens",
    "full": "entire",
    "whole": "entire",
    "runaway": "unbounded",
    "big": "large",
    "long": "seconds",
    "huge": "large",
    "consumed": "usage",
    "save": "cost fraction",
    "saves": "cost fraction",
    "savings": "cost fraction",
}
_RELATED_TERMS = {stem(word): terms(related) for word, related in _RELATED.items()}


def related_terms(found: list[str]) -> list[str]:
    """Terms the lessons use for what `found` (index terms of a query) names."""
    extra: list[str] = []
    for term in found:
        extra.extend(_RELATED_TERMS.get(term, ()))
    return [term for term in extra if term not in found]
