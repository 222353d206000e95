"""SQLite named by DATABASE_URL gets the options of the default SQLite: learners submitting at
the same moment wait their turn (a 409 for a second tab) instead of getting a 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO


def race(tmp_path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
    result = subprocess.run(
        [sys.executable, "-m", "tests.config.sqlite_race", "6", "2"],
        cwd=REPO,
        env={**clean, "LOG_LEVEL": "ERROR", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_learners_submitting_at_once_on_a_sqlite_url_get_no_server_error(tmp_path):
    outcome = race(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'course.sqlite3'}")
    # Six learners, each submitting from two tabs: one submit per learner counts, the other
    # tab hears that it was already submitted.
    assert outcome["statuses"] == {"302": 6, "409": 6}
    assert outcome["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in outcome["options"]["init_command"]
