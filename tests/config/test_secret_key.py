"""Without SECRET_KEY, the first run makes a key and every later run (and process) reuses it."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.secret_key import local_secret_key


def test_the_first_run_writes_a_private_key_that_later_runs_read(tmp_path):
    path = tmp_path / ".secret-key"
    first = local_secret_key(path)
    assert len(first) >= 50 and not first.startswith("django-insecure")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_secret_key(path) == first


def test_processes_starting_together_agree_on_one_key(tmp_path):
    path = tmp_path / ".secret-key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: local_secret_key(path), range(32)))
    assert len(keys) == 1
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_folder_it_cannot_write_says_to_set_secret_key(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="set SECRET_KEY"):
        local_secret_key(tmp_path / "missing-folder" / ".secret-key")
