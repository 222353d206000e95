"""The database thread the coach sockets share, and the connection it keeps between hops.

Database work of the lab sockets runs in one thread per process (thread-sensitive code outside
an HTTP request runs in asgiref's single shared executor; Channels' own session and user
lookups run there too). With `CONN_MAX_AGE = 0` Channels' `database_sync_to_async` closes that
thread's connection after every hop, so each hop opened a new one (for SQLite: a connection,
its pragmas and Django's SQL functions registered anew), about a third of the database time of
a turn under load. Django advises against `CONN_MAX_AGE` under ASGI because each HTTP request
runs in a thread of its own, whose kept connections would pile up; this thread lives as long
as the process, so a hop here keeps its connection until it has been idle `KEEP_SECONDS`,
and drops it at once when Django finds it unusable (after an error), as
`close_old_connections` would.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

KEEP_SECONDS = 60.0

P = ParamSpec("P")
R = TypeVar("R")


def in_db_thread(fn: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run `fn` in the shared database thread, reusing that thread's connection."""

    @functools.wraps(fn)
    def hop(*args: P.args, **kwargs: P.kwargs) -> R:
        connection.close_if_unusable_or_obsolete()  # idle too long, or broken by an error
        try:
            return fn(*args, **kwargs)
        finally:
            if connection.close_at is not None:  # None: CONN_MAX_AGE keeps it for ever
                keep = max(KEEP_SECONDS, connection.settings_dict["CONN_MAX_AGE"] or 0)
                connection.close_at = time.monotonic() + keep
            connection.close_if_unusable_or_obsolete()

    return sync_to_async(hop, thread_sensitive=True)
