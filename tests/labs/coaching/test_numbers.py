"""Worked numbers: the learner's quantities read from their words, and the arithmetic shown."""

from __future__ import annotations

import pytest

from labs.coaching.arithmetic import ASK_LIMITS, backoff, cache, cost, num, rate, usd, workings
from labs.coaching.quantities import read_quantities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2,000 input + 500 output tokens at $3/$15 per million",
            {"input_tokens": 2000, "output_tokens": 500, "price_in": 3, "price_out": 15},
        ),
        ("tier 2, 50 RPM, show code", {"rpm": 50, "tier": 2}),
        (
            "an 8,000-token system prompt, we always set max_tokens=4096",
            {"system_tokens": 8000, "max_tokens": 4096},
        ),
        (
            "$800/day in API costs against a budget of $200",
            {"spend_per_day": 800, "budget_per_day": 200},
        ),
        (
            "40,000 input tokens per minute, 3,000 tokens each PDF, 500 PDFs",
            {"itpm": 40000, "input_tokens": 3000, "requests": 500},
        ),
        (
            "10,000 requests a day, 1,500 tokens in and 400 out on haiku",
            {
                "per_day": 10000,
                "input_tokens": 1500,
                "output_tokens": 400,
                "model": "claude-haiku-4-5",
            },
        ),
        ("base delay 1s, 5 retries", {"base_delay": 1, "retries": 5}),
        (
            "1,000 documents, 5 at a time, each takes 10 seconds",
            {"requests": 1000, "concurrency": 5, "latency": 10},
        ),
        ("output limit of 20,000 tokens per minute", {"otpm": 20000}),
        ("20,000 tokens per minute", {"tpm": 20000}),
    ],
)
def test_quantities_are_named_by_their_words(text, expected):
    found = {k: v for k, v in vars(read_quantities(text)).items() if v not in (None, False)}
    assert found == expected


@pytest.mark.parametrize("text", ["What's 2+2?", "I have 3 questions", "Lesson 2 says so"])
def test_numbers_without_a_rule_are_no_quantities(text):
    assert workings(read_quantities(text)) == []


def test_the_issue_example_cost_shows_its_working():
    working = cost(read_quantities("2,000 input + 500 output tokens at $3/$15 per million"), "x")
    assert working is not None and working.figure == "$0.0135"
    assert working.lines[:3] == (
        "Input: 2,000 tokens × $3 per million = $0.006",
        "Output: 500 tokens × $15 per million = $0.0075",
        "Per request: $0.006 + $0.0075 = $0.0135",
    )


def test_prices_come_from_the_price_table_when_not_given():
    q = read_quantities("10,000 requests a day, 1,500 tokens in and 400 out on haiku")
    working = cost(q, "claude-sonnet-4-5")
    assert working is not None and working.figure == "$35"
    assert "Per day: $0.0035 × 10,000 requests a day = $35" in working.lines


def test_max_tokens_is_a_worst_case_for_output():
    q = read_quantities("an 8,000-token system prompt and max_tokens=4096")
    working = cost(q, "claude-sonnet-4-5")
    assert working is not None and working.topic == "max_tokens"
    assert working.lines[2] == "Per request: $0.024 + $0.06144 = $0.08544"


def test_cache_savings():
    q = read_quantities("cache an 8,000-token system prompt on Sonnet")
    working = cache(q, "claude-sonnet-4-5")
    assert working is not None and working.figure == "$0.0216"
    assert "Saved on each cached request: $0.024 − $0.0024 = $0.0216 (90 %)" in working.lines


def test_the_binding_rate_limit_and_the_batch_time():
    q = read_quantities("50 RPM, 40,000 input tokens per minute, 3,000 tokens a PDF, 500 PDFs")
    working = rate(q)
    assert working is not None and working.figure == "37.5 minutes"
    assert "The limit you hit first: input TPM, at 13.3 requests a minute (one every 4.5 s)" in (
        working.lines
    )


def test_a_lone_rpm_asks_for_the_tokens_before_prescribing():
    working = rate(read_quantities("we are on 50 RPM"))
    assert working is not None and working.needs == ASK_LIMITS
    assert working.lines == ("RPM: 50 requests a minute, one every 60 ÷ 50 = 1.2 s",)


def test_backoff_schedule():
    working = backoff(read_quantities("base delay 1s, 5 retries"))
    assert working is not None and working.figure == "31 s"
    assert working.lines[0].startswith("Waits: 1 s, 2 s, 4 s, 8 s, 16 s")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0135, "$0.0135"), (0.006, "$0.006"), (21.6, "$21.60"), (1350, "$1,350"), (35.0, "$35")],
)
def test_money_is_exact(value, text):
    assert usd(value) == text


def test_numbers_drop_empty_decimals():
    assert [num(1.2, 2), num(1000), num(13.333), num(37.5)] == ["1.2", "1,000", "13.3", "37.5"]
