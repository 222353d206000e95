"""A coach's reply as HTML, rendered the same way while it streams and once it is finished.

Both use `course.rendering`'s renderer and sanitiser, one top-level block at a time, and
without ids: a reply shares the page with the chat's own ids (`#chat-alert`, `#msg-7-text`),
and a heading such as "## Chat alert" must not take their place.

While a reply streams, every block followed by another that starts on a whole line is
settled: rendered once and appended. Only the last block, which more text may still change (a
paragraph that becomes a heading, a list that grows, a fence not yet closed), is rendered again
with each frame.
Rendering costs about half a microsecond a character, so rendering the whole reply every
frame would cost more with each frame; the last block stays short.

A reference-style link definition (`[x]: https://...`) can change blocks already settled; once
one appears, the whole reply is rendered with each frame instead.

Most frames only add words to the paragraph being written. Parsing costs a fixed ~100 µs or more
a call on top of the characters, so a frame that adds plain words (letters, digits, spaces and a
few punctuation marks that no markdown rule reads) to a paragraph whose last line is plain text
puts them into the paragraph's HTML as they are: the parser would produce the same.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from course.rendering import LRU, LinkResolver, render_blocks

_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.MULTILINE)
# Marks no markdown rule reads in the middle of a line (no `&`: with `;` it makes an entity).
# Brackets only close a link whose text opened with `[`, so they count while there is none.
_PLAIN_MARKS = frozenset(" ,.?!'-%/")
_BRACKETS = frozenset("()")
_PARAGRAPH_END = "</p>\n"
_QUOTE_END = "</blockquote>\n"
_QUOTE_MARKS = re.compile(r"^ {0,3}(?:> ?)*")
_cache: LRU[str] = LRU(512)


def render_reply(text: str, resolve: LinkResolver | None = None, *, cache_key: str = "") -> str:
    """The finished reply's HTML: exactly what its streamed frames added up to."""
    key = hashlib.sha256(f"{cache_key}\0{text}".encode()).hexdigest()
    cached = _cache.get(key)
    if cached is None:
        cached = "".join(block.html for block in render_blocks(text, resolve, ids=False))
        _cache.put(key, cached)
    return cached


@dataclass(frozen=True)
class Update:
    """What one frame changes: HTML added to the settled part (or replacing it), and the last
    block's HTML, which replaces the previous frame's."""

    settled: str
    tail: str
    replace: bool = False  # `settled` replaces the settled part instead of being appended


class StreamingReply:
    """The HTML of a reply still arriving, one `add` per frame of text."""

    def __init__(self, resolve: LinkResolver | None = None) -> None:
        self.resolve = resolve
        self.text = ""
        self.offset = 0  # where the text not yet settled starts
        self.settled: list[str] = []
        self.tail = ""
        self.whole = False  # a link definition appeared: render everything every time
        # Where words added to the paragraph being written go in `tail` (None: render again).
        self.insert_at: int | None = None

    def add(self, chunk: str) -> Update:
        at = self.insert_at
        if (
            at is not None
            and _plain(chunk, brackets="[" not in self.text[self.offset :])
            and _ends_plain_line(self.text)
        ):
            self.text += chunk
            self.tail = self.tail[:at] + chunk + self.tail[at:]
            self.insert_at = at + len(chunk)
            return Update("", self.tail)
        self.text += chunk
        pending = self.text[self.offset :]
        if not self.whole and _DEFINITION.search(pending):
            self.whole = True
        if self.whole:
            self.settled.clear()
            self.offset = 0
            self.tail = render_reply(self.text, self.resolve)
            self.insert_at = None
            return Update("", self.tail, replace=True)
        blocks = render_blocks(pending, self.resolve, ids=False)
        # A block is settled once the next one starts on a whole line: a line still arriving
        # may turn out to continue it ("3" becoming "3. three", one more item of a list).
        whole_lines = pending.count("\n")
        last = max(
            (i for i, block in enumerate(blocks) if block.first_line < whole_lines), default=0
        )
        settled = "".join(block.html for block in blocks[:last])
        if settled:
            self.settled.append(settled)
            self.offset += _line_start(pending, blocks[last].first_line)
        unsettled = blocks[last:]
        self.tail = "".join(block.html for block in unsettled)
        # Only the last block is on the line being written: a line that starts with a letter
        # is paragraph text, whatever plain words follow, so they change no block before it.
        end = _paragraph_end(unsettled[-1].html) if unsettled else None
        self.insert_at = None if end is None else len(self.tail) - len(unsettled[-1].html) + end
        return Update(settled, self.tail)

    @property
    def settled_html(self) -> str:
        return "".join(self.settled)


def _paragraph_end(tail: str) -> int | None:
    """Where the paragraph being written ends in `tail`, a paragraph alone or the last one of a
    quote; None for any other block."""
    if not tail.startswith(("<p>", "<blockquote>")):
        return None
    end = len(tail)
    while tail.endswith(_QUOTE_END, 0, end):
        end -= len(_QUOTE_END)
    if not tail.endswith(_PARAGRAPH_END, 0, end):
        return None
    return end - len(_PARAGRAPH_END)


def _plain_char(c: str, brackets: bool) -> bool:
    if c.isascii():
        return c.isalnum() or c in _PLAIN_MARKS or (brackets and c in _BRACKETS)
    return c.isprintable() and not c.isspace()  # a letter, a dash, a quote mark: no rule reads it


def _plain(chunk: str, *, brackets: bool) -> bool:
    """Words no markdown rule reads on the line being written, not ending in a space (a
    paragraph's trailing spaces are not in its HTML)."""
    return bool(chunk) and chunk[-1] != " " and all(_plain_char(c, brackets) for c in chunk)


def _ends_plain_line(text: str) -> bool:
    """The text's last line is paragraph text a plain chunk can only extend: past any quote
    marks it starts with a letter (not a list number, a heading, a fence) and it ends in a word
    or a plain mark, not a space."""
    line = text[text.rfind("\n") + 1 :]
    quoted = _QUOTE_MARKS.match(line)
    line = line[quoted.end() if quoted else 0 :]
    if not line or not line[0].isalpha():
        return False
    last = line[-1]
    return last.isalnum() or last in ".,?!')" or (not last.isascii() and not last.isspace())


def _line_start(text: str, line: int) -> int:
    """The index in `text` where its line number `line` (0-based) starts."""
    index = 0
    for _ in range(line):
        index = text.index("\n", index) + 1
    return index


_OPEN_LINK = re.compile(r"\[([^\[\]\n]*)(?:\]\([^)\n]*)?$")


def tidy_cut(text: str) -> str:
    """A reply cut off at the length limit, without a half-written link at its end.

    `[Lesson 1: Rate](lesson:rate-lim` would show its markup; its words stay, as plain text.
    """
    return _OPEN_LINK.sub(lambda found: found.group(1), text)
