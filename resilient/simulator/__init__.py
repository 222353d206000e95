"""An Anthropic Messages API simulator with rate limits, prompt caching and fault plans.

One engine, two adapters: an in-process httpx2 transport (``SimulatorTransport(sim)``) and an
ASGI app (``make_asgi_app(sim)``, served by ``python -m resilient.simulator``). The fault
plan grammar is documented in ``README.md`` beside this file.
"""

from __future__ import annotations

from resilient.simulator.asgi import make_asgi_app
from resilient.simulator.body import SimulatedDrop
from resilient.simulator.engine import (
    FAULT_KEY_HEADER,
    FAULTS_HEADER,
    Simulator,
    SimulatorConfig,
    SimulatorStats,
)
from resilient.simulator.plan import Outcome, PlanError, parse_plan
from resilient.simulator.request import MessagesRequest, Responder
from resilient.simulator.responders import echo_responder
from resilient.simulator.transport import SimulatorTransport

__all__ = [
    "FAULTS_HEADER",
    "FAULT_KEY_HEADER",
    "MessagesRequest",
    "Outcome",
    "PlanError",
    "Responder",
    "SimulatedDrop",
    "Simulator",
    "SimulatorConfig",
    "SimulatorStats",
    "SimulatorTransport",
    "echo_responder",
    "make_asgi_app",
    "parse_plan",
]
