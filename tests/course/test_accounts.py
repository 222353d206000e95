from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.conftest import PASSWORD


def test_it_signs_up_and_logs_the_learner_in(anon_client, db):
    response = anon_client.post(
        reverse("signup"),
        {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="newbie", is_staff=False).exists()
    assert "Log out" in anon_client.get("/").content.decode()


def test_signup_errors_keep_what_was_typed(anon_client, db):
    response = anon_client.post(
        reverse("signup"),
        {"username": "newbie", "password1": PASSWORD, "password2": "something else"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'value="newbie"' in html
    assert "The two password fields didn’t match." in html
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_signup_returns_to_the_page_the_learner_came_from(anon_client, db):
    target = "/modules/production-patterns/lessons/rate-limiting-and-retry/"
    response = anon_client.post(
        reverse("signup"),
        {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD, "next": target},
    )
    assert response["Location"] == target


def test_signup_ignores_an_offsite_next(anon_client, db):
    response = anon_client.post(
        reverse("signup"),
        {
            "username": "x1",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": "https://evil.example/",
        },
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
