"""The simulator's ASGI app served by uvicorn in a thread on a loopback port, for tests that
talk to it over a real socket from another thread or process (the SDK, a worker, a script)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from resilient.simulator import Simulator, make_asgi_app
from resilient.simulator.asgi import quiet_simulated_drops

STARTUP_SECONDS = 10.0


@contextmanager
def simulator_in_thread(simulator: Simulator) -> Iterator[str]:
    """Serve `simulator` on 127.0.0.1 until the block ends; yields its base URL."""
    quiet_simulated_drops()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        make_asgi_app(simulator), log_level="warning", lifespan="on", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the simulator did not start under uvicorn on 127.0.0.1")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS)
        sock.close()
