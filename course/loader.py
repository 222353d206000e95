"""Load a module folder into typed content, collecting every problem with its file and line.

A file that fails to load is recorded as broken (its page shows why); the rest of the module
still loads. Loading is cached per process and keyed by every file's mtime and size, so an
instructor's edit shows on the next page load without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path

import yaml

from course.content import (
    Coach,
    GlossaryEntry,
    Lab,
    Lesson,
    Option,
    Problem,
    Question,
    Quiz,
)
from course.corrections import read_corrections
from course.markdown_checks import check_markdown
from course.yamlread import YamlReader

logger = logging.getLogger(__name__)

OPTIONS_PER_QUESTION = 4
_QUESTION_KEYS = {"id", "prompt", "options", "explanation"}


def display_path(path: Path, root: Path) -> str:
    """A path an instructor can open: relative to the working folder when inside it."""
    for base in (Path.cwd(), root):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def _read(path: Path, reader: YamlReader) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reader.problems.append(Problem(reader.path, 1, f"cannot read the file: {exc}"))
        return None


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (front matter, body, body's first line number) or None when there is none."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    return None


def _question(reader: YamlReader, node: yaml.Node) -> Question | None:
    keys = reader.mapping(node, "a question", _QUESTION_KEYS)
    if keys is None:
        return None
    qid = reader.slug(keys.get("id"), "question id")
    where = f"question '{qid}'"
    prompt, prompt_fix = reader.corrected_text(keys.get("prompt"), f"{where}: prompt", "prompt")
    options: list[Option] = []
    seen: set[str] = set()
    for option_node in reader.sequence(keys.get("options"), f"{where}: options"):
        option_keys = reader.mapping(
            option_node, f"{where}: an option", {"id", "text"}, frozenset({"correct", "feedback"})
        )
        if option_keys is None:
            continue
        oid = reader.slug(option_keys.get("id"), f"{where}: option id")
        if oid in seen:
            reader.report(option_keys.get("id"), f"{where}: duplicate option id '{oid}'")
        seen.add(oid)
        correct_node = option_keys.get("correct")
        feedback_node = option_keys.get("feedback")
        options.append(
            Option(
                id=oid,
                text=reader.text(option_keys.get("text"), f"{where}: option '{oid}' text"),
                correct=reader.boolean(correct_node, f"{where}: option '{oid}' correct")
                if correct_node is not None
                else False,
                feedback=reader.text(feedback_node, f"{where}: option '{oid}' feedback")
                if feedback_node is not None
                else "",
            )
        )
    if "options" in keys and len(options) != OPTIONS_PER_QUESTION:
        reader.report(
            keys["options"],
            f"{where} has {len(options)} options; it needs exactly {OPTIONS_PER_QUESTION}",
        )
    correct = sum(option.correct for option in options)
    if options and correct != 1:
        reader.report(
            keys.get("options"), f"{where} has {correct} correct options; it needs exactly one"
        )
    explanation = (
        reader.mapping(keys.get("explanation"), f"{where}: explanation", {"correct", "incorrect"})
        if "explanation" in keys
        else None
    )
    right, right_fix = (
        reader.corrected_text(
            explanation.get("correct"), f"{where}: explanation.correct", "explanation.correct"
        )
        if explanation
        else ("", None)
    )
    wrong, wrong_fix = (
        reader.corrected_text(
            explanation.get("incorrect"), f"{where}: explanation.incorrect", "explanation.incorrect"
        )
        if explanation
        else ("", None)
    )
    if not (qid and prompt and right and wrong and correct == 1):
        return None
    corrections = tuple(fix for fix in (prompt_fix, right_fix, wrong_fix) if fix is not None)
    return Question(qid, prompt, tuple(options), right, wrong, corrections)


def _questions(reader: YamlReader, node: yaml.Node | None, what: str) -> tuple[Question, ...]:
    questions = []
    for question_node in reader.sequence(node, f"{what}: questions"):
        question = _question(reader, question_node)
        if question is not None:
            questions.append(question)
    return tuple(questions)


def load_quiz(
    path: Path, root: Path, *, is_test: bool
) -> tuple[Quiz | None, list[Problem], dict[str, int]]:
    """Return the quiz, its problems, and each question id's line (for duplicate reports)."""
    reader = YamlReader(display_path(path, root))
    text = _read(path, reader)
    node = reader.parse(text) if text is not None else None
    if node is None:
        return None, reader.problems, {}
    required = {"title", "questions"} if is_test else {"lesson", "title", "questions"}
    keys = reader.mapping(node, "the test" if is_test else "the quiz", required)
    if keys is None:
        return None, reader.problems, {}
    slug = "test" if is_test else reader.slug(keys.get("lesson"), "lesson")
    title = reader.text(keys.get("title"), "title")
    questions = _questions(reader, keys.get("questions"), "the test" if is_test else "the quiz")
    lines = {}
    for question_node in (
        keys["questions"].value
        if "questions" in keys and isinstance(keys["questions"], yaml.SequenceNode)
        else []
    ):
        if isinstance(question_node, yaml.MappingNode):
            for key_node, value_node in question_node.value:
                if key_node.value == "id" and isinstance(value_node, yaml.ScalarNode):
                    lines[str(value_node.value)] = value_node.start_mark.line + 1
    for question in questions:
        check_markdown(question.prompt, reader.path, lines.get(question.id, 1), reader.problems)
    if reader.problems or not slug or not title:
        return (
            (Quiz(slug, title, questions, is_test, reader.path) if slug and questions else None),
            reader.problems,
            lines,
        )
    return Quiz(slug, title, questions, is_test, reader.path), reader.problems, lines


