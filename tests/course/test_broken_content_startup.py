"""One broken content file takes down its own page only: start-up, migrate and creating an
instructor still work, while `check_content` (which `make test` and CI run) still fails on it."""

from __future__ import annotations

import html
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import REPO

MODULE = "module-08-production-patterns"
QUIZ = "quizzes/01-rate-limiting-and-retry.yaml"
LESSON = "lessons/02-cost-control-and-token-budgeting.md"
COMMAND_SECONDS = 120
SERVER_START_SECONDS = 60


def two_correct_answers(folder: Path) -> str:
    """Mark a second option of the first quiz question correct; return the expected problem."""
    path = folder / QUIZ
    text = path.read_text(encoding="utf-8")
    marker = "      - id: request-id\n"
    assert marker in text
    path.write_text(text.replace(marker, marker + "        correct: true\n", 1), encoding="utf-8")
    return f"{QUIZ}:7: question 'first-header-on-429' has 2 correct options; it needs exactly one"


def unclosed_code(folder: Path) -> str:
    """Break a Python block of a lesson; return the expected problem."""
    path = folder / LESSON
    text = path.read_text(encoding="utf-8")
    assert "class TokenBudget:" in text
    path.write_text(text.replace("class TokenBudget:", "class TokenBudget(:", 1), encoding="utf-8")
    line = text[: text.index("class TokenBudget:")].count("\n") + 1
    return f"{LESSON}:{line}: Python code block does not compile"


@pytest.fixture
def course_copy(tmp_path) -> Path:
    """A writable copy of the real course content."""
    root = tmp_path / "content"
    shutil.copytree(Path(settings.CONTENT_DIR) / MODULE, root / MODULE)
    return root


@dataclass(frozen=True)
class BrokenCourse:
    content: Path
    database: Path
    problems: tuple[str, ...]
    migrate: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def broken_course(tmp_path_factory) -> BrokenCourse:
    """A copy of the course with a broken quiz and a broken lesson, migrated as `make run` does."""
    root = tmp_path_factory.mktemp("broken") / "content"
    shutil.copytree(Path(settings.CONTENT_DIR) / MODULE, root / MODULE)
    problems = (two_correct_answers(root / MODULE), unclosed_code(root / MODULE))
    database = root.parent / "db.sqlite3"
    migrate = manage("migrate", "--noinput", content=root, database=database)
    collected = manage("collectstatic", "--noinput", content=root, database=database)
    assert collected.returncode == 0, collected.stderr
    return BrokenCourse(root, database, problems, migrate)


def manage(*args: str, content: Path, database: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=environment(content, database, **env),
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )


def environment(content: Path, database: Path, **env: str) -> dict[str, str]:
    return {
        **os.environ,
        "CONTENT_DIR": str(content),
        "DATABASE_URL": f"sqlite:///{database}",
        "STATIC_ROOT": str(database.parent / "static"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }


def test_migrate_succeeds_and_warns_with_each_problem(broken_course):
    migrate = broken_course.migrate
    assert migrate.returncode == 0, migrate.stderr
    assert "course.W001" in migrate.stderr
    for problem in broken_course.problems:
        assert problem in migrate.stderr


def test_make_instructor_creates_the_staff_account(broken_course):
    instructor = manage(
        "createsuperuser",
        "--noinput",
        content=broken_course.content,
        database=broken_course.database,
        DJANGO_SUPERUSER_USERNAME="instructor",
        DJANGO_SUPERUSER_EMAIL="instructor@example.org",
        DJANGO_SUPERUSER_PASSWORD="a long enough password 42",
    )
    assert instructor.returncode == 0, instructor.stderr
    assert "Superuser created successfully." in instructor.stdout


def test_check_content_still_fails_with_path_and_line(broken_course):
    check = manage("check_content", content=broken_course.content, database=broken_course.database)
    assert check.returncode == 1
    for problem in broken_course.problems:
        assert problem in check.stdout
    assert "2 content problems found." in check.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_server_make_run_starts_serves_everything_but_the_broken_lesson(broken_course):
    assert broken_course.migrate.returncode == 0
    port = free_port()
    daphne = Path(sys.executable).with_name("daphne")
    server = subprocess.Popen(
        [str(daphne), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=REPO,
        env=environment(broken_course.content, broken_course.database),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lessons = f"http://127.0.0.1:{port}/modules/production-patterns/lessons"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                home = fetch(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start in time"
                time.sleep(0.2)
        broken = fetch(f"{lessons}/cost-control-and-token-budgeting/")
        working = fetch(f"{lessons}/rate-limiting-and-retry/")
    finally:
        server.terminate()
        server.wait(10)
    assert home[0] == 200
    assert broken[0] == 500 and "This lesson can" in broken[1]
    assert working[0] == 200 and "Rate Limiting &amp; Retry Logic" in working[1]


def test_the_instructor_sees_path_and_line_of_a_broken_quiz(
    course_copy, settings, instructor_client, learner_client
):
    problem = two_correct_answers(course_copy / MODULE)
    settings.CONTENT_DIR = course_copy
    url = reverse("quiz", args=["production-patterns", "rate-limiting-and-retry"])

    staff = instructor_client.get(url)
    learner = learner_client.get(url)

    assert staff.status_code == learner.status_code == 500
    assert html.escape(f"{MODULE}/{problem}") in staff.content.decode()
    assert "Your instructors have been told" in learner.content.decode()
    assert QUIZ not in learner.content.decode()
    lesson = reverse("lesson", args=["production-patterns", "rate-limiting-and-retry"])
    assert learner_client.get(lesson).status_code == 200


def test_content_problems_are_reported_as_a_system_check_warning(course_copy, settings):
    from course.checks import content_check

    problem = two_correct_answers(course_copy / MODULE)
    settings.CONTENT_DIR = course_copy

    (message,) = content_check()

    assert message.id == "course.W001" and not message.is_serious()
    assert message.msg.endswith(problem)
