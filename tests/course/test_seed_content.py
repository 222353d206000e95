"""The course content carries everything in the seed: lessons, questions word for word, labs."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from course.content import Correction
from course.markdown_parser import callout_title, make_parser
from course.registry import load_module, module_folders
from tests.conftest import require_seed

SEED_FILE = "module-8-production-patterns.txt"

# Where the seed is wrong, the content shows corrected text with a note and keeps the seed's
# words as the correction's `original`: those are compared here, so every difference from the
# seed is a correction a learner can see.


def shown_or_original(text: str, correction: Correction | None) -> str:
    return correction.original if correction is not None else text


def flat(text: str) -> str:
    """Whitespace collapsed: the seed flattens code and lists onto single lines."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    text = (require_seed() / SEED_FILE).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def module():
    folders = [f for f in module_folders(settings.CONTENT_DIR) if "production-patterns" in f.name]
    assert folders, "content/module-08-production-patterns is missing"
    return load_module(folders[0])


def seed_questions(lines: list[str]) -> list[tuple[str, str, str]]:
    """(prompt, correct explanation, wrong explanation) for each question in the seed."""
    found = []
    for index, line in enumerate(lines):
        if line.startswith("Correct.") and index > 0:
            prompt = re.sub(r"^\d+\.\s*", "", lines[index - 1])
            found.append((prompt, line, lines[index + 1]))
    return found


def test_every_seed_question_is_in_the_content_word_for_word(seed_lines, module):
    seed = seed_questions(seed_lines)
    content = {
        shown_or_original(q.explanation_correct, q.correction("explanation.correct")): q
        for _, q in module.all_questions()
    }
    assert len(seed) == 27 == len(content)
    for prompt, right, wrong in seed:
        question = content.get(right)
        assert question is not None, f"no question has the explanation {right[:60]!r}"
        incorrect = question.correction("explanation.incorrect")
        assert shown_or_original(question.explanation_incorrect, incorrect) == wrong
        assert shown_or_original(question.prompt, question.prompt_correction) == prompt


def test_quizzes_follow_the_seed_three_per_lesson_and_fifteen_in_the_test(module):
    assert [len(module.quizzes[lesson.slug].questions) for lesson in module.lessons] == [3, 3, 3, 3]
    assert module.test is not None and len(module.test.questions) == 15
    assert module.pass_mark == 80


def test_every_question_has_four_options_and_one_correct(module):
    for _, question in module.all_questions():
        assert len(question.options) == 4
        assert sum(option.correct for option in question.options) == 1


def test_lessons_carry_the_seed_titles_hooks_and_key_concepts(seed_lines, module):
    text = "\n".join(seed_lines)
    assert len(module.lessons) == 4
    for lesson in module.lessons:
        assert f"Module 8 · Lesson {lesson.number}" in text
        assert lesson.title in text and lesson.hook in text
        assert lesson.glossary, f"{lesson.slug} has no key concepts"
        for entry in lesson.glossary:
            definition = shown_or_original(entry.definition, entry.correction)
            assert f"{entry.term}{definition}" in text


def test_every_lesson_has_its_callouts_and_formatted_code(module):
    bodies = "\n".join(lesson.body for lesson in module.lessons)
    for callout in ("::: principle", "::: monitoring", "::: checklist"):
        assert callout in bodies
    for lesson in module.lessons:
        blocks = re.findall(r"```python\n(.*?)```", lesson.body, flags=re.S)
        assert blocks, f"{lesson.slug} has no Python code block"
        assert all(block.count("\n") > 3 for block in blocks), "code must not be one line"
    assert "x-ratelimit-remaining" not in bodies.replace("`x-ratelimit-", "")
    assert "anthropic-ratelimit-requests-remaining" in bodies


def test_every_correction_keeps_the_seed_words_it_replaces(seed_lines, module):
    seed = flat(" ".join(seed_lines))
    corrections = module.corrections()
    assert corrections
    for path, correction in corrections:
        assert correction.note and correction.original
        assert flat(correction.original) in seed, f"{path}:{correction.line}: original not in seed"


def test_lesson_prose_outside_corrections_is_the_seed_word_for_word(seed_lines, module):
    """So no change from the seed reaches a learner without a correction note."""
    seed = flat(" ".join(seed_lines))
    parser = make_parser()
    for lesson in module.lessons:
        kinds: list[str] = []
        for token in parser.parse(lesson.body):
            if token.type == "container_callout_open":
                kinds.append(callout_title(token.info)[0])
            elif token.type == "container_callout_close":
                kinds.pop()
            elif token.type == "inline" and "correction" not in kinds:
                words = flat(token.content.replace("`", ""))
                assert words in seed, f"{lesson.path}: not in the seed: {words[:80]!r}"


def test_labs_carry_the_seed_mission_opener_greeting_and_coach(seed_lines, module):
    text = "\n".join(seed_lines)
    assert len(module.labs) == 4
    for lab in module.labs:
        assert f"Lab {lab.number} — {lab.title}" in text
        assert lab.mission in text
        assert f'Suggested opener: "{lab.opener}"' in text
        assert lab.greeting in text
        assert lab.coach.name in text
        assert lab.coach.persona and lab.coach.questions
