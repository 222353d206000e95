"""Learners submitting the module test at the same moment, on the SQLite database configured by
the environment (`DATABASE_URL=sqlite:///...` or `SQLITE_PATH`). Prints the status counts as
JSON. Run as a program so the settings are read from this environment:

    DATABASE_URL=sqlite:////tmp/race.sqlite3 python -m tests.config.sqlite_race 6 2
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter

import django


def main(learners: int, tabs: int) -> dict[str, object]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment
    from django.urls import reverse

    from course.registry import get_modules

    setup_test_environment()
    call_command("migrate", "--noinput", verbosity=0)
    module = get_modules()[0]
    answers = {f"q-{q.id}": q.correct_option.id for q in module.test.questions}
    clients = []
    for number in range(learners):
        user = get_user_model().objects.create_user(f"racer{number}", password="x")
        first = Client(raise_request_exception=False)
        first.force_login(user)
        first.post(reverse("module_test_start", args=[module.slug]))
        attempt = user.quiz_attempts.get(finished_at__isnull=True)
        form = {"attempt": str(attempt.pk), **answers}
        clients += [(first, form)] + [(_same_session(first), form) for _ in range(tabs - 1)]
    connections.close_all()

    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(clients))
    url = reverse("module_test_submit", args=[module.slug])

    def submit(client: Client, form: dict[str, str]) -> None:
        start.wait()
        try:
            status = client.post(url, form).status_code
        finally:
            connections.close_all()
        with lock:
            statuses[status] += 1

    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
        threads = [threading.Thread(target=submit, args=pair) for pair in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    options = settings.DATABASES["default"].get("OPTIONS", {})
    return {"statuses": {str(k): v for k, v in statuses.items()}, "options": options}


def _same_session(client):
    from django.test import Client

    other = Client(raise_request_exception=False)
    other.cookies = client.cookies
    return other


if __name__ == "__main__":
    result = main(int(sys.argv[1]), int(sys.argv[2]))
    print(json.dumps(result))
