"""check_content reports one `path:line: message` per problem, for every kind of problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from course.registry import load_module


def problems(folder: Path) -> list[str]:
    return [str(problem) for problem in load_module(folder).problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture text {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_it_accepts_the_sample_module(sample_content):
    module = load_module(sample_content)
    assert module.problems == ()
    assert [lesson.slug for lesson in module.lessons] == ["first", "second"]
    assert module.quizzes["first"].questions[0].correct_option.id == "retry-after"
    assert module.test is not None and module.labs[0].coach.name == "Sample Coach"


BREAKAGES = [
    pytest.param(
        "quizzes/01-first.yaml", "questions:", "questions: [", 4, "invalid YAML", id="bad-yaml"
    ),
    pytest.param(
        "quizzes/01-first.yaml",
        "title: First Lesson",
        "title: First Lesson\ncolour: red",
        3,
        "unknown key 'colour'",
        id="unknown-key",
    ),
    pytest.param(
        "labs/01-first-lab.yaml",
        "greeting: Hello, tell me about your batch.\n",
        "",
        1,
        "missing the key 'greeting'",
        id="missing-key",
    ),
    pytest.param(
        "quizzes/01-first.yaml",
        "      - id: date",
        "      - id: remaining",
        13,
        "duplicate option id 'remaining'",
        id="duplicate-option",
    ),
    pytest.param(
        "test.yaml",
        "  - id: status-code",
        "  - id: header-on-429",
        3,
        "duplicate question id 'header-on-429'",
        id="duplicate-question",
    ),
    pytest.param(
        "quizzes/01-first.yaml",
        '        text: "`date`"',
        '        text: "`date`"\n        correct: true',
        7,
        "2 correct options; it needs exactly one",
        id="two-correct",
    ),
    pytest.param(
        "test.yaml", "        correct: true\n", "", 6, "0 correct options", id="no-correct"
    ),
    pytest.param(
        "quizzes/01-first.yaml",
        "      incorrect: Not quite. Use retry-after.\n",
        "",
        18,
        "missing the key 'incorrect'",
        id="missing-explanation",
    ),
    pytest.param(
        "quizzes/01-first.yaml",
        '      - id: server\n        text: "`server`"\n',
        "",
        7,
        "has 3 options; it needs exactly 4",
        id="three-options",
    ),
    pytest.param(
        "lessons/01-first.md",
        "    return min(60.0, 2**attempt) * random.random()",
        "    return min(60.0, 2**attempt) * random.random(",
        24,
        "Python code block does not compile",
        id="code-does-not-compile",
    ),
    pytest.param(
        "lessons/01-first.md",
        "(lesson:second)",
        "(lesson:third)",
        17,
        "broken link 'lesson:third'",
        id="broken-link",
    ),
    pytest.param(
        "lessons/01-first.md",
        "::: principle",
        "::: sidebar",
        27,
        "unknown callout 'sidebar'",
        id="unknown-callout",
    ),
    pytest.param(
        "lessons/01-first.md",
        "number: 1\n",
        "number: one\n",
        3,
        "number must be a whole number",
        id="wrong-type",
    ),
    pytest.param(
        "labs/01-first-lab.yaml",
        "lesson: first",
        "lesson: nowhere",
        1,
        "names an unknown lesson 'nowhere'",
        id="unknown-lesson",
    ),
    pytest.param(
        "labs/01-first-lab.yaml",
        "    - What happens when one request fails for good?",
        "    - What happens when one request fails for good?\n"
        "  section_questions:\n    Backof:\n      - How long do you wait?",
        15,
        "section_questions names 'Backof': no lesson has it",
        id="unknown-section",
    ),
    pytest.param(
        "labs/01-first-lab.yaml",
        "    - What happens when one request fails for good?",
        "    - What happens when one request fails for good?\n"
        "  section_questions:\n    Backoff: How long do you wait?",
        15,
        "section_questions for 'Backoff' must be a list",
        id="section-questions-not-a-list",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "line", "message"), BREAKAGES)
def test_it_reports_each_problem_with_file_and_line(sample_content, file, old, new, line, message):
    edit(sample_content / file, old, new)

    found = problems(sample_content)

    matching = [p for p in found if message in p]
    assert matching, f"expected {message!r} in {found}"
    path, line_no, _ = matching[0].split(":", 2)
    assert path.endswith(file.split("/")[-1]) or path.endswith("labs") or path.endswith("quizzes")
    assert int(line_no) == line


def test_it_reports_every_problem_not_just_the_first(sample_content):
    edit(sample_content / "quizzes/01-first.yaml", "title: First Lesson", "title: First\nsize: 1")
    edit(sample_content / "lessons/01-first.md", "(lesson:second)", "(lesson:third)")
    edit(sample_content / "test.yaml", "        correct: true\n", "")

    assert len(problems(sample_content)) >= 3


def test_check_content_prints_path_line_message_and_fails(sample_content, capsys):
    edit(sample_content / "lessons/01-first.md", "(lesson:second)", "(lesson:third)")
    edit(sample_content / "test.yaml", "        correct: true\n", "")

    with pytest.raises(CommandError, match="2 content problems"):
        call_command("check_content", content_dir=sample_content.parent)

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert all(re.match(r"^\S+:\d+: .+", line) for line in lines)


def test_check_content_passes_on_good_content(sample_content, capsys):
    call_command("check_content", content_dir=sample_content.parent)
    assert "2 lessons, 1 quizzes, 1 test questions, 1 labs: OK" in capsys.readouterr().out


def test_the_real_course_content_is_valid(capsys):
    call_command("check_content")
    assert "OK" in capsys.readouterr().out


def test_content_problems_are_a_django_system_check(sample_content):
    from course.checks import content_check

    edit(sample_content / "test.yaml", "        correct: true\n", "")

    errors = content_check()
    assert len(errors) == 1 and "0 correct options" in errors[0].msg


def test_coaching_questions_are_read_per_section(sample_content):
    edit(
        sample_content / "labs/01-first-lab.yaml",
        "    - What happens when one request fails for good?",
        "    - What happens when one request fails for good?\n"
        "  section_questions:\n"
        "    backoff:\n      - How long do you wait?\n"
        "    Key concepts:\n      - Which term is new to you?",
    )
    module = load_module(sample_content)
    assert module.problems == ()
    coach = module.labs[0].coach
    assert coach.questions_for("Backoff") == ("How long do you wait?",)
    assert coach.questions_for("Nowhere", "Key concepts") == ("Which term is new to you?",)
    assert coach.questions_for("Nowhere") == ()
