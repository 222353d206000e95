"""Item and test statistics for instructors: pure functions over plain numbers and ids.

Difficulty is the share of learners who chose the correct option. Discrimination is the
corrected point-biserial correlation between getting the item right (1/0) and the attempt's
score on the other items: near +1 when strong learners get it right and weak ones miss it,
near 0 or negative when the item does not separate them (a confusing question or a wrong
answer key).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Response:
    """One answer in a finished attempt: the chosen option and that attempt's total score."""

    option_id: str
    total_score: float


@dataclass(frozen=True)
class ItemStats:
    question_id: str
    responses: int
    difficulty: float | None  # share correct, 0..1
    discrimination: float | None  # corrected point-biserial, -1..1; None when undefined
    wrong_option: str | None  # most-chosen wrong option id
    wrong_count: int


def share(hits: int, count: int) -> float | None:
    return hits / count if count else None


def point_biserial(correct: Sequence[bool], totals: Sequence[float]) -> float | None:
    """r_pb = (M1 - M0) / s * sqrt(p * q), with s the population standard deviation of totals.

    Undefined (None) when everyone got the item right, or everyone wrong, or all totals are
    equal: there is nothing to correlate.
    """
    if len(correct) != len(totals):
        raise ValueError("one total per response is needed")
    n = len(totals)
    right = [total for hit, total in zip(correct, totals, strict=True) if hit]
    wrong = [total for hit, total in zip(correct, totals, strict=True) if not hit]
    if not right or not wrong:
        return None
    mean = sum(totals) / n
    sd = math.sqrt(sum((total - mean) ** 2 for total in totals) / n)
    if sd == 0:
        return None
    p = len(right) / n
    return (sum(right) / len(right) - sum(wrong) / len(wrong)) / sd * math.sqrt(p * (1 - p))


def most_chosen_wrong(
    chosen: Sequence[str], correct_id: str, option_order: Sequence[str] = ()
) -> tuple[str, int] | None:
    """The wrong option picked most often; ties go to the one listed first in the content."""
    counts = Counter(option for option in chosen if option != correct_id)
    if not counts:
        return None
    rank = {option: index for index, option in enumerate(option_order)}
    option = min(counts, key=lambda o: (-counts[o], rank.get(o, len(rank)), o))
    return option, counts[option]


def item_stats(
    question_id: str,
    correct_id: str,
    responses: Sequence[Response],
    option_order: Sequence[str] = (),
) -> ItemStats:
    hits = [response.option_id == correct_id for response in responses]
    wrong = most_chosen_wrong([r.option_id for r in responses], correct_id, option_order)
    return ItemStats(
        question_id=question_id,
        responses=len(responses),
        difficulty=share(sum(hits), len(responses)),
        # Corrected: against the score on the *other* items. With the item in the total, a
        # 15-item test correlates every item with itself a little, and a 3-question quiz a lot.
        discrimination=point_biserial(
            hits, [r.total_score - hit for r, hit in zip(responses, hits, strict=True)]
        ),
        wrong_option=wrong[0] if wrong else None,
        wrong_count=wrong[1] if wrong else 0,
    )


def histogram(scores: Sequence[int], total: int) -> list[int]:
    """How many attempts scored 0, 1, ... total (scores outside that range are ignored)."""
    counts = [0] * (total + 1)
    for score in scores:
        if 0 <= score <= total:
            counts[score] += 1
    return counts
