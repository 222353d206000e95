"""Markdown to safe HTML: highlighted code, callouts, internal links; cached by content hash.

Rendering a lesson costs milliseconds while serving it from memory costs microseconds, so the
sanitised HTML is kept per process, keyed by a hash of the markdown and the link targets.
"""

from __future__ import annotations

import hashlib
import html
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import nh3
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from course.markdown_parser import (
    ACCOUNT_REMARK,
    ANNOTATION_KINDS,
    INTERNAL_SCHEMES,
    callout_title,
    make_parser,
)

LinkResolver = Callable[[str], str | None]
T = TypeVar("T")

_ALLOWED_TAGS = {
    "a", "abbr", "aside", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p", "pre", "span", "strong", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id"},
    "a": {"href", "title"},
    "aside": {"aria-label", "role"},
    "div": {"aria-label", "role", "tabindex"},
    "pre": {"tabindex", "aria-label"},
}
# Text written by others (a coach's reply) shares a page with the page's own ids: it gets none,
# so a heading such as "## Chat alert" cannot take the place of `#chat-alert`.
_NO_IDS = {tag: names - {"id"} for tag, names in _ALLOWED_ATTRIBUTES.items()}
_FORMATTER = HtmlFormatter(nowrap=True)


@dataclass(frozen=True)
class Heading:
    id: str
    text: str
    level: int


@dataclass(frozen=True)
class Rendered:
    html: str
    headings: tuple[Heading, ...]


def _highlight(code: str, lang: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang or "text")
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    label = html.escape(lang or "code")
    body = highlight(code, lexer, _FORMATTER)
    # tabindex lets keyboard users scroll wide code blocks.
    return (
        f'<pre class="highlight" tabindex="0" aria-label="{label} code">'
        f'<code class="language-{label}">{body}</code></pre>\n'
    )


