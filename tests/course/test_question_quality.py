"""The module's questions cannot be answered by test-taking tricks, every wrong answer teaches
something, and the ids learners' answers are stored under stay put."""

from __future__ import annotations

import pytest
from django.conf import settings

from course.content import Option, Question
from course.registry import load_module, module_folders

MAX_TELL_SHARE = 0.40

# Published question ids and their correct option ids: attempts and analytics are stored under
# them, so neither may change (a question that changes what it asks gets a new id instead).
PUBLISHED = {
    "first-header-on-429": "retry-after",
    "why-jitter": "desynchronise-clients",
    "headers-on-success": "slow-down-early",
    "why-output-costs-more": "sequential-forward-passes",
    "prompt-caching-mechanism": "reuses-kv-cache",
    "output-cost-control": "per-task-budgets",
    "streaming-ux-benefit": "fast-first-token",
    "semaphore-in-gather": "cap-in-flight",
    "stream-fails-midway": "restart-from-scratch",
    "why-correlation-id": "trace-one-request",
    "non-retriable-errors": "auth-badrequest-notfound",
    "why-check-stop-reason": "detect-truncation",
    "rate-limit-status-code": "status-429",
    "two-rate-limit-dimensions": "rpm-and-tpm",
    "exponential-backoff-meaning": "wait-doubles",
    "sdk-retry-parameter": "max-retries",
    "output-token-price-reason": "one-pass-per-token",
    "prompt-caching-field": "cache-control",
    "what-is-ttft": "time-to-first-token",
    "streaming-protocol": "sse",
    "semaphore-concurrency-five": "five-in-flight",
    "stream-failure-mid-response": "full-restart",
    "correlation-id-purpose": "trace-request",
    "stop-reason-truncated": "max-tokens",
    "do-not-retry-error": "authentication-error",
    "graceful-degradation-meaning": "useful-fallback",
    "p95-over-mean": "shows-tail-latency",
}
# Distractors replaced by stronger ones: an id, once retired, is never used again.
RETIRED_OPTIONS = {
    ("semaphore-in-gather", "retries-429"),
    ("why-correlation-id", "hide-prompts"),
    ("why-check-stop-reason", "rate-limit-signal"),
    ("exponential-backoff-meaning", "retries-double"),
    ("prompt-caching-field", "cache-true"),
    ("what-is-ttft", "total-transfer-time"),
    ("semaphore-concurrency-five", "five-retries"),
    ("correlation-id-purpose", "authenticate"),
    ("p95-over-mean", "api-limits-use-p95"),
}


def questions() -> list[Question]:
    return [
        question
        for folder in module_folders(settings.CONTENT_DIR)
        for _, question in load_module(folder).all_questions()
    ]


def shown_length(option: Option) -> int:
    return len(option.text.replace("`", ""))


def share(found: list[Question], rule) -> float:
    return sum(1 for question in found if rule(question)) / len(found)


def correct_is_longest(question: Question) -> bool:
    wrong = [shown_length(o) for o in question.options if not o.correct]
    return shown_length(question.correct_option) > max(wrong)


def correct_is_shortest(question: Question) -> bool:
    wrong = [shown_length(o) for o in question.options if not o.correct]
    return shown_length(question.correct_option) < min(wrong)


@pytest.mark.parametrize("rule", [correct_is_longest, correct_is_shortest])
def test_option_length_does_not_give_the_answer_away(rule):
    assert share(questions(), rule) <= MAX_TELL_SHARE


def test_every_wrong_option_has_feedback_of_its_own():
    seen: dict[str, str] = {}
    for question in questions():
        for option in question.options:
            if option.correct:
                continue
            where = f"{question.id}/{option.id}"
            assert option.feedback, f"{where} has no feedback"
            assert option.feedback not in (
                question.explanation_correct,
                question.explanation_incorrect,
            ), f"{where} repeats the explanation"
            assert option.feedback not in seen, f"{where} repeats {seen.get(option.feedback)}"
            seen[option.feedback] = where


def test_no_option_is_a_catch_all():
    for question in questions():
        for option in question.options:
            assert "of the above" not in option.text.lower(), f"{question.id}/{option.id}"


def test_published_question_ids_and_answers_stay_put():
    found = {question.id: question.correct_option.id for question in questions()}
    assert found == PUBLISHED


def test_retired_option_ids_are_not_reused():
    found = {(question.id, option.id) for question in questions() for option in question.options}
    assert found.isdisjoint(RETIRED_OPTIONS)
