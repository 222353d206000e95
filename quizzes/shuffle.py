"""Per-attempt option order: shuffled, yet the same every time that attempt is shown."""

from __future__ import annotations

import hashlib
import random

from course.content import Option, Question


def attempt_seed(user_id: int, module: str, quiz: str, ordinal: int) -> int:
    """The seed of a learner's attempt at a quiz, `ordinal` counting their earlier attempts.

    It is known before the attempt is stored, so the quiz page can show the order an attempt
    will have without writing anything: the first answer stores the attempt with this seed.
    """
    digest = hashlib.sha256(f"{user_id}:{module}:{quiz}:{ordinal}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1  # fits a PositiveIntegerField everywhere


def option_order(question: Question, seed: int) -> tuple[Option, ...]:
    """The question's options shuffled by (seed, question id).

    A string seed is hashed with SHA-512 by `random.Random`, so the order does not depend on
    PYTHONHASHSEED and is the same in every worker process and after a restart. Keying by the
    question id (not its position) keeps an attempt's order stable when questions are reordered.
    """
    options = list(question.options)
    random.Random(f"{seed}:{question.id}").shuffle(options)
    return tuple(options)
