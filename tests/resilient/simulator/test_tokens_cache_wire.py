from __future__ import annotations

import pytest

from resilient.simulator.buckets import LimitSnapshot
from resilient.simulator.cache import PromptCache
from resilient.simulator.request import prompt_blocks
from resilient.simulator.tokens import estimate_tokens, split_stream_tokens
from resilient.simulator.wire import ratelimit_headers, rfc3339, round_thousand

T0 = 1_700_000_000.0


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 4096, 1024)]
)
def test_it_estimates_four_characters_per_token(text, tokens):
    assert estimate_tokens(text) == tokens


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("", []),
        ("Hello world", ["Hello", " world"]),
        ("Backoff, then retry.", ["Backof", "f,", " then", " retry."]),
        ("  two  spaces  ", ["  two", "  spaces", "  "]),
        ("line\nbreak", ["line", "\nbreak"]),
    ],
)
def test_it_splits_replies_into_word_pieces(text, pieces):
    assert split_stream_tokens(text) == pieces


def test_pieces_always_join_back_to_the_reply():
    text = "Rate limits: 429s, retry-after, and   jitter!\n\nSupercalifragilistic. "
    assert "".join(split_stream_tokens(text)) == text


def request(system_text: str, user: str = "hi", *, marked: bool = True) -> dict:
    block = {"type": "text", "text": system_text}
    if marked:
        block["cache_control"] = {"type": "ephemeral"}
    return {"model": "m", "system": [block], "messages": [{"role": "user", "content": user}]}


class Clock:
    now = T0

    def __call__(self) -> float:
        return self.now


def account(cache: PromptCache, body: dict) -> tuple[int, int, int]:
    usage, writes = cache.lookup(body["model"], prompt_blocks(body))
    cache.store(writes)
    return usage.input_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens


def test_a_marked_prefix_is_written_then_read_then_expires():
    clock = Clock()
    cache = PromptCache(min_tokens=1024, clock=clock)
    body = request("x" * 4096, "hello")  # 1024 tokens + 2
    assert account(cache, body) == (2, 1024, 0)
    assert account(cache, body) == (2, 0, 1024)
    clock.now += 299  # each read refreshed the five-minute lifetime
    assert account(cache, body) == (2, 0, 1024)
    clock.now += 301
    assert account(cache, body) == (2, 1024, 0)


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        (request("x" * 4096, "another question"), (4, 0, 1024)),  # same prefix, new turn
        (request("y" * 4096, "hello"), (2, 1024, 0)),  # different prefix
        (request("x" * 4096, "hello", marked=False), (1026, 0, 0)),  # no marker, no cache
        (dict(request("x" * 4096, "hello"), model="other"), (2, 1024, 0)),  # per model
    ],
)
def test_only_the_same_marked_prefix_is_read(second, expected):
    cache = PromptCache(min_tokens=1024, clock=Clock())
    account(cache, request("x" * 4096, "hello"))
    assert account(cache, second) == expected


def test_a_prefix_below_the_minimum_is_never_cached():
    cache = PromptCache(min_tokens=1024, clock=Clock())
    body = request("x" * 4000)  # 1000 tokens
    assert account(cache, body) == (1001, 0, 0)
    assert account(cache, body) == (1001, 0, 0)


def test_a_lookup_that_is_not_stored_writes_nothing():
    cache = PromptCache(min_tokens=1, clock=Clock())
    body = request("x" * 40)
    cache.lookup("m", prompt_blocks(body))
    assert account(cache, body)[1:] == (10, 0)


@pytest.mark.parametrize(
    ("value", "rounded"), [(0, 0), (499, 0), (500, 1000), (39_400, 39_000), (40_000, 40_000)]
)
def test_token_remaining_is_rounded_to_the_nearest_thousand(value, rounded):
    assert round_thousand(value) == rounded


def test_ratelimit_headers_report_each_limit_and_the_tightest_token_limit():
    snaps = [
        LimitSnapshot("requests", 50, 49, T0 + 1.2),
        LimitSnapshot("input-tokens", 40_000, 39_400, T0 + 1),
        LimitSnapshot("output-tokens", 8_000, 7_900, T0 + 1),
    ]
    headers = dict(ratelimit_headers(snaps))
    assert headers["anthropic-ratelimit-requests-remaining"] == "49"
    assert headers["anthropic-ratelimit-requests-reset"] == rfc3339(T0 + 2)
    assert headers["anthropic-ratelimit-input-tokens-remaining"] == "39000"
    assert headers["anthropic-ratelimit-tokens-limit"] == "8000"
    assert headers["anthropic-ratelimit-tokens-remaining"] == "8000"
    assert rfc3339(T0) == "2023-11-14T22:13:20Z"