def load_lesson(path: Path, root: Path) -> tuple[Lesson | None, list[Problem]]:
    reader = YamlReader(display_path(path, root), line_offset=1)
    text = _read(path, reader)
    if text is None:
        return None, reader.problems
    parts = split_front_matter(text)
    if parts is None:
        reader.problems.append(
            Problem(
                reader.path, 1, "a lesson must start with YAML front matter between two '---' lines"
            )
        )
        return None, reader.problems
    front, body, body_line = parts
    node = reader.parse(front)
    keys = (
        reader.mapping(
            node, "the front matter", {"slug", "number", "title", "tagline", "hook", "glossary"}
        )
        if node is not None
        else None
    )
    if keys is None:
        return None, reader.problems
    glossary = []
    for entry in reader.sequence(keys.get("glossary"), "glossary"):
        entry_keys = reader.mapping(entry, "a glossary entry", {"term", "definition"})
        if entry_keys is not None:
            definition, fix = reader.corrected_text(
                entry_keys.get("definition"), "glossary definition", "definition"
            )
            term = reader.text(entry_keys.get("term"), "glossary term")
            glossary.append(GlossaryEntry(term, definition, fix))
    if not body.strip():
        reader.problems.append(
            Problem(reader.path, body_line, "the lesson has no text after the front matter")
        )
    body, body_corrections = read_corrections(body, reader.path, body_line, reader.problems)
    check_markdown(body, reader.path, body_line, reader.problems)
    lesson = Lesson(
        slug=reader.slug(keys.get("slug"), "slug"),
        number=reader.integer(keys.get("number"), "number", 1, 999),
        title=reader.text(keys.get("title"), "title"),
        tagline=reader.text(keys.get("tagline"), "tagline"),
        hook=reader.text(keys.get("hook"), "hook"),
        body=body,
        glossary=tuple(glossary),
        path=reader.path,
        body_line=body_line,
        corrections=tuple(
            [entry.correction for entry in glossary if entry.correction] + body_corrections
        ),
    )
    return (lesson if lesson.slug and lesson.title else None), reader.problems


KEY_CONCEPTS = "Key concepts"  # the glossary's heading on the lesson page


def section_headings(body: str) -> list[str]:
    """The `##` and `###` headings of a lesson body, code blocks left out."""
    headings = []
    fence = ""
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = "" if fence == marker else (fence or marker)
        elif not fence and stripped.startswith(("## ", "### ")):
            headings.append(stripped.lstrip("#").strip())
    return headings


