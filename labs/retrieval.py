"""Find the course passages most relevant to a question: Okapi BM25 over lesson passages.

`Index` holds a module's passages (prose, lists, callouts, code, key concepts) with their
term statistics; `search()` scores a weighted query against them. The lab's own lesson comes
first: a passage of another lesson has to score clearly higher (`OTHER_LESSON_FACTOR`) to win.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from labs.coaching.corpus import CONCEPT, Passage
from labs.coaching.words import terms

K1 = 1.2
B = 0.75
# A passage from another lesson than the lab's must beat the lab's own by this factor.
OTHER_LESSON_FACTOR = 0.6
# The opening story sets the scene; it rarely answers a question.
STORY_FACTOR = 0.5
# Key-concept entries are one line: BM25's length normalisation would rank them above the
# paragraph that explains the same idea.
CONCEPT_FACTOR = 0.75
# A query that names a passage's heading ("What should I log on every request?" and the
# section "What to Log on Every Request") lifts it by up to this share of its score.
HEADING_BOOST = 0.6

Query = Mapping[str, float]  # term -> weight


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


def query_terms(text: str, weight: float = 1.0) -> dict[str, float]:
    """A query from text: each distinct term once, at `weight` (repeats add nothing)."""
    return dict.fromkeys(terms(text), weight)


def merge(*queries: Query) -> dict[str, float]:
    """Several queries as one; a term keeps its highest weight."""
    merged: dict[str, float] = {}
    for query in queries:
        for term, weight in query.items():
            merged[term] = max(merged.get(term, 0.0), weight)
    return merged


class Index:
    def __init__(self, passages: Iterable[Passage]) -> None:
        self.passages: list[Passage] = list(passages)
        self._docs = [Counter(terms(p.index_text)) for p in self.passages]
        self._headings = [
            set(terms(p.heading if p.kind == CONCEPT else p.section)) for p in self.passages
        ]
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._average = (sum(self._lengths) / len(self._lengths)) if self._lengths else 1.0
        self._df: Counter[str] = Counter()
        for doc in self._docs:
            self._df.update(doc.keys())

    @property
    def vocabulary(self) -> Collection[str]:
        return self._df.keys()

    def df(self, term: str) -> int:
        """How many passages use `term`."""
        return self._df.get(term, 0)

    def idf(self, term: str) -> float:
        n = len(self._docs)
        df = self._df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(
        self,
        query: Query,
        *,
        home: str | None = None,
        kinds: Collection[str] | None = None,
        exclude: Collection[str] = (),
        limit: int = 3,
    ) -> list[Hit]:
        """The best passages for `query`, best first; passages sharing no term are left out.

        `home`: the lab's lesson slug; `kinds`: passage kinds to consider; `exclude`: passage
        keys already used in this conversation.
        """
        hits = []
        rows = zip(self.passages, self._docs, self._lengths, self._headings, strict=True)
        for passage, doc, length, heading in rows:
            if (kinds is not None and passage.kind not in kinds) or passage.key in exclude:
                continue
            score = self._bm25(query, doc, length)
            if score <= 0:
                continue
            if heading:
                named = sum(1 for term in heading if query.get(term, 0) >= 1)
                score *= 1 + HEADING_BOOST * named / len(heading)
            if home is not None and passage.lesson_slug != home:
                score *= OTHER_LESSON_FACTOR
            if not passage.section:
                score *= STORY_FACTOR
            elif passage.kind == CONCEPT:
                score *= CONCEPT_FACTOR
            hits.append(Hit(passage, score))
        hits.sort(key=lambda hit: -hit.score)
        return hits[:limit]

    def _bm25(self, query: Query, doc: Counter[str], length: int) -> float:
        score = 0.0
        norm = K1 * (1 - B + B * length / self._average)
        for term, weight in query.items():
            tf = doc.get(term, 0)
            if tf:
                score += weight * self.idf(term) * tf * (K1 + 1) / (tf + norm)
        return score

    def overlap(self, query: Query, text: str) -> float:
        """How much of `query` a short text (a sentence) covers: idf-weighted matched terms."""
        present = set(terms(text))
        return sum(weight * self.idf(term) for term, weight in query.items() if term in present)


def rank(query: str, corpus: Sequence[Passage], limit: int = 2) -> list[Hit]:
    """The `limit` best passages of `corpus` for a plain-text query."""
    return Index(corpus).search(query_terms(query), limit=limit)
