"""Lesson-page throughput against a static file served by the same server, in the same run.

    python -m bench.pages [--seconds 5] [--connections 8] [--server daphne|uvicorn]

Target: the lesson page reaches at least half the static file's rate (rendered lessons are
cached, so a page costs a template render, not a markdown render).
"""

from __future__ import annotations

import argparse

from bench.loopback import load, production_env, serve

LESSON = "/modules/production-patterns/lessons/rate-limiting-and-retry/"
STATIC = "/static/css/site.css"
TARGET = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    args = parser.parse_args()

    with serve(args.server, production_env()) as port:
        load(port, LESSON, 1.0, 2)  # warm-up: fills the render cache and the template cache
        load(port, STATIC, 1.0, 2)
        static = load(port, STATIC, args.seconds, args.connections)
        lesson = load(port, LESSON, args.seconds, args.connections)

    ratio = lesson.rate / static.rate if static.rate else 0.0
    print(
        f"server: {args.server}, {args.connections} keep-alive connections, "
        f"{args.seconds:.0f} s per target, 127.0.0.1"
    )
    print(f"{'target':<10}{'requests':>10}{'errors':>8}{'req/s':>10}")
    print(f"{'static':<10}{static.requests:>10}{static.errors:>8}{static.rate:>10.1f}")
    print(f"{'lesson':<10}{lesson.requests:>10}{lesson.errors:>8}{lesson.rate:>10.1f}")
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"lesson / static = {ratio:.2f} ({verdict} the target of {TARGET:.2f})")


if __name__ == "__main__":
    main()
