from __future__ import annotations

import re

import pytest

from course.rendering import pygments_css, render_inline, render_markdown, sanitise
from tests.conftest import REPO


def test_it_highlights_python_code_blocks():
    html = render_markdown(
        "```python\nimport anthropic\nclient = anthropic.Anthropic()\n```\n"
    ).html
    assert '<pre class="highlight"' in html
    assert '<span class="kn">import</span>' in html  # keyword token, so colours apply


def test_it_renders_callouts_as_labelled_asides():
    html = render_markdown("::: monitoring Monitoring Tip\nWatch p95.\n:::\n").html
    assert (
        '<aside class="callout callout-monitoring" role="note" aria-label="Monitoring Tip">' in html
    )
    assert "Watch p95." in html


def test_it_gives_h2_headings_ids_for_the_table_of_contents():
    rendered = render_markdown("## Understanding the HTTP 429\n\ntext\n")
    assert rendered.headings[0].text == "Understanding the HTTP 429"
    assert f'id="{rendered.headings[0].id}"' in rendered.html


def test_it_turns_internal_links_into_site_urls():
    html = render_markdown("[next](lesson:second)", lambda href: f"/go/{href.split(':')[1]}/").html
    assert 'href="/go/second/"' in html


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="#" onclick="steal()">x</a>',
    ],
)
def test_it_never_lets_script_through(evil):
    html = render_markdown(f"Before {evil} after").html
    assert "<script" not in html and "<img" not in html
    assert re.search(r"<[^>]+\son\w+=", html) is None  # no event-handler attribute on a tag
    assert 'href="javascript:' not in html


def test_the_sanitiser_strips_raw_html_dangers_as_a_second_line():
    cleaned = sanitise('<p onclick="x()">hi<script>bad()</script><img src=x onerror=alert(1)></p>')
    assert "script" not in cleaned and "onerror" not in cleaned and "onclick" not in cleaned
    assert cleaned.startswith("<p>hi")


def test_inline_markdown_keeps_code_spans_and_escapes_html():
    assert render_inline("Use `retry-after` <b>now</b>") == (
        "Use <code>retry-after</code> &lt;b&gt;now&lt;/b&gt;"
    )


def test_it_puts_a_table_in_a_focusable_box_that_scrolls_on_a_narrow_screen():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n").html
    box = '<div class="table-scroll" role="region" aria-label="Table" tabindex="0">'
    assert html.startswith(box)
    assert html.rstrip().endswith("</table>\n</div>")


def test_a_column_alignment_is_a_class_the_content_security_policy_allows():
    html = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n").html
    assert "style=" not in html  # the site's policy refuses inline styles
    assert '<th class="align-left">a</th>' in html and '<td class="align-right">3</td>' in html
    css = (REPO / "static" / "css" / "site.css").read_text(encoding="utf-8")
    assert all(f".align-{side} {{ text-align: {side}; }}" in css for side in ("left", "center"))
    # A reply that writes a style attribute itself keeps none.
    assert "style" not in sanitise('<table><tr><td style="color:red">x</td></tr></table>')


def test_the_shipped_code_colours_are_the_generated_ones():
    shipped = (REPO / "static" / "css" / "pygments.css").read_text(encoding="utf-8")
    assert shipped == pygments_css(), (
        "static/css/pygments.css is stale: regenerate it with "
        "`python -c 'from course.rendering import pygments_css as c; print(c(), end=\"\")' "
        "> static/css/pygments.css`"
    )


def test_code_has_dark_colours_for_a_chosen_and_for_a_system_dark_theme():
    css = pygments_css()
    assert ':root[data-theme="dark"] .highlight .k {' in css
    system = css[css.index("@media (prefers-color-scheme: dark)") :]
    assert ':root:not([data-theme="light"]) .highlight .k {' in system
