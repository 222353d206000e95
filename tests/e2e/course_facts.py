"""What the journeys need to know about the course, read from `course.registry` in this process.

The answers come from the content files, never from the page: a page that leaked the key
would otherwise make its own test pass.
"""

from __future__ import annotations

import re

from course.content import Lab, Lesson, Module, Question, Quiz
from course.registry import get_modules


def module() -> Module:
    modules = get_modules()
    assert modules, "no course module found in CONTENT_DIR"
    return modules[0]


def first_lesson() -> Lesson:
    return module().lessons[0]


def lesson_quiz(lesson: Lesson) -> Quiz:
    quiz = module().quizzes.get(lesson.slug)
    assert quiz is not None, f"lesson {lesson.slug} has no quiz"
    return quiz


def lesson_lab(lesson: Lesson) -> Lab:
    lab = module().lab_for_lesson(lesson.slug)
    assert lab is not None, f"lesson {lesson.slug} has no lab"
    return lab


def module_test() -> Quiz:
    test = module().test
    assert test is not None, "the module has no test"
    return test


def wrong_option_id(question: Question) -> str:
    return next(option.id for option in question.options if not option.correct)


def plain(markdown: str, words: int = 6) -> str:
    """The first words of an inline-markdown string as the page shows them (marks removed)."""
    text = re.sub(r"[`*]", "", markdown)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(text.split()[:words])


def failing_and_passing(test: Quiz, pass_mark: int) -> tuple[dict[str, str], dict[str, str]]:
    """Two full answer sheets: one just below the pass mark, one just at or above it."""
    total = len(test.questions)
    needed = -(-pass_mark * total // 100)  # ceiling: 80 % of 15 is 12
    right = {q.id: q.correct_option.id for q in test.questions}
    failing = {
        q.id: (right[q.id] if i < needed - 1 else wrong_option_id(q))
        for i, q in enumerate(test.questions)
    }
    passing = {
        q.id: (right[q.id] if i < needed else wrong_option_id(q))
        for i, q in enumerate(test.questions)
    }
    return failing, passing
