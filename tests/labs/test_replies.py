"""A reply looks the same while it streams as once it is finished, and takes no page ids."""

from __future__ import annotations

import random

import pytest

from labs.replies import StreamingReply, render_reply, tidy_cut

REPLIES = [
    # What the offline coach writes: a link, emphasis, a quote, a closing question.
    "Here is what the course says about **that**.\n\nFrom [Lesson 1: Rates](https://x.org/a), "
    "*Retry-after*:\n\n> A 429 means slow down,\ncontinued lazily.\n\nWhat would you try first?",
    # Blocks that change as later lines arrive: a setext heading, a list growing loose, a table,
    # a fence holding a blank line, a list interrupting a paragraph.
    "para\n- item\n  more\n\n- loose\n\ntext\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "```python\nx = 1\n\ny = 2\n```\n\n1. one\n2. two\n\n3. three\n\n***\n\nend",
    "::: note Keep in mind\ninside a callout\n:::\n\n## Chat alert\n\n### Chat status\n\nafter",
    # Plain words appended to a paragraph, next to everything that is not plain.
    "Plain words, then a_b and *c* and 1. not a list, then\n1. a list\nand 3 & 4 &amp; five,\n"
    "ends  \nwith a break; x:y 50% of it/them? yes! it's - fine.\n---\nand _under_score_s here",
    # A long quoted line after a paragraph, brackets, dashes and a link being written.
    "Read `retry-after` first — it (the header) says how long.\n\n> When you exceed the limits"
    " (RPM), the API returns 429 — wait.\nlazy line here\n\nSee [the lesson (part 2)](https://"
    "example.org/a_(b)) and (more) [x] then 2. done",
    # A link definition after the link that uses it.
    "see [the lesson][x] first\n\n[x]: https://example.org/lesson\n\nand more",
]


def streamed(text: str, sizes: list[int]) -> str:
    """The HTML a page holds after the reply arrived in pieces of these sizes; after every
    piece it is what the text so far renders to."""
    reply = StreamingReply()
    settled = tail = ""
    start = 0
    for size in sizes:
        if start >= len(text):
            break
        update = reply.add(text[start : start + size])
        start += size
        settled = update.settled if update.replace else settled + update.settled
        tail = update.tail
        assert settled + tail == render_reply(text[:start]), (start, text[:start])
    return settled + tail


@pytest.mark.parametrize("text", REPLIES)
def test_however_it_arrives_a_reply_ends_as_the_final_rendering(text):
    final = render_reply(text)
    assert streamed(text, [1] * len(text)) == final  # one character a frame
    for seed in range(40):
        rng = random.Random(seed)
        sizes = [rng.randint(1, 40) for _ in range(len(text))]
        assert streamed(text, sizes) == final, seed


def test_bold_is_bold_before_the_reply_ends():
    reply = StreamingReply()
    reply.add("Wait for **retry")
    update = reply.add("-after** before")
    assert "<strong>retry-after</strong>" in update.tail


def test_only_the_last_block_is_rendered_again():
    reply = StreamingReply()
    reply.add("One.\n\nTwo")
    update = reply.add(".\n\nThree")
    assert update.settled == "<p>One.</p>\n" and update.tail == "<p>Two.</p>\n<p>Three</p>\n"
    # "Three" may still become "Three\n---", a heading: "Two." waits for a whole line.
    update = reply.add(" is here.\n")
    assert update.settled == "<p>Two.</p>\n" and update.tail == "<p>Three is here.</p>\n"
    assert reply.settled_html == "<p>One.</p>\n<p>Two.</p>\n"
    # Later text is parsed from the last block on, not from the start of the reply.
    assert reply.text[reply.offset :] == "Three is here.\n"


@pytest.mark.parametrize("heading", ["## Chat alert", "## chat-input", "### Msg 7 text"])
def test_coach_markdown_makes_no_ids(heading):
    rendered = render_reply(f"{heading}\n\nBody [link](https://example.org)")
    assert "id=" not in rendered
    assert rendered.startswith("<h")


def test_a_reply_is_sanitised():
    rendered = render_reply("<script>alert(1)</script> [x](javascript:alert(2)) <img src=x>")
    assert "<script" not in rendered and "<img" not in rendered
    assert "href" not in rendered  # the javascript: link stays text


@pytest.mark.parametrize(
    ("cut", "tidy"),
    [
        ("From [Lesson 1: Rate limits](lesson:rate-lim", "From Lesson 1: Rate limits"),
        ("From [Lesson 1: Rate", "From Lesson 1: Rate"),
        ("From [Lesson 1](lesson:one), done", "From [Lesson 1](lesson:one), done"),
        ("A list [1] and more", "A list [1] and more"),
    ],
)
def test_a_reply_cut_short_keeps_no_half_written_link(cut, tidy):
    assert tidy_cut(cut) == tidy
