from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from course.content import Option, Question
from quizzes.shuffle import attempt_seed, option_order

QUESTION = Question(
    "q1", "Prompt", tuple(Option(o, o.upper(), o == "a") for o in "abcd"), "Correct.", "Not quite."
)


def ids(seed: int) -> list[str]:
    return [option.id for option in option_order(QUESTION, seed)]


def test_the_same_attempt_always_gets_the_same_order():
    assert all(ids(42) == ids(42) for _ in range(20))


def test_the_order_is_a_permutation_of_the_options():
    for seed in range(50):
        assert sorted(ids(seed)) == ["a", "b", "c", "d"]


def test_different_attempts_get_different_orders():
    orders = {tuple(ids(seed)) for seed in range(1, 41)}
    assert len(orders) > 10
    # The correct option is not always first (or anywhere fixed).
    assert len({order.index("a") for order in orders}) == 4


def test_the_order_survives_a_restart_with_a_different_hash_seed():
    code = (
        "from course.content import Option, Question; from quizzes.shuffle import option_order;"
        "q = Question('q1', 'P', tuple(Option(o, o, o == 'a') for o in 'abcd'), 'C', 'N');"
        "print(''.join(o.id for o in option_order(q, 7)))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(hash_seed), "PATH": ""},
            cwd=Path(__file__).resolve().parents[2],
            timeout=30,
        ).stdout.strip()
        for hash_seed in (1, 2, 3)
    }
    assert runs == {"".join(ids(7))}


def test_each_learner_and_each_attempt_gets_its_own_seed():
    seeds = {
        attempt_seed(user, module, quiz, ordinal)
        for user in (1, 2)
        for module in ("m", "n")
        for quiz in ("alpha", "test")
        for ordinal in range(5)
    }
    assert len(seeds) == 40
    assert all(0 <= seed < 2**31 for seed in seeds)  # a PositiveIntegerField on every database
    assert attempt_seed(1, "m", "alpha", 0) == attempt_seed(1, "m", "alpha", 0)
