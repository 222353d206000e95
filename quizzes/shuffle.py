"""Per-attempt option order: shuffled, yet the same every time that attempt is shown."""

from __future__ import annotations

import random

from course.content import Option, Question


def option_order(question: Question, seed: int) -> tuple[Option, ...]:
    """The question's options shuffled by (seed, question id).

    A string seed is hashed with SHA-512 by `random.Random`, so the order does not depend on
    PYTHONHASHSEED and is the same in every worker process and after a restart. Keying by the
    question id (not its position) keeps an attempt's order stable when questions are reordered.
    """
    options = list(question.options)
    random.Random(f"{seed}:{question.id}").shuffle(options)
    return tuple(options)