def _render_callout(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    token = tokens[idx]
    # A close token carries no info: the kind and words of each open block wait on a stack.
    opened: list[tuple[str, str]] = env.setdefault("containers", [])
    if token.nesting == 1:
        kind, title = callout_title(token.info)
        opened.append((kind, title))
        if kind in ANNOTATION_KINDS:
            return str(format_html('<div class="{}">\n', kind))
        kind_attr = html.escape(kind)
        title_text = html.escape(title)
        return (
            f'<aside class="callout callout-{kind_attr}" role="note" aria-label="{title_text}">'
            f'<p class="callout-title">{title_text}</p>\n'
        )
    kind, words = opened.pop() if opened else ("", "")
    if kind not in ANNOTATION_KINDS:
        return "</aside>\n"
    remark = words or (ACCOUNT_REMARK if kind == "account" else "")
    return str(
        format_html(
            '<p class="{}-note"><span class="{}-label">{}</span> {}</p>\n</div>\n',
            kind,
            kind,
            ANNOTATION_KINDS[kind],
            mark_safe(_PARSER.renderInline(remark)),  # sanitised with the whole page
        )
    )


def _render_table(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    """A table scrolls inside its own box on a narrow screen (focusable, so keys scroll it)."""
    if tokens[idx].nesting == 1:
        return (
            '<div class="table-scroll" role="region" aria-label="Table" tabindex="0">'
            + renderer.renderToken(tokens, idx, options, env)
        )
    return renderer.renderToken(tokens, idx, options, env) + "</div>\n"


_PARSER = make_parser(_highlight)
_PARSER.add_render_rule("container_callout_open", _render_callout)
_PARSER.add_render_rule("container_callout_close", _render_callout)
_PARSER.add_render_rule("table_open", _render_table)
_PARSER.add_render_rule("table_close", _render_table)


def _rewrite_links(tokens: Sequence[Token], resolve: LinkResolver) -> None:
    for token in tokens:
        for child in token.children or ():
            if child.type != "link_open":
                continue
            href = str(child.attrs.get("href", ""))
            if href.startswith(INTERNAL_SCHEMES):
                child.attrs["href"] = resolve(href) or "#"


def _headings(tokens: Sequence[Token]) -> tuple[Heading, ...]:
    found = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            text = tokens[index + 1].content if index + 1 < len(tokens) else ""
            found.append(Heading(str(token.attrs.get("id", "")), text, 2))
    return tuple(found)


def _cleaner(attributes: dict[str, set[str]]) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_ALLOWED_TAGS,
        attributes=attributes,
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto"},
    )


# Built once: `nh3.clean` would turn the allow-lists into its own sets on every call, which
# costs three times the cleaning of a streamed reply's block.
_CLEANERS = {True: _cleaner(_ALLOWED_ATTRIBUTES), False: _cleaner(_NO_IDS)}


def sanitise(markup: str, *, ids: bool = True) -> str:
    """Keep only the tags and attributes the course's markdown makes; `ids=False` drops ids."""
    return _CLEANERS[ids].clean(markup)


class LRU(Generic[T]):
    """A small per-process least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, T] = OrderedDict()

    def get(self, key: str) -> T | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: str, value: T) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


_cache: LRU[Rendered] = LRU(256)


def render_markdown(
    text: str, resolve: LinkResolver | None = None, *, cache_key: str = ""
) -> Rendered:
    """Render and sanitise markdown; internal links (`lesson:slug`) go through `resolve`."""
    key = hashlib.sha256(f"{cache_key}\0{text}".encode()).hexdigest()
    cached = _cache.get(key)
    if cached is not None:
        return cached
    env: dict[str, Any] = {}
    tokens = _PARSER.parse(text, env)
    if resolve is not None:
        _rewrite_links(tokens, resolve)
    rendered = Rendered(
        sanitise(_PARSER.renderer.render(tokens, _PARSER.options, env)), _headings(tokens)
    )
    _cache.put(key, rendered)
    return rendered


@dataclass(frozen=True)
class Block:
    html: str
    first_line: int  # where the block starts in the source (0-based line)


def render_blocks(
    text: str, resolve: LinkResolver | None = None, *, ids: bool = True
) -> list[Block]:
    """Render and sanitise each top-level block of `text` (paragraph, list, quote, code...).

    Joined, the blocks are the HTML of the whole text rendered at once (the renderer writes
    one token after another, and a top-level block's tokens stand alone). That is what lets a
    reply be rendered while it arrives: a block followed by another can no longer change.
    """
    env: dict[str, Any] = {}
    tokens = _PARSER.parse(text, env)
    if resolve is not None:
        _rewrite_links(tokens, resolve)
    blocks = []
    start = 0
    for index, token in enumerate(tokens):
        if token.level != 0:
            continue
        if token.nesting == 1:
            start = index
            continue
        first = start if token.nesting == -1 else index  # a close token, or a leaf block
        markup = _PARSER.renderer.render(tokens[first : index + 1], _PARSER.options, env)
        where = tokens[first].map
        blocks.append(Block(sanitise(markup, ids=ids), where[0] if where else 0))
    return blocks


# The project's own documents (docs/*.md) mark link targets with raw `<a id>` anchors, so their
# parser reads HTML; the output is sanitised like everything else.
_DOC_PARSER = make_parser(_highlight)
_DOC_PARSER.options["html"] = True
_DOC_PARSER.add_render_rule("table_open", _render_table)
_DOC_PARSER.add_render_rule("table_close", _render_table)


def render_document(text: str) -> Rendered:
    """Render and sanitise a document of the project's own (not content: no callouts)."""
    key = hashlib.sha256(f"document\0{text}".encode()).hexdigest()
    cached = _cache.get(key)
    if cached is None:
        env: dict[str, Any] = {}
        tokens = _DOC_PARSER.parse(text, env)
        html_text = _DOC_PARSER.renderer.render(tokens, _DOC_PARSER.options, env)
        cached = Rendered(sanitise(html_text), _headings(tokens))
        _cache.put(key, cached)
    return cached


def render_inline(text: str) -> str:
    """Inline markdown (question prompts, options): code spans and emphasis, no blocks."""
    return sanitise(_PARSER.renderInline(text))


# Code colours per theme: the light style always, the dark one under the same switches as the
# site's tokens (a stored choice on <html data-theme>, else the system's prefers-color-scheme).
PYGMENTS_LIGHT, PYGMENTS_DARK = "default", "github-dark"
_DARK_CHOSEN = ':root[data-theme="dark"] .highlight'
_DARK_SYSTEM = ':root:not([data-theme="light"]) .highlight'


def pygments_css() -> str:
    """The text of static/css/pygments.css (a test keeps the file equal to this)."""
    light = HtmlFormatter(style=PYGMENTS_LIGHT).get_style_defs(".highlight")
    dark = HtmlFormatter(style=PYGMENTS_DARK)
    # A token the light style colours and the dark one does not would keep its light colour.
    chosen = [f"{_DARK_CHOSEN} [class] {{ color: inherit }}"]
    chosen += dark.get_token_style_defs(_DARK_CHOSEN)
    system = [f"{_DARK_SYSTEM} [class] {{ color: inherit }}"]
    system += dark.get_token_style_defs(_DARK_SYSTEM)
    return (
        "/* Generated by course.rendering.pygments_css(); do not edit by hand. */\n"
        f"{light}\n"
        + "\n".join(chosen)
        + "\n@media (prefers-color-scheme: dark) {\n"
        + "\n".join("  " + line for line in system)
        + "\n}\n"
    )
