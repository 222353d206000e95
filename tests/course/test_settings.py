"""Production settings fail at start-up with the variable's name; `check --deploy` is clean."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

PROD = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 60 + "-production-secret-for-tests-only",
    "ALLOWED_HOSTS": "course.example.org",
    "TLS_PROXY": "1",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"}
        and k != "TLS_PROXY"
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PROD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "nonsense://x"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"CHAT_MAX_MESSAGE_CHARS": "lots"}, "CHAT_MAX_MESSAGE_CHARS"),
        ({"COACH_GOVERNOR": "sometimes"}, "COACH_GOVERNOR"),
        ({"COACH_GOVERNOR": "redis"}, "COACH_GOVERNOR"),
        ({"EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "smtp"}, "EMAIL_PORT"),
        (
            {"EMAIL_HOST": "smtp.example.org", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"},
            "EMAIL_USE",
        ),
    ],
)
def test_a_missing_or_malformed_setting_stops_start_up_naming_it(change, named):
    result = run_manage("check", env={**PROD, **change})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and named in result.stderr


EMAIL_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.EMAIL_BACKEND, getattr(s, 'EMAIL_PORT', ''), getattr(s, 'EMAIL_USE_TLS', ''), "
    "getattr(s, 'EMAIL_USE_SSL', ''), getattr(s, 'EMAIL_HOST_PASSWORD', ''), s.DEFAULT_FROM_EMAIL)"
)


@pytest.mark.parametrize(
    ("env", "printed"),
    [
        ({}, "django.core.mail.backends.console.EmailBackend"),
        (
            {"EMAIL_HOST": "smtp.example.org", "DEFAULT_FROM_EMAIL": "course@example.org"},
            "django.core.mail.backends.smtp.EmailBackend 587 True False  course@example.org",
        ),
        (
            {"EMAIL_HOST": "smtp.example.org", "EMAIL_USE_SSL": "1", "EMAIL_HOST_PASSWORD": "pw"},
            "django.core.mail.backends.smtp.EmailBackend 465 False True pw",
        ),
    ],
)
def test_email_is_printed_on_the_console_unless_an_smtp_server_is_named(env, printed):
    result = run_manage("shell", "-c", EMAIL_SETTINGS, env={**PROD, **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(printed)
