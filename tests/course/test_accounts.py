from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.conftest import PASSWORD

SIGNUP = {
    "username": "newbie",
    "email": "newbie@example.org",
    "password1": PASSWORD,
    "password2": PASSWORD,
}


def test_it_signs_up_and_logs_the_learner_in(anon_client, db):
    response = anon_client.post(
        reverse("signup"),
        {
            "username": "newbie",
            "email": "New@Example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie", is_staff=False)
    assert user.email == "New@example.org"  # the domain is case-insensitive, so normalised
    assert "Log out" in anon_client.get("/").content.decode()


def test_signup_errors_keep_what_was_typed(anon_client, db):
    response = anon_client.post(
        reverse("signup"),
        {"username": "newbie", "email": "n@example.org", "password1": PASSWORD, "password2": "x"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="newbie"' in html and 'value="n@example.org"' in html
    assert "The two password fields didn’t match." in html
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_signup_returns_to_the_page_the_learner_came_from(anon_client, db):
    target = "/modules/production-patterns/lessons/rate-limiting-and-retry/"
    response = anon_client.post(
        reverse("signup"),
        {**SIGNUP, "next": target},
    )
    assert response["Location"] == target


def test_signup_ignores_an_offsite_next(anon_client, db):
    response = anon_client.post(
        reverse("signup"),
        {**SIGNUP, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("home")


def test_login_with_a_wrong_password_says_so_and_keeps_the_username(anon_client, learner):
    response = anon_client.post(reverse("login"), {"username": "ada", "password": "nope"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct username and password" in html
    assert 'value="ada"' in html


def test_login_then_logout(anon_client, learner):
    response = anon_client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    assert "Log out" in anon_client.get("/").content.decode()
    anon_client.post(reverse("logout"))
    assert "Log in" in anon_client.get("/").content.decode()


def test_csrf_is_enforced_on_forms(db, learner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", "This field is required."),
        ("not-an-address", "Enter a valid email address."),
        ("ADA@example.org", "Another account already uses this email address."),
    ],
)
def test_signup_needs_an_email_address_no_other_account_has(anon_client, learner, email, error):
    learner.email = "ada@example.org"
    learner.save()
    response = anon_client.post(reverse("signup"), {**SIGNUP, "email": email})
    html = response.content.decode()
    assert response.status_code == 400
    assert error in html
    assert 'value="newbie"' in html
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_the_email_field_is_described_by_its_help_and_its_error(anon_client, db):
    html = anon_client.post(reverse("signup"), {**SIGNUP, "email": ""}).content.decode()
    field = re.search(r"<input[^>]*name=\"email\"[^>]*>", html)
    assert field and 'aria-describedby="id_email_helptext id_email_error"' in field.group(0)
    assert 'id="id_email_helptext"' in html and 'id="id_email_error"' in html


def test_the_account_page_changes_the_email_address(learner_client, learner, other_learner):
    assert "Your account" in learner_client.get(reverse("account")).content.decode()
    other_learner.email = "grace@example.org"
    other_learner.save()
    refused = learner_client.post(reverse("account"), {"email": "grace@example.org"})
    assert refused.status_code == 400
    assert 'value="grace@example.org"' in refused.content.decode()  # kept to correct
    learner.refresh_from_db()
    assert learner.email == ""
    saved = learner_client.post(reverse("account"), {"email": "ada@example.org"}, follow=True)
    assert "Your email address is saved." in saved.content.decode()
    learner.refresh_from_db()
    assert learner.email == "ada@example.org"


def test_the_account_page_needs_a_login(anon_client, db):
    response = anon_client.get(reverse("account"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_forgotten_password_is_reset_through_the_emailed_link(anon_client, learner, mailoutbox):
    learner.email = "ada@example.org"
    learner.save()
    login_page = anon_client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}">Forgot your password?' in login_page
    assert 'class="site-nav"' in anon_client.get(reverse("password_reset")).content.decode()
    response = anon_client.post(reverse("password_reset"), {"email": "ADA@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ada@example.org"]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mailoutbox[0].body)
    assert link, mailoutbox[0].body
    form = anon_client.get(link.group(1), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = anon_client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a brand new passphrase 7", "new_password2": "a brand new passphrase 7"},
    )
    assert done["Location"] == reverse("password_reset_complete")
    # Through the login form, as the learner does (the login throttle needs the request).
    login = anon_client.post(
        reverse("login"), {"username": "ada", "password": "a brand new passphrase 7"}
    )
    assert login.status_code == 302
    # The link worked once.
    again = anon_client.get(link.group(1), follow=True).content.decode()
    assert "This reset link no longer works" in again


def test_an_unknown_address_gets_the_same_answer_and_no_email(anon_client, db, mailoutbox):
    response = anon_client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_a_learner_changes_their_password_and_stays_logged_in(learner_client, learner):
    page = learner_client.get(reverse("password_change")).content.decode()
    # The site's own page, not the admin's template of the same name.
    assert "Change your password" in page and 'class="site-nav"' in page
    wrong = learner_client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "x", "new_password2": "x"},
    )
    assert wrong.status_code == 200 and "Your old password was entered incorrectly" in (
        wrong.content.decode()
    )
    new = "another long passphrase 9"
    changed = learner_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert "Your password is changed" in changed.content.decode()
    assert "Log out" in learner_client.get("/").content.decode()
    learner.refresh_from_db()
    assert learner.check_password(new)
