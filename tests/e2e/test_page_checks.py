"""The page checks themselves: an inaccessible page and an unchecked page are both caught."""

from __future__ import annotations

import pytest

from tests.e2e.browser import Tour, blocking_violations, page_key

pytestmark = pytest.mark.e2e


def _violation(impact: str) -> dict:
    return {
        "id": "image-alt",
        "impact": impact,
        "help": "Images must have alternative text",
        "nodes": [{"target": ["img"]}],
    }


@pytest.mark.parametrize(
    ("impacts", "blocking"),
    [
        ([], 0),
        (["minor", "moderate"], 0),
        (["serious"], 1),
        (["critical", "minor", "serious"], 2),
    ],
)
def test_it_blocks_only_serious_and_critical_violations(impacts, blocking):
    result = {"violations": [_violation(impact) for impact in impacts]}
    assert len(blocking_violations(result)) == blocking


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://127.0.0.1:9/modules/m/quizzes/q/", "/modules/m/quizzes/q/"),
        ("http://127.0.0.1:9/modules/m/quizzes/q/#q-1", "/modules/m/quizzes/q/"),
        ("http://127.0.0.1:9/accounts/login/?next=/progress/", "/accounts/login/?next=/progress/"),
    ],
)
def test_a_page_is_its_path_and_query(url, key):
    assert page_key(url) == key


def test_it_fails_a_page_with_a_critical_violation(site, browser):
    tour = Tour(browser, site.url, "page-checks-violation")
    visitor = tour.visitor("auditor")
    visitor.page.goto(site.url + "/")
    visitor.page.evaluate(
        "() => { const img = document.createElement('img'); img.src = '/static/favicon.svg';"
        " document.querySelector('main').append(img); }"
    )
    with pytest.raises(AssertionError, match="image-alt"):
        visitor.check("home with an unlabelled image")
    assert tour.close() == []


def test_it_reports_a_visited_page_that_was_not_checked(site, browser):
    tour = Tour(browser, site.url, "page-checks-unchecked")
    visitor = tour.visitor("wanderer")
    visitor.goto("/", "home")
    visitor.page.goto(site.url + "/accounts/login/")
    assert tour.close() == ["wanderer: visited but not checked: /accounts/login/"]


def test_the_sites_policy_refuses_an_inline_script_and_the_tour_reports_it(site, browser):
    tour = Tour(browser, site.url, "page-checks-csp")
    visitor = tour.visitor("injector")
    visitor.goto("/", "home")
    ran = visitor.page.evaluate(
        "() => { window.__ran = false; const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.append(s); return window.__ran; }"
    )
    assert ran is False  # refused by the Content-Security-Policy, not run
    visitor.page.wait_for_timeout(200)  # the refusal is reported as an event
    problems = tour.close()
    assert len(problems) == 1 and "injector: CSP refused script-src" in problems[0]
