"""`/healthz`: up or not for anyone; each part's state for staff or the operators' token."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "operators-token-for-tests"


def test_an_anonymous_caller_learns_only_whether_the_site_is_up(anon_client, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-very-secret-key"
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    for detail in ("sqlite", "InMemory", "api", settings.COACH_MODEL):
        assert detail not in response.content.decode()


def test_a_learner_sees_no_more_than_an_anonymous_caller(learner_client):
    assert learner_client.get("/healthz").json() == {"status": "ok"}


def test_staff_see_each_part(instructor_client, settings):
    settings.ANTHROPIC_API_KEY = ""
    response = instructor_client.get("/healthz")
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


def test_the_operators_token_shows_each_part(anon_client, settings):
    settings.METRICS_TOKEN = TOKEN
    response = anon_client.get("/healthz", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.json()["database"]["vendor"]
    wrong = anon_client.get("/healthz", headers={"Authorization": "Bearer guess"})
    assert wrong.json() == {"status": "ok"}


def test_an_unreachable_channel_layer_gives_503_naming_it_to_staff_only(
    anon_client, instructor_client, settings
):
    secret = "hunter2-redis-password"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://:{secret}@127.0.0.1:1/0"}]},
        }
    }
    anonymous = anon_client.get("/healthz")
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "failing"}
    response = instructor_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["channel_layer"]
    assert body["channel_layer"]["ok"] is False and body["database"]["ok"] is True
    assert secret not in response.content.decode()


def test_the_api_key_never_appears(instructor_client, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-very-secret-key"
    response = instructor_client.get("/healthz")
    assert response.json()["coach"]["backend"] == "api"
    assert "sk-ant" not in response.content.decode()
