"""A module's lessons cut into passages the offline coach can answer from and cite.

Each lesson gives prose paragraphs, lists (with the `###` heading they sit under), callouts,
code blocks (with the names they define) and its key-concept entries. Every passage knows its
lesson and `##` section and the anchor of that section on the lesson page, so a reply can link
to exactly where it drew from.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from mdit_py_plugins.anchors.index import slugify

from course.content import Lesson
from course.markdown_parser import ANNOTATION_KINDS, CALLOUT_KINDS

PROSE = "prose"
LIST = "list"
CALLOUT = "callout"
CODE = "code"
CONCEPT = "concept"
ACCOUNT = "account"  # the course's own account of an event: not offered as an answer
KEY_CONCEPTS = "Key concepts"  # course.loader.KEY_CONCEPTS: the glossary's section
KEY_CONCEPTS_ANCHOR = "glossary-title"  # the glossary's heading id on the lesson page
MIN_PROSE_CHARS = 40

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(\[*])")
_CONTAINER_OPEN = re.compile(r"^(:{3,})\s*(\w+)\s*(.*)$")
_CONTAINER_CLOSE = re.compile(r"^:{3,}\s*$")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class Passage:
    key: str  # "<lesson slug>/<number within the lesson>": stable while the lesson is unchanged
    kind: str  # PROSE, LIST, CALLOUT, CODE or CONCEPT
    lesson_slug: str
    lesson_number: int
    lesson_title: str
    section: str  # the `##` heading it sits under ("" for the opening story)
    anchor: str  # that heading's id on the lesson page ("" for the opening story)
    text: str  # prose as one line per paragraph; list items one per line; code as written
    heading: str = ""  # a `###` heading or a callout's title
    language: str = ""  # code blocks only
    names: tuple[str, ...] = field(default=())  # functions and classes a code block defines

    @property
    def link(self) -> str:
        target = f"lesson:{self.lesson_slug}"
        return f"{target}#{self.anchor}" if self.anchor else target

    @property
    def where(self) -> str:
        """How a reply names the place: "Lesson 1 · Understanding the HTTP 429"."""
        place = self.section or "introduction"
        return f"Lesson {self.lesson_number} · {place}"

    @property
    def index_text(self) -> str:
        """The words retrieval reads: the place, the heading and the text."""
        return " ".join([self.section, self.heading, *self.names, self.text])


def sentences(text: str) -> list[str]:
    """Whole sentences of a prose passage (a list passage: one item per sentence)."""
    found: list[str] = []
    for line in text.splitlines():
        found.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return found


def defined_names(code: str) -> tuple[str, ...]:
    """Top-level functions and classes (and methods) a Python block defines, in order."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ()
    names: list[str] = []
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in ast.walk(tree):
        if isinstance(node, definitions) and not node.name.startswith("__"):
            names.append(node.name)
    return tuple(names)


class _Cutter:
    """Walks one lesson body line by line and emits its passages."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.section = ""
        self.anchor = ""
        self.heading = ""
        self.callout = ""
        self.account = False
        self.containers: list[str] = []  # kinds of the `:::` blocks we are inside, outermost first
        self.block: list[str] = []
        self.items: list[str] = []
        self.passages: list[Passage] = []
        self.anchors: dict[str, int] = {}

    def emit(self, kind: str, text: str, **extra: object) -> None:
        lesson = self.lesson
        self.passages.append(
            Passage(
                key=f"{lesson.slug}/{len(self.passages)}",
                kind=kind,
                lesson_slug=lesson.slug,
                lesson_number=lesson.number,
                lesson_title=lesson.title,
                section=self.section,
                anchor=self.anchor,
                text=text,
                **extra,  # type: ignore[arg-type]
            )
        )

    def flush(self) -> None:
        if self.callout:
            # A callout is one passage: its opening sentence and its list belong together.
            lines = [" ".join(self.block).strip(), *self.items]
            self.block.clear()
            self.items.clear()
            text = "\n".join(line for line in lines if line)
            if text:
                self.emit(ACCOUNT if self.account else CALLOUT, text, heading=self.callout)
            return
        if self.block:
            text = " ".join(self.block).strip()
            self.block.clear()
            if len(text) >= MIN_PROSE_CHARS:
                self.emit(ACCOUNT if self.account else PROSE, text, heading=self.heading)
        if self.items:
            self.emit(LIST, "\n".join(self.items), heading=self.heading)
            self.items.clear()

    def new_anchor(self, title: str) -> str:
        # The page's anchors come from the same slug function, numbered when repeated.
        base = slugify(title)
        seen = self.anchors.get(base, 0)
        self.anchors[base] = seen + 1
        return base if not seen else f"{base}-{seen + 1}"

    def cut(self) -> list[Passage]:
        lines = iter(self.lesson.body.splitlines())
        for line in lines:
            stripped = line.strip()
            fence = _FENCE.match(stripped)
            if fence:
                self.flush()
                self.code(fence.group(1), fence.group(2), lines)
            elif stripped.startswith("## "):
                self.flush()
                self.section = stripped[3:].strip()
                self.anchor = self.new_anchor(self.section)
                self.heading = ""
            elif stripped.startswith("### "):
                self.flush()
                self.heading = stripped[4:].strip()
                self.new_anchor(self.heading)
            elif stripped.startswith(":::"):
                self.container(stripped)
            elif not stripped:
                if not self.callout:
                    self.flush()
            elif _LIST_ITEM.match(stripped):
                if self.block and not self.callout:
                    self.flush()
                self.items.append(_LIST_ITEM.sub("", stripped))
            elif self.items and line.startswith((" ", "\t")):
                self.items[-1] += " " + stripped
            else:
                if self.items and not self.callout:
                    self.flush()
                self.block.append(stripped)
        self.flush()
        for entry in self.lesson.glossary:
            self.passages.append(
                Passage(
                    key=f"{self.lesson.slug}/{len(self.passages)}",
                    kind=CONCEPT,
                    lesson_slug=self.lesson.slug,
                    lesson_number=self.lesson.number,
                    lesson_title=self.lesson.title,
                    section=KEY_CONCEPTS,
                    anchor=KEY_CONCEPTS_ANCHOR,
                    heading=entry.term,
                    text=f"{entry.term}: {entry.definition}",
                )
            )
        return self.passages

    def container(self, line: str) -> None:
        """A `:::` line: a callout is one passage; a correction is ordinary lesson text (its
        original is already blanked out of the body); an account is kept apart."""
        self.flush()
        opened = _CONTAINER_OPEN.match(line)
        if opened:
            kind, title = opened.group(2), opened.group(3).strip()
            self.containers.append(kind)
            if kind not in ANNOTATION_KINDS and not self.callout:
                self.callout = title or CALLOUT_KINDS.get(kind, kind.title())
        elif _CONTAINER_CLOSE.match(line) and self.containers:
            self.containers.pop()
            if all(kind in ANNOTATION_KINDS for kind in self.containers):
                self.callout = ""
        self.account = "account" in self.containers

    def code(self, fence: str, language: str, lines: Iterator[str]) -> None:
        body: list[str] = []
        for line in lines:
            if line.strip().startswith(fence):
                break
            body.append(line)
        code = "\n".join(body).strip("\n")
        if not code.strip():
            return
        names = defined_names(code) if language == "python" else ()
        self.emit(CODE, code, heading=self.heading, language=language, names=names)


def lesson_passages(lesson: Lesson) -> list[Passage]:
    return _Cutter(lesson).cut()


def module_passages(lessons: Iterable[Lesson]) -> list[Passage]:
    return [passage for lesson in lessons for passage in lesson_passages(lesson)]
