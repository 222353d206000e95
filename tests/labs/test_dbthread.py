from __future__ import annotations

import time

import pytest
from django.db import connection

from labs import dbthread
from labs.dbthread import in_db_thread

pytestmark = pytest.mark.django_db(transaction=True)


@in_db_thread
def connection_in_use() -> object:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.connection


@in_db_thread
def failing_query() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")


async def test_hops_in_a_row_reuse_the_threads_connection():
    first = await connection_in_use()
    assert await connection_in_use() is first


@in_db_thread
def close_at() -> float | None:
    """When Django will close the connection, as the previous hop left it."""
    return connection.close_at


async def test_a_hop_keeps_the_connection_for_the_keep_time_even_with_conn_max_age_0(settings):
    assert settings.DATABASES["default"].get("CONN_MAX_AGE", 0) == 0
    await connection_in_use()
    kept_until = await close_at()
    assert kept_until is not None
    assert kept_until >= time.monotonic() + dbthread.KEEP_SECONDS - 5


async def test_a_connection_idle_past_the_keep_time_is_due_for_closing(monkeypatch):
    # Django then closes it before the next hop (an in-memory test database excepted: Django
    # never closes those, or the data would be gone).
    monkeypatch.setattr(dbthread, "KEEP_SECONDS", 0.0)
    await connection_in_use()
    kept_until = await close_at()
    assert kept_until is not None
    assert kept_until <= time.monotonic()


async def test_a_failed_hop_raises_and_the_next_one_still_works():
    with pytest.raises(Exception, match="no_such_table"):
        await failing_query()
    assert await connection_in_use()
