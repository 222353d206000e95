"""Shared personas and helpers: a learner, an instructor (staff) and an anonymous visitor."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client, override_settings

REPO = Path(__file__).resolve().parent.parent
SEED_DIR = REPO.parent / "shared" / "seed"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session", autouse=True)
def close_the_shared_database_thread(django_db_setup, django_db_blocker):
    """Close the connection asgiref's shared thread holds before the test database is dropped:
    the tests' own async ORM calls run there and leave it open (no request ends them), and
    PostgreSQL refuses to drop a database still in use."""
    yield

    async def close() -> None:
        # Outside `async_to_sync`, thread-sensitive code runs in that shared thread.
        await sync_to_async(connections.close_all, thread_sensitive=True)()

    with django_db_blocker.unblock():
        asyncio.run(close())


@pytest.fixture(scope="session", autouse=True)
def static_files_without_collectstatic():
    """Outside debug mode pages name static files by the hashed names `collectstatic` records
    (`make run` runs it first); the suite renders pages without collecting them."""
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Personas are created with a password; the default hasher costs ~0.3 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def learner(db):
    return get_user_model().objects.create_user("ada", password=PASSWORD)


@pytest.fixture
def other_learner(db):
    return get_user_model().objects.create_user("grace", password=PASSWORD)


@pytest.fixture
def instructor(db):
    return get_user_model().objects.create_user("ins", password=PASSWORD, is_staff=True)


@pytest.fixture
def learner_client(learner) -> Client:
    client = Client()
    client.force_login(learner)
    return client


@pytest.fixture
def instructor_client(instructor) -> Client:
    client = Client()
    client.force_login(instructor)
    return client


@pytest.fixture
def anon_client() -> Client:
    return Client()


def require_seed() -> Path:
    """The seed lives beside the repo on team machines and in CI; skip elsewhere, never in CI."""
    if SEED_DIR.is_dir():
        return SEED_DIR
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the seed folder {SEED_DIR} is missing")
    pytest.skip(f"seed folder {SEED_DIR} not present on this machine")
