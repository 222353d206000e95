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
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"}
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
    ],
)
def test_a_missing_or_malformed_setting_stops_start_up_naming_it(change, named):
    result = run_manage("check", env={**PROD, **change})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and named in result.stderr
