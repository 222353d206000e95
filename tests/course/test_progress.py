"""The course map's arithmetic: steps done, and where "Continue" leads."""

from __future__ import annotations

import pytest

from course.progress import CourseMap, LessonBlock, Step


def step(key: str, done: bool = False, status: str = "") -> Step:
    return Step(key, key.partition(":")[0], key, key, f"/{key}/", status, done)


def course(done: set[str], started: frozenset[str] = frozenset()) -> CourseMap:
    blocks = [
        LessonBlock(
            *(
                step(key, key in done, "s" if key in done | started else "")
                for key in (f"lesson:{n}", f"quiz:{n}", f"lab:{n}")
            )
        )
        for n in (1, 2)
    ]
    return CourseMap(blocks, step("test:", "test:" in done))


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        (set(), "lesson:1"),
        ({"lesson:1"}, "quiz:1"),
        ({"lesson:1", "quiz:1", "lab:1"}, "lesson:2"),
        # Where the learner left off: after the furthest step done, not back to a skipped one.
        ({"lesson:1", "lesson:2"}, "quiz:2"),
        ({"lesson:1", "quiz:1", "lesson:2", "quiz:2", "lab:2", "test:"}, "lab:1"),
    ],
)
def test_continue_leads_to_the_next_unfinished_step(done, expected):
    target = course(done).next_step
    assert target is not None and target.key == expected


def test_a_finished_module_has_nowhere_to_continue_and_counts_every_step():
    keys = {f"{kind}:{n}" for kind in ("lesson", "quiz", "lab") for n in (1, 2)} | {"test:"}
    finished = course(keys)
    assert finished.next_step is None
    assert (finished.done, finished.total, finished.percent) == (7, 7, 100)


def test_a_started_step_is_in_progress_and_not_done():
    started = course(set(), frozenset({"quiz:1"}))
    quiz = started.blocks[0].quiz
    assert quiz is not None and quiz.started and not quiz.done
    assert started.done == 0
