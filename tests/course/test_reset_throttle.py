"""Reset emails are limited per email address and per client address, with a sentence that says
so, the typed address kept and nothing sent; an address without an account is treated the same."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from course import reset_limit

pytestmark = pytest.mark.django_db

WINDOW_START = 1_800_000_000.0  # a window's first second with 15-minute windows
REFUSED = "Too many reset links were asked for from your network or for this email address"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 2
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 4
    settings.PASSWORD_RESET_WINDOW = timedelta(minutes=15)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "reset-throttle-tests",
        }
    }
    cache.clear()
    yield
    cache.clear()


class Clock:
    def __init__(self) -> None:
        self.now = WINDOW_START

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr(reset_limit, "clock", moved)
    return moved


@pytest.fixture
def ada(learner):
    learner.email = "ada@example.org"
    learner.save()
    return learner


def ask(client, email: str, address: str = "10.0.0.5"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def without_tokens(html: str) -> str:
    return re.sub(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1", html)


def test_one_request_too_many_for_an_address_is_refused_says_why_and_sends_nothing(
    anon_client, ada, mailoutbox
):
    for _ in range(2):
        assert ask(anon_client, "ada@example.org")["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 2
    refused = ask(anon_client, "Ada@Example.org")
    html = refused.content.decode()
    assert refused.status_code == 429
    assert REFUSED in html
    assert "so no email was sent. Try again in 15 minutes" in html
    assert 'value="Ada@Example.org"' in html  # the address stays in its box, as typed
    assert 'role="alert"' in html
    assert len(mailoutbox) == 2


def test_after_the_window_reset_links_are_sent_again(anon_client, ada, mailoutbox, clock):
    for _ in range(2):
        ask(anon_client, "ada@example.org")
    clock.now += 10 * 60
    refused = ask(anon_client, "ada@example.org")
    assert refused.status_code == 429
    assert "Try again in 5 minutes" in refused.content.decode()
    clock.now = WINDOW_START + 15 * 60
    response = ask(anon_client, "ada@example.org")
    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 3 and mailoutbox[-1].to == ["ada@example.org"]


def test_an_address_without_an_account_is_refused_with_the_same_page(anon_client, ada):
    for _ in range(2):
        ask(anon_client, "ada@example.org")
        ask(anon_client, "nobody@example.org", address="10.0.0.6")
    known = ask(anon_client, "ada@example.org")
    unknown = ask(anon_client, "nobody@example.org", address="10.0.0.6")
    assert known.status_code == unknown.status_code == 429
    same = without_tokens(known.content.decode()).replace("ada@example.org", "EMAIL")
    assert same == without_tokens(unknown.content.decode()).replace("nobody@example.org", "EMAIL")


def test_one_client_asking_for_many_addresses_is_refused(anon_client, ada, mailoutbox):
    for number in range(3):
        assert ask(anon_client, f"someone{number}@example.org").status_code == 302
    assert ask(anon_client, "ada@example.org").status_code == 302
    assert len(mailoutbox) == 1
    refused = ask(anon_client, "someone9@example.org")
    assert refused.status_code == 429 and REFUSED in refused.content.decode()
    # Elsewhere the address still gets its link.
    assert ask(anon_client, "ada@example.org", address="10.0.0.6").status_code == 302
    assert len(mailoutbox) == 2


def test_a_classmate_behind_the_same_address_still_gets_a_link(
    anon_client, ada, other_learner, mailoutbox
):
    other_learner.email = "grace@example.org"
    other_learner.save()
    for _ in range(3):
        ask(anon_client, "ada@example.org")
    assert ask(anon_client, "grace@example.org").status_code == 302
    assert mailoutbox[-1].to == ["grace@example.org"]


def test_a_malformed_address_is_not_counted(anon_client, ada, mailoutbox):
    for _ in range(5):
        response = ask(anon_client, "not an address")
        assert response.status_code == 200
        assert "Enter a valid email address." in response.content.decode()
    assert ask(anon_client, "ada@example.org").status_code == 302
    assert len(mailoutbox) == 1
