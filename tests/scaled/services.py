"""Where the scaled deployment's PostgreSQL and Redis are, and whether they answer.

Defaults are the loopback services of a developer machine or CI; every name is dedicated to
the tests (`course_scaled`, Redis database 14, a database for the suite run), so nothing an
operator keeps elsewhere on the same servers is touched.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

CONNECT_TIMEOUT = 3


def scaled_database_url() -> str:
    return os.environ.get("SCALED_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/course_scaled")


def suite_postgres_url() -> str:
    """The regular suite's PostgreSQL run; pytest-django creates `test_<name>` from it."""
    return os.environ.get("SUITE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/course_suite")


def scaled_redis_url() -> str:
    return os.environ.get("SCALED_REDIS_URL", "redis://127.0.0.1:6379/14")


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def postgres_problem(url: str | None = None) -> str | None:
    """Why PostgreSQL at `url` cannot be used, or None when it answers."""
    url = url or scaled_database_url()
    try:
        with psycopg.connect(_maintenance_url(url), connect_timeout=CONNECT_TIMEOUT) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL is not reachable at {_maintenance_url(url)}: {first_line}"
    return None


def redis_problem(url: str | None = None) -> str | None:
    """Why Redis at `url` cannot be used, or None when it answers."""
    url = url or scaled_redis_url()
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=CONNECT_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT
        )
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return f"Redis is not reachable at {url}: {exc}"
    return None


def recreate_database(url: str) -> None:
    """Drop and create the dedicated database named in `url`, so each run starts empty."""
    name = _database_name(url)
    with psycopg.connect(
        _maintenance_url(url), connect_timeout=CONNECT_TIMEOUT, autocommit=True
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_database(url: str) -> None:
    """Create the database named in `url` when it does not exist yet; keep it otherwise."""
    name = _database_name(url)
    with psycopg.connect(
        _maintenance_url(url), connect_timeout=CONNECT_TIMEOUT, autocommit=True
    ) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flush_redis(url: str) -> None:
    """Empty the dedicated Redis database (governor buckets, channel groups) before a run."""
    client = redis.Redis.from_url(url, socket_timeout=CONNECT_TIMEOUT)
    client.flushdb()
    client.close()
