"""The frame every page shares: theme before first paint, the toggle, the same navigation."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

LAB = reverse("lab", args=["sample", "first-lab"])
LESSON = reverse("lesson", args=["sample", "first"])


def test_a_stored_theme_is_applied_by_a_blocking_script_before_the_stylesheets(
    anon_client, sample_content
):
    html = anon_client.get(LESSON).content.decode()
    head = html[: html.index("</head>")]
    init = head.index('<script src="/static/js/theme-init.js"></script>')
    assert init < head.index('rel="stylesheet"'), "the theme must be set before styles apply"
    assert '<script src="/static/js/theme.js" defer></script>' in head
    assert '<meta name="color-scheme" content="light dark">' in head


def test_the_theme_toggle_is_a_pressed_button_that_shows_once_its_script_runs(
    anon_client, sample_content
):
    html = anon_client.get("/").content.decode()
    button = re.search(r"<button[^>]*id=\"theme-toggle\"[^>]*>", html)
    assert button, "no theme toggle in the header"
    assert 'aria-pressed="false"' in button.group(0)
    assert " hidden" in button.group(0), "without its script the toggle would do nothing"


def test_no_page_carries_an_inline_script_or_event_handler(learner_client, sample_content):
    for url in ("/", LESSON, LAB, reverse("progress")):
        html = learner_client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\son[a-z]+=", html), url


@pytest.mark.parametrize("url", ["/", LESSON, LAB, reverse("progress"), reverse("analytics")])
def test_an_instructor_has_the_same_navigation_on_every_page(
    instructor_client, sample_content, url
):
    nav = instructor_client.get(url).content.decode()
    nav = nav[nav.index('<nav class="site-nav"') : nav.index("</nav>")]
    links = re.findall(r"<a [^>]*href=\"[^\"]*\"[^>]*>([^<]+)</a>", nav)
    assert links == [
        "Production Patterns",
        "Module 1",
        "My progress",
        "Analytics",
        "Lab conversations",
        "Operations",
        "Account",
    ]


def test_the_current_page_is_marked_in_the_navigation(instructor_client, sample_content):
    html = instructor_client.get(reverse("analytics")).content.decode()
    assert f'<a href="{reverse("analytics")}" aria-current="page">Analytics</a>' in html
