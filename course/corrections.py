"""Corrections in lesson markdown: read them out, and give the body without their originals.

A correction wraps the corrected text and keeps the words it replaced in an `original` block:

    ::: correction it named the headers `x-ratelimit-*`; the API sends `anthropic-ratelimit-*`
    Reading `anthropic-ratelimit-requests-remaining` lets you slow down ...

    ~~~original
    Reading x-ratelimit-remaining-requests lets you slow down ...
    ~~~
    :::

Learners see the corrected text and the note; the original stays in the file for instructors
and the comparison with the course's source text. Nothing else reads it: the body a lesson
carries has the original's lines blanked (so every line number still matches the file), so
neither the page nor the coach ever shows the wrong text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from course.content import Correction, Problem
from course.markdown_parser import callout_title, make_parser

ORIGINAL = "original"
_PARSER = make_parser()


@dataclass
class _Open:
    kind: str
    note: str
    line: int
    originals: list[str] = field(default_factory=list)


def read_corrections(
    body: str, path: str, first_line: int, problems: list[Problem]
) -> tuple[str, list[Correction]]:
    """(the body with every original blanked, its corrections); problems go to `problems`."""
    lines = body.splitlines(keepends=True)
    corrections: list[Correction] = []
    stack: list[_Open] = []
    for token in _PARSER.parse(body):
        line = first_line + (token.map[0] if token.map else 0)
        if token.type == "container_callout_open":
            kind, note = callout_title(token.info)
            if kind == "correction" and not note:
                problems.append(
                    Problem(
                        path, line, "a correction needs a note: `::: correction <what was wrong>`"
                    )
                )
            stack.append(_Open(kind, note, line))
        elif token.type == "container_callout_close" and stack:
            opened = stack.pop()
            if opened.kind != "correction":
                continue
            if len(opened.originals) != 1 or not opened.originals[0]:
                problems.append(
                    Problem(
                        path,
                        opened.line,
                        "a correction needs one `~~~original` block holding the text it replaces",
                    )
                )
            elif opened.note:
                corrections.append(
                    Correction("body", opened.originals[0], opened.note, opened.line)
                )
        elif token.type == "fence" and token.info.strip() == ORIGINAL:
            if not stack or stack[-1].kind != "correction":
                problems.append(
                    Problem(path, line, "an `original` block belongs inside a `::: correction`")
                )
                continue
            stack[-1].originals.append(token.content.strip())
            start, end = token.map or (0, 0)
            for index in range(start, end):
                lines[index] = "\n"
    return "".join(lines), corrections
