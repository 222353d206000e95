"""The one markdown-it configuration shared by rendering and validation."""

from __future__ import annotations

from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin

CALLOUT_KINDS = {
    "principle": "Production Principle",
    "monitoring": "Monitoring Tip",
    "checklist": "Operational Checklist",
    "note": "Note",
}
# Blocks that mark text rather than set it apart: corrected course text (the words after the
# kind are the note learners see) and the course's own account of an event (the words after
# the kind, if any, name a source or qualify it).
ANNOTATION_KINDS = {
    "correction": "Corrected from the original course text:",
    "account": "The course's account:",
}
ACCOUNT_REMARK = "told to illustrate the point; not from a published source."
INTERNAL_SCHEMES = ("lesson:", "quiz:", "lab:", "test:")


def callout_title(info: str) -> tuple[str, str]:
    """Split a container's info string `kind Title words` into (kind, title)."""
    kind, _, title = info.strip().partition(" ")
    return kind, title.strip() or CALLOUT_KINDS.get(kind, "")


def _aligned_by_class(state: StateCore) -> None:
    """A table column's alignment (`|:-:|`) as a class, not a style attribute: the site's
    Content-Security-Policy refuses inline styles (`align-left`, `align-center`, `align-right`)."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and "style" in token.attrs:
            style = str(token.attrs.pop("style"))
            side = style.removeprefix("text-align:").strip()
            if side in ("left", "center", "right"):
                token.attrJoin("class", f"align-{side}")


def make_parser(highlight: Callable[[str, str, str], str] | None = None) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "highlight": highlight}).enable("table")
    md.core.ruler.push("aligned_by_class", _aligned_by_class)
    md.use(anchors_plugin, min_level=2, max_level=3)
    # Any `::: word` opens a callout; the validator reports unknown kinds with their line.
    md.use(container_plugin, name="callout", validate=lambda params, *args: bool(params.strip()))
    return md
