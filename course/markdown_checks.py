"""Problems in markdown text: code that does not compile, unknown callouts, link targets."""

from __future__ import annotations

from dataclasses import dataclass

from course.content import Problem
from course.markdown_parser import (
    ANNOTATION_KINDS,
    CALLOUT_KINDS,
    INTERNAL_SCHEMES,
    callout_title,
    make_parser,
)

_PARSER = make_parser()


@dataclass(frozen=True)
class LinkRef:
    href: str
    path: str
    line: int


def check_markdown(text: str, path: str, first_line: int, problems: list[Problem]) -> list[LinkRef]:
    """Append the problems in `text` (starting at `first_line` of `path`); return its links."""
    links: list[LinkRef] = []
    for token in _PARSER.parse(text):
        line = first_line + (token.map[0] if token.map else 0)
        if token.type == "fence" and token.info.strip().split(" ")[0] == "python":
            try:
                compile(token.content, path, "exec")
            except SyntaxError as exc:
                problems.append(
                    Problem(
                        path,
                        line + (exc.lineno or 0),
                        f"Python code block does not compile: {exc.msg}",
                    )
                )
        elif token.type == "container_callout_open":
            kind, _ = callout_title(token.info)
            if kind not in CALLOUT_KINDS and kind not in ANNOTATION_KINDS:
                known = ", ".join([*CALLOUT_KINDS, *ANNOTATION_KINDS])
                problems.append(
                    Problem(path, line, f"unknown callout '{kind}' (use one of: {known})")
                )
        for child in token.children or ():
            href = str(child.attrs.get("href", "")) if child.type == "link_open" else ""
            if href.startswith(INTERNAL_SCHEMES):
                links.append(LinkRef(href, path, line))
    return links
