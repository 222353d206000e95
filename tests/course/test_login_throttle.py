"""Wrong passwords are throttled per account and address, with a sentence that says so."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def three_tries(settings):
    settings.AXES_FAILURE_LIMIT = 3


def try_login(client, password: str, username: str = "ada", address: str = "10.0.0.5"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_after_too_many_wrong_passwords_logging_in_pauses_and_says_for_how_long(
    anon_client, learner
):
    for _ in range(2):
        assert try_login(anon_client, "wrong").status_code == 200
    locked = try_login(anon_client, "wrong")
    html = locked.content.decode()
    assert locked.status_code == 429
    assert "logging in is paused for 15 minutes" in html
    assert 'value="ada"' in html  # the username stays in its box
    # Even the right password waits now: nothing is hashed for a locked-out pair.
    assert try_login(anon_client, PASSWORD).status_code == 429


def test_a_classmate_behind_the_same_address_can_still_log_in(anon_client, learner, other_learner):
    for _ in range(3):
        try_login(anon_client, "wrong")
    response = try_login(anon_client, PASSWORD, username="grace")
    assert response.status_code == 302


def test_the_same_account_from_another_address_is_not_locked(anon_client, learner):
    for _ in range(3):
        try_login(anon_client, "wrong")
    assert try_login(anon_client, PASSWORD, address="10.0.0.6").status_code == 302


def test_a_good_login_clears_the_count(anon_client, learner):
    for _ in range(2):
        try_login(anon_client, "wrong")
    assert try_login(anon_client, PASSWORD).status_code == 302
    anon_client.logout()
    for _ in range(2):
        assert try_login(anon_client, "wrong").status_code == 200
