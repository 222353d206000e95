"""Find the course passages most relevant to a question: BM25 over lesson paragraphs.

Pure functions over dataclasses: `passages()` cuts lesson markdown into prose paragraphs that
remember their lesson and section; `rank()` scores them against a query with Okapi BM25.
Code blocks and callout fences are left out: the offline coach quotes prose.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

K1 = 1.2
B = 0.75
MIN_PASSAGE_CHARS = 60

_WORD = re.compile(r"[a-z0-9][a-z0-9_\-]*")
# Words that say nothing about the topic; without this list BM25 ranks by "the" and "how".
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "about",
        "just",
        "need",
        "want",
        "get",
    ]
)


@dataclass(frozen=True)
class Passage:
    lesson_slug: str
    lesson_number: int
    lesson_title: str
    section: str  # the `##` heading it sits under ("" for the opening story)
    text: str


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


def tokens(text: str) -> list[str]:
    return [word for word in _WORD.findall(text.lower()) if word not in STOPWORDS]


def _paragraphs(body: str) -> Iterable[tuple[str, str]]:
    """(section, paragraph) for each prose paragraph of a lesson body."""
    section = ""
    in_code = False
    block: list[str] = []

    def emit() -> Iterable[tuple[str, str]]:
        text = " ".join(line.strip() for line in block).strip()
        block.clear()
        if len(text) >= MIN_PASSAGE_CHARS:
            yield section, text

    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            yield from emit()
            in_code = not in_code
            continue
        if in_code:
            continue
        if stripped.startswith("#"):
            yield from emit()
            if stripped.startswith("## "):
                section = stripped[3:].strip()
            continue
        if not stripped or stripped.startswith(":::"):
            yield from emit()
            continue
        block.append(stripped)
    yield from emit()


def passages(lessons: Iterable[tuple[str, int, str, str]]) -> list[Passage]:
    """Passages of every lesson; each lesson is (slug, number, title, markdown body)."""
    found = []
    for slug, number, title, body in lessons:
        for section, text in _paragraphs(body):
            found.append(Passage(slug, number, title, section, text))
    return found


def rank(query: str, corpus: Sequence[Passage], limit: int = 2) -> list[Hit]:
    """The `limit` best passages for `query` by BM25; passages sharing no word are left out."""
    terms = set(tokens(query))
    if not terms or not corpus:
        return []
    docs = [tokens(f"{p.section} {p.text}") for p in corpus]
    average = sum(len(doc) for doc in docs) / len(docs) or 1.0
    frequency: Counter[str] = Counter()
    for doc in docs:
        frequency.update(set(doc) & terms)
    hits = []
    for passage, doc in zip(corpus, docs, strict=True):
        counts = Counter(doc)
        score = 0.0
        for term in terms:
            tf = counts.get(term, 0)
            if not tf:
                continue
            df = frequency[term]
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(doc) / average))
        if score > 0:
            hits.append(Hit(passage, score))
    hits.sort(key=lambda hit: -hit.score)
    return hits[:limit]
