"""The Messages API simulator as a process of its own, answering as the offline coach does.

`python -m bench.upstream --port P --ttft S --tokens-per-second T` takes the flags of
`python -m resilient.simulator` (its parser and config are reused) and serves the same engine
on loopback with uvicorn. The one difference is the responder: the labs' `offline_responder`
instead of the simulator's short echo, so a turn through this process streams the same reply,
token for token, as a turn through the in-process simulator, and the relay benchmark's two
upstream modes relay the same amount of text per turn (about 190 tokens, not about 60).

It sets Django up (with the environment it was started with) only because the responder reads
the course content to pick its passages.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.loopback import Process, free_port, start


def main(argv: Sequence[str] | None = None) -> int:
    import django
    import uvicorn

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()

    from labs.offline import offline_responder
    from resilient.simulator.__main__ import build_parser, config_from_args
    from resilient.simulator.engine import Simulator

    parser = build_parser()
    parser.prog = "python -m bench.upstream"
    args = parser.parse_args(argv)
    simulator = Simulator(config_from_args(args), responder=offline_responder)
    uvicorn.run(simulator.asgi_app(), host=args.host, port=args.port, log_level="warning")
    return 0


def start_simulator(
    env: dict[str, str], ttft: float, tokens_per_second: float, *, log: Path | None = None
) -> Process:
    """Start the simulator process on a free loopback port and wait until it answers.

    The caller stops it (`Process.stop`); its readiness probe is any answer below 500.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.upstream",
        "--port",
        str(port),
        "--ttft",
        str(ttft),
        "--tokens-per-second",
        str(tokens_per_second),
    ]
    return start(command, env, port, name=f"simulator:{port}", log=log)


if __name__ == "__main__":
    sys.exit(main())