def _section_questions(
    reader: YamlReader, node: yaml.Node | None, headings: Collection[str] | None
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`section_questions`: a mapping of lesson section heading to a list of questions.

    `headings`: every `##` and `###` heading of the module's lessons (casefolded), to report a
    heading no lesson has; None when a lesson failed to load, so the check would mislead.
    "Key concepts" (the glossary) is a section too."""
    if not isinstance(node, yaml.MappingNode):
        reader.report(node, "coach section_questions must map a section heading to questions")
        return ()
    found = []
    seen: set[str] = set()
    for key_node, value_node in node.value:
        heading = reader.text(key_node, "a section_questions heading")
        if heading.casefold() in seen:
            reader.report(key_node, f"section_questions repeats the section '{heading}'")
        elif (
            heading
            and headings is not None
            and heading.casefold() not in headings
            and heading.casefold() != KEY_CONCEPTS.casefold()
        ):
            reader.report(key_node, f"section_questions names '{heading}': no lesson has it")
        seen.add(heading.casefold())
        questions = tuple(
            reader.text(q, f"a coaching question for '{heading}'")
            for q in reader.sequence(value_node, f"section_questions for '{heading}'")
        )
        if heading and questions:
            found.append((heading, questions))
    return tuple(found)


def load_lab(
    path: Path, root: Path, headings: Collection[str] | None = None
) -> tuple[Lab | None, list[Problem]]:
    reader = YamlReader(display_path(path, root))
    text = _read(path, reader)
    node = reader.parse(text) if text is not None else None
    keys = (
        reader.mapping(
            node,
            "the lab",
            {"slug", "number", "lesson", "title", "mission", "opener", "greeting", "coach"},
            frozenset({"subtitle"}),
        )
        if node
        else None
    )
    if keys is None:
        return None, reader.problems
    coach_keys = (
        reader.mapping(
            keys.get("coach"),
            "coach",
            {"name", "persona", "questions"},
            frozenset({"section_questions"}),
        )
        if "coach" in keys
        else None
    )
    coach = Coach(
        name=reader.text(coach_keys.get("name"), "coach name") if coach_keys else "",
        persona=reader.text(coach_keys.get("persona"), "coach persona") if coach_keys else "",
        questions=tuple(
            reader.text(q, "coaching question")
            for q in reader.sequence(coach_keys.get("questions"), "coach questions")
        )
        if coach_keys
        else (),
        section_questions=_section_questions(reader, coach_keys.get("section_questions"), headings)
        if coach_keys and "section_questions" in coach_keys
        else (),
    )
    lab = Lab(
        slug=reader.slug(keys.get("slug"), "slug"),
        number=reader.integer(keys.get("number"), "number", 1, 999),
        lesson=reader.slug(keys.get("lesson"), "lesson"),
        title=reader.text(keys.get("title"), "title"),
        subtitle=reader.text(keys.get("subtitle"), "subtitle") if "subtitle" in keys else "",
        mission=reader.text(keys.get("mission"), "mission"),
        opener=reader.text(keys.get("opener"), "opener"),
        greeting=reader.text(keys.get("greeting"), "greeting"),
        coach=coach,
    )
    return (lab if lab.slug and lab.title and coach.name else None), reader.problems


def load_module_meta(path: Path, root: Path) -> tuple[dict[str, object], list[Problem]]:
    reader = YamlReader(display_path(path, root))
    text = _read(path, reader)
    node = reader.parse(text) if text is not None else None
    keys = (
        reader.mapping(node, "module.yaml", {"slug", "number", "title", "summary", "pass_mark"})
        if node
        else None
    )
    if keys is None:
        return {}, reader.problems
    meta: dict[str, object] = {
        "slug": reader.slug(keys.get("slug"), "slug"),
        "number": reader.integer(keys.get("number"), "number", 0, 999),
        "title": reader.text(keys.get("title"), "title"),
        "summary": reader.text(keys.get("summary"), "summary"),
        "pass_mark": reader.integer(keys.get("pass_mark"), "pass_mark", 1, 100),
    }
    return {k: v for k, v in meta.items() if v != ""}, reader.problems
