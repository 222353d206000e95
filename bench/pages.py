"""Lesson-page throughput against a static file served by the same server, in the same run.

    python -m bench.pages [--seconds 5] [--connections 8] [--server daphne|uvicorn]

Target: the lesson page reaches at least half the static file's rate. Requests per second
depend on what else the machine is doing, so the server's CPU time per request (from /proc) is
printed too: it is the steadier figure on a busy machine, and its ratio predicts the rate ratio
of a server that has the CPU to itself.
"""

from __future__ import annotations

import argparse
import os

import psutil

from bench.loopback import LoadResult, load, prepare, production_env, start_server

LESSON = "/modules/production-patterns/lessons/rate-limiting-and-retry/"
STATIC = "/static/css/site.css"
TARGET = 0.5


def measure(
    pid: int, port: int, path: str, seconds: float, connections: int
) -> tuple[LoadResult, float]:
    server = psutil.Process(pid)
    before = sum(server.cpu_times()[:2])
    result = load(port, path, seconds, connections)
    cpu_ms = 1000 * (sum(server.cpu_times()[:2]) - before) / max(1, result.requests + result.errors)
    return result, cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    args = parser.parse_args()

    env = production_env()
    prepare(env)
    server = start_server(args.server, env)
    try:
        load(server.port, LESSON, 1.0, 2)  # warm-up: fills the render and template caches
        load(server.port, STATIC, 1.0, 2)
        pid = server.popen.pid
        static, static_cpu = measure(pid, server.port, STATIC, args.seconds, args.connections)
        lesson, lesson_cpu = measure(pid, server.port, LESSON, args.seconds, args.connections)
    finally:
        server.stop()

    rate_ratio = lesson.rate / static.rate if static.rate else 0.0
    cpu_ratio = static_cpu / lesson_cpu if lesson_cpu else 0.0
    print(
        f"server: {args.server}, {args.connections} keep-alive connections, {args.seconds:.0f} s "
        f"per target, 127.0.0.1, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"{'target':<8}{'requests':>10}{'errors':>8}{'req/s':>10}{'CPU ms/req':>12}")
    for name, result, cpu in (("static", static, static_cpu), ("lesson", lesson, lesson_cpu)):
        print(f"{name:<8}{result.requests:>10}{result.errors:>8}{result.rate:>10.1f}{cpu:>12.2f}")
    for label, ratio in (("rate", rate_ratio), ("CPU (static/lesson)", cpu_ratio)):
        verdict = "meets" if ratio >= TARGET else "MISSES"
        print(f"lesson / static by {label} = {ratio:.2f} ({verdict} the target of {TARGET:.2f})")


if __name__ == "__main__":
    main()
