"""Words, passages and BM25: what retrieval sees of a question and of a lesson."""

from __future__ import annotations

import pytest

from course.content import GlossaryEntry, Lesson
from labs.coaching.corpus import (
    ACCOUNT,
    CALLOUT,
    CODE,
    CONCEPT,
    LIST,
    PROSE,
    lesson_passages,
    sentences,
)
from labs.coaching.words import related_terms, terms
from labs.retrieval import Index, query_terms

BODY = """A story about a night of 429s and a pager that would not stop.

## Understanding the HTTP 429

A 429 means too many requests. Read the `retry-after` header first and wait that many seconds.

```http
HTTP/1.1 429 Too Many Requests
anthropic-ratelimit-requests-remaining: 0
```

## Backoff

Each retry waits twice as long as the one before, with jitter.

```python
def call_with_retry(client):
    return client
```

### Retriable errors

- `RateLimitError` (429) — back off and retry
- `APITimeoutError` — retry with a longer timeout

::: principle
The SDK retries twice by default.

- Set `max_retries` when that is not enough.
:::

## Prompt caching

Prompt caching reuses a long static prefix at a tenth of the input price for later requests.
"""

LESSON = Lesson(
    "retry", 1, "Retry", "t", "h", BODY,
    (GlossaryEntry("Jitter", "Random delay variation that prevents synchronized retries."),),
    "p", 1,
)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        # "What's" is "what" (a stopword), never a stray "s" that matches "Anthropic's".
        ("What's the capital of France?", {"capit", "franc"}, {"s", "what"}),
        ("Anthropic's pricing", {"anthrop", "price"}, {"s"}),
        ("I can't stream; don't the retries multiply?", {"stream", "retri"}, {"t", "don"}),
        # plurals and inflections meet their stem
        ("retries limits headers", {"retri", "limit", "header"}, set()),
        # identifiers whole and in parts; header families by prefix
        ("set max_tokens=4096", {"max_tokens", "max", "token", "4096"}, set()),
        ("honour retry-after", {"retry-after", "retri"}, set()),
        ("read anthropic-ratelimit-* headers", {"anthropic-ratelimit", "header"}, set()),
        ("raises APITimeoutError", {"apitimeouterror", "api", "timeout", "error"}, set()),
        ("1,000 requests", {"1000", "request"}, {"1", "000"}),
    ],
)
def test_terms(text, present, absent):
    found = set(terms(text))
    assert present <= found and not (absent & found)


def test_a_header_name_meets_its_family():
    assert "anthropic-ratelimit" in terms("anthropic-ratelimit-requests-remaining")


def test_related_words_reach_the_lessons_words():
    assert {"request", "minut"} <= set(related_terms(terms("rpm")))


def test_a_lesson_is_cut_into_passages_that_know_their_section_and_anchor():
    found = lesson_passages(LESSON)
    kinds = [(p.kind, p.section) for p in found]
    assert kinds == [
        (PROSE, ""),
        (PROSE, "Understanding the HTTP 429"),
        (CODE, "Understanding the HTTP 429"),
        (PROSE, "Backoff"),
        (CODE, "Backoff"),
        (LIST, "Backoff"),
        (CALLOUT, "Backoff"),
        (PROSE, "Prompt caching"),
        (CONCEPT, "Key concepts"),
    ]
    code = found[4]
    assert code.names == ("call_with_retry",) and code.language == "python"
    assert found[5].heading == "Retriable errors" and found[5].text.count("\n") == 1
    # A callout's opening sentence and its list stay one passage.
    assert "twice by default" in found[6].text and "max_retries" in found[6].text
    assert found[1].link == "lesson:retry#understanding-the-http-429"
    assert found[1].where == "Lesson 1 · Understanding the HTTP 429"
    assert found[8].link == "lesson:retry#glossary-title"


def test_sentences_are_whole():
    assert sentences("One thing. `retry-after` wins. Then 2.5 s, e.g. later.") == [
        "One thing.",
        "`retry-after` wins.",
        "Then 2.5 s, e.g. later.",
    ]


@pytest.mark.parametrize(
    ("query", "section"),
    [
        ("what does the retry-after header say?", "Understanding the HTTP 429"),
        ("is caching the static prefix cheaper?", "Prompt caching"),
        ("how long does each retry wait?", "Backoff"),
        ("do timeouts get retried?", "Backoff"),
    ],
)
def test_search_finds_the_passage_about_the_question(query, section):
    hits = Index(lesson_passages(LESSON)).search(query_terms(query))
    assert hits[0].passage.section == section


def test_search_leaves_out_unrelated_questions_and_used_passages():
    index = Index(lesson_passages(LESSON))
    assert index.search(query_terms("banana bread recipe")) == []
    best = index.search(query_terms("prompt caching"))[0].passage
    again = index.search(query_terms("prompt caching"), exclude={best.key})
    assert all(hit.passage.key != best.key for hit in again)


def test_the_labs_own_lesson_wins_unless_another_is_clearly_better():
    other = Lesson(
        "other", 2, "Other", "t", "h", "## Waiting\n\nA 429 means wait for retry-after seconds.\n",
        (), "p", 1,
    )  # fmt: skip
    index = Index(lesson_passages(LESSON) + lesson_passages(other))
    query = query_terms("what does a 429 mean, and retry-after?")
    assert index.search(query, home="retry")[0].passage.lesson_slug == "retry"
    assert index.search(query, home="other")[0].passage.lesson_slug == "other"


CORRECTED = """::: account
Our pager rang all night while the batch retried every second.
:::

## Limits

::: correction it named one limit; there are three
The API limits requests, input tokens and output tokens per minute, each on its own.



:::

:::: principle Production Principle
Honour `retry-after` before your own backoff.

::: account
A team we know ignored it for a week and was throttled for all of it.
:::
::::
"""


def test_corrected_text_is_ordinary_lesson_text_and_accounts_are_kept_apart():
    lesson = Lesson("c", 1, "C", "t", "h", CORRECTED, (), "p", 1)
    found = [(p.kind, p.section, p.heading, p.text) for p in lesson_passages(lesson)]
    assert found == [
        (ACCOUNT, "", "", "Our pager rang all night while the batch retried every second."),
        (
            PROSE,
            "Limits",
            "",
            "The API limits requests, input tokens and output tokens per minute, each on its own.",
        ),
        (
            CALLOUT,
            "Limits",
            "Production Principle",
            "Honour `retry-after` before your own backoff.",
        ),
        (
            ACCOUNT,
            "Limits",
            "Production Principle",
            "A team we know ignored it for a week and was throttled for all of it.",
        ),
    ]


def test_no_original_of_a_correction_reaches_the_coach(real_module):
    passages = " ".join(p.text for lesson in real_module.lessons for p in lesson_passages(lesson))
    originals = [c.original for lesson in real_module.lessons for c in lesson.corrections]
    assert originals, "the real lessons have corrections"
    for original in originals:
        assert original not in passages
