"""Real-API turns are paced by one governor per process, shared through Redis when configured."""

from __future__ import annotations

import pytest

from labs import backend
from resilient import Governor, RedisGovernor


@pytest.fixture(autouse=True)
def fresh_governors(monkeypatch):
    monkeypatch.setattr(backend, "_governors", {})


@pytest.mark.parametrize(
    ("mode", "redis_url", "expected"),
    [
        ("auto", None, Governor),
        ("auto", "redis://127.0.0.1:6379/14", RedisGovernor),
        ("redis", "redis://127.0.0.1:6379/14", RedisGovernor),
        ("memory", "redis://127.0.0.1:6379/14", Governor),
        ("off", "redis://127.0.0.1:6379/14", type(None)),
    ],
)
def test_the_governor_follows_the_setting(settings, mode, redis_url, expected):
    settings.COACH_GOVERNOR = mode
    settings.REDIS_URL = redis_url
    assert isinstance(backend.governor(), expected)


def test_one_governor_per_process_is_shared_by_every_turn(settings):
    settings.COACH_GOVERNOR = "memory"
    assert backend.governor() is backend.governor()


def test_only_real_api_turns_are_paced(settings):
    settings.COACH_GOVERNOR = "memory"
    api = backend.client_for(backend.Backend("api", "claude-sonnet-4-6", "x"), None)
    offline = backend.client_for(backend.Backend("offline", "claude-sonnet-4-6", "x"), None)
    assert api.governor is backend.governor()
    assert offline.governor is None
