"""Serve the simulator on loopback: ``python -m resilient.simulator --port 8765``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from resilient.simulator.asgi import make_asgi_app
from resilient.simulator.engine import DEFAULT_LIMITS, Simulator, SimulatorConfig
from resilient.simulator.plan import PlanError, parse_plan


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m resilient.simulator",
        description="Serve an Anthropic Messages API simulator with fault injection.",
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--faults", default="", help="fault plan, e.g. '429:retry_after=2,drop@20'")
    parser.add_argument(
        "--rpm", type=int, help=f"requests per minute (default: {DEFAULT_LIMITS.rpm:,})"
    )
    parser.add_argument(
        "--itpm", type=int, help=f"input tokens per minute (default: {DEFAULT_LIMITS.itpm:,})"
    )
    parser.add_argument(
        "--otpm", type=int, help=f"output tokens per minute (default: {DEFAULT_LIMITS.otpm:,})"
    )
    parser.add_argument("--ttft", type=float, default=0.0, help="seconds to the first token")
    parser.add_argument("--tokens-per-second", type=float, help="stream pace (default: no delay)")
    parser.add_argument("--ping-interval", type=float, default=SimulatorConfig.ping_interval)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        rpm=args.rpm,
        itpm=args.itpm,
        otpm=args.otpm,
        ttft=args.ttft,
        tokens_per_second=args.tokens_per_second,
        faults=args.faults,
        ping_interval=args.ping_interval,
        seed=args.seed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        parse_plan(args.faults)
    except PlanError as exc:
        parser.error(str(exc))
    simulator = Simulator(config_from_args(args))
    print(f"Messages API simulator on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(make_asgi_app(simulator), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
