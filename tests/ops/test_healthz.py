"""`/healthz`: each part's state, 503 naming the failing part, nothing secret."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_reports_each_part_without_a_login(anon_client, settings):
    settings.ANTHROPIC_API_KEY = ""
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert body["database"]["ok"] and body["channel_layer"]["ok"]
    assert body["coach"] == {
        "ok": True,
        "backend": "offline",
        "model": settings.COACH_MODEL,
        "switch": "auto",
        "model_override": False,
    }


def test_an_unreachable_channel_layer_gives_503_naming_it(anon_client, settings):
    secret = "hunter2-redis-password"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://:{secret}@127.0.0.1:1/0"}]},
        }
    }
    response = anon_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["channel_layer"]
    assert body["channel_layer"]["ok"] is False and body["database"]["ok"] is True
    assert secret not in response.content.decode()


def test_the_api_key_never_appears(anon_client, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-very-secret-key"
    response = anon_client.get("/healthz")
    assert response.json()["coach"]["backend"] == "api"
    assert "sk-ant" not in response.content.decode()
