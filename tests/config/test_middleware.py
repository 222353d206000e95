from __future__ import annotations

import logging

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.test import AsyncClient


def test_under_asgi_the_middleware_chain_is_adapted_to_sync_once(settings, caplog):
    # Django logs each switch between async and sync it puts into the chain (with DEBUG on).
    # One, below the last middleware: every middleware runs in the request's worker thread
    # in one go, instead of one thread hop per hook of each MiddlewareMixin in async mode.
    settings.DEBUG = True
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler()
    adapted = [r.getMessage() for r in caplog.records if "adapted" in r.getMessage()]
    assert adapted == [
        "Asynchronous handler adapted for middleware config.middleware.SyncChainMiddleware."
    ]


@pytest.mark.django_db(transaction=True)
async def test_a_page_is_served_under_asgi():
    response = await AsyncClient().get(
        "/modules/production-patterns/lessons/rate-limiting-and-retry/"
    )
    assert response.status_code == 200
