"""Accounts: an email at sign-up, a forgotten password reset by the emailed link, a change of
password from the account page. Email goes to the server's output (the console backend)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.browser import Visitor

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a fresh learner passphrase 77"
CHANGED_PASSWORD = "yet another passphrase 505"


def emailed_link(log, address: str, timeout: float = 10.0) -> str:
    """The reset link of the last email the console backend printed for `address`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        emails = [part for part in text.split("Subject: ") if f"To: {address}" in part]
        if emails:
            found = re.search(r"https?://\S+/accounts/password/reset/\S+/", emails[-1])
            if found:
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no reset email to {address} in {log}")


def log_in(visitor: Visitor, username: str, password: str) -> None:
    page = visitor.page
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_it_resets_a_forgotten_password_and_changes_it_from_the_account_page(tour, site):
    username = "e2e-forgetful"
    learner = tour.visitor("learner")
    steps.sign_up(learner, username)
    page = learner.page
    page.get_by_role("button", name=re.compile("Log out")).click()
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    learner.check("home logged out")

    page.get_by_role("link", name="Log in", exact=True).click()
    learner.check("log in")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    learner.check("reset your password")
    page.get_by_label("Email").fill(steps.email_of(username).upper())  # any letter case
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    learner.check("reset link sent")

    link = emailed_link(site.process.log, steps.email_of(username))
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    learner.check("choose a new password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill("not the same")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("alert")).to_contain_text("didn’t match")
    learner.check("new passwords that differ")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your new password is set")
    learner.check("new password set")

    page.goto(link)  # a link works once
    expect(page.get_by_role("heading", level=1)).to_have_text("This reset link no longer works")
    learner.check("used reset link")

    learner.goto("/accounts/login/", "log in with the new password")
    log_in(learner, username, NEW_PASSWORD)
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_be_visible()
    learner.check("home after the reset")

    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_label("Email")).to_have_value(steps.email_of(username))
    learner.check("account")
    page.get_by_role("link", name="Change your password").click()
    learner.check("change your password")
    page.get_by_label("Old password").fill(NEW_PASSWORD)
    page.get_by_label("New password", exact=True).fill(CHANGED_PASSWORD)
    page.get_by_label("New password confirmation").fill(CHANGED_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is changed")
    learner.check("password changed")
    # Still logged in here; the next log-in takes the new password.
    page.get_by_role("button", name=re.compile("Log out")).click()
    learner.goto("/accounts/login/", "log in after the change")
    log_in(learner, username, CHANGED_PASSWORD)
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_be_visible()
    learner.check("home after the change")


def test_it_stops_sending_reset_links_after_too_many_and_keeps_the_typed_address(tour):
    visitor = tour.visitor("visitor")
    page = visitor.goto("/accounts/password/reset/", "reset your password")
    address = "e2e-Too-Many@example.org"  # no account has it: refused all the same
    for number in range(1, 4):  # PASSWORD_RESET_LIMIT_PER_EMAIL's default
        page.get_by_label("Email").fill(address)
        page.get_by_role("button", name="Send the reset link").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
        visitor.check(f"reset link {number} sent")
        page.go_back()
    page.get_by_label("Email").fill(address)
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("alert")).to_contain_text("so no email was sent. Try again in")
    expect(page.get_by_label("Email")).to_have_value(address)
    visitor.check_everywhere("reset refused")
