"""Metrics that live in one worker process: pages, websockets, API attempts, governor waits.

These change many times a second and only the process that served the request sees them, so
they are prometheus-client counters in memory. With several worker processes on a host, set
`PROMETHEUS_MULTIPROC_DIR` (an empty folder, emptied at each deploy) before the workers start:
each worker then writes its values to files there and `/metrics`, whichever worker answers it,
sums them all. Figures about coach turns are not here: they come from the database (see
`ops.turn_metrics`) so that they are shared by every worker and host without any set-up.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, cast

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

if TYPE_CHECKING:
    from resilient.telemetry import AttemptRecord, CallRecord

MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or ""

PAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAIT_BUCKETS = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

REGISTRY = CollectorRegistry()

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by view name, method and status code.",
    ["view", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request (all middleware included), by view name.",
    ["view", "method"],
    buckets=PAGE_BUCKETS,
    registry=REGISTRY,
)
WEBSOCKETS_OPEN = Gauge(
    "websocket_connections_open",
    "Websocket connections currently open (summed over live workers).",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
WEBSOCKETS_TOTAL = Counter(
    "websocket_connections_total", "Websocket connections accepted.", registry=REGISTRY
)
API_ATTEMPTS = Counter(
    "coach_api_attempts_total",
    "Attempts at the Messages API (or the offline coach's simulator), by model and outcome "
    "('ok' or the error kind).",
    ["model", "outcome"],
    registry=REGISTRY,
)
API_RETRIES = Counter(
    "coach_api_retries_total",
    "Failed attempts that the client retried, by model and error kind (rate_limited, "
    "overloaded, ...).",
    ["model", "kind"],
    registry=REGISTRY,
)
GOVERNOR_WAIT = Histogram(
    "coach_governor_wait_seconds",
    "Time an attempt waited for the rate-limit governor before it was sent.",
    ["model"],
    buckets=WAIT_BUCKETS,
    registry=REGISTRY,
)


def observe_request(view: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(view, method, str(status)).inc()
    HTTP_DURATION.labels(view, method).observe(seconds)


def websocket_opened() -> None:
    WEBSOCKETS_OPEN.inc()
    WEBSOCKETS_TOTAL.inc()


def websocket_closed() -> None:
    WEBSOCKETS_OPEN.dec()


def observe_record(record: AttemptRecord | CallRecord) -> None:
    """A `resilient.telemetry.MetricsHook`: pass it in `ResilientClient(telemetry_hooks=...)`."""
    if record.event != "resilient.attempt":
        return  # calls are counted from the CoachTurn rows, once for all workers
    from labs.drills import running_drill  # here: importing this module stays light

    if running_drill():
        return  # a fault drill fails on purpose: its attempts are not production traffic
    # Checked by its `event` rather than isinstance, so that importing this module does not
    # import the SDK (worker start-up and the multiprocess test stay light).
    attempt = cast("AttemptRecord", record)
    API_ATTEMPTS.labels(attempt.model, attempt.outcome).inc()
    if attempt.outcome != "ok" and attempt.wait_chosen is not None:
        API_RETRIES.labels(attempt.model, attempt.outcome).inc()
    GOVERNOR_WAIT.labels(attempt.model).observe(attempt.governor_wait)


_LIVE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_workers(path: str) -> list[int]:
    """Drop the live-gauge files of workers that have exited (their sockets closed with them).

    The folder is per host, so a pid in it names a process on this host.
    """
    dead = sorted(
        {
            int(m.group(1))
            for f in Path(path).glob("gauge_live*.db")
            if (m := _LIVE_FILE.fullmatch(f.name)) and not _pid_alive(int(m.group(1)))
        }
    )
    for pid in dead:
        multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
    return dead


def exposition(multiproc_dir: str | None = None) -> bytes:
    """This host's process metrics in the Prometheus text format."""
    path = MULTIPROC_DIR if multiproc_dir is None else multiproc_dir
    if not path:
        return generate_latest(REGISTRY)
    forget_dead_workers(path)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
