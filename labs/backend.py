"""Which coach answers this turn: the real API or the offline coach, read from settings per turn.

`choose_backend()` reads settings and the coach switch (`labs.switch`) every time it is called,
so an operator who sets or clears `ANTHROPIC_API_KEY`, or flips the switch, changes the next
turn without a restart. Both backends are the same `ResilientClient` over an `AsyncAnthropic`;
only the HTTP client differs: the SDK's aiohttp client over the network (proxies as the
environment names them: `HTTPS_PROXY`, `NO_PROXY`...), or the simulator's transport in process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anthropic
import httpx2
from django.conf import settings

from labs import frames
from labs import switch as coach_switch
from labs.offline import offline_responder
from resilient import (
    INTERACTIVE,
    Budget,
    CircuitBreaker,
    Governor,
    Limits,
    MetricsHook,
    Policy,
    RateGovernor,
    RedisGovernor,
    ResilientClient,
)
from resilient.simulator import Simulator, SimulatorConfig, SimulatorTransport

OFFLINE_LABEL = "Offline coach"
# The simulator needs a key-shaped string; it is never sent anywhere.
OFFLINE_API_KEY = "sk-offline-coach"
OFFLINE_BASE_URL = "http://offline-coach.invalid"

# Seams for tests: the pause between retries and the retry/timeout policy.
retry_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
policy: Policy = INTERACTIVE
# Called with every telemetry record of every coach call. Operations adds its metrics here when
# the app starts (`ops.apps`): labs does not know who watches.
telemetry_hooks: list[MetricsHook] = []

_lock = threading.Lock()
_simulators: dict[tuple[float, float | None], Simulator] = {}
_sdks: dict[tuple[str, str], anthropic.AsyncAnthropic] = {}
_breakers: dict[str, CircuitBreaker] = {}
_governors: dict[tuple[str, str, str], RateGovernor | None] = {}


@dataclass(frozen=True)
class Backend:
    kind: str  # "offline" | "api"
    model: str
    label: str  # what the page says is answering

    @property
    def offline(self) -> bool:
        return self.kind == "offline"


def choose_backend(switch: coach_switch.Switch | None = None) -> Backend:
    """The backend for the next turn, from the settings and the switch as they are now.

    Code on the event loop passes the switch it read with `labs.switch.acurrent()`.
    """
    if switch is None:
        switch = coach_switch.current()
    model = switch.model or str(settings.COACH_MODEL)
    if settings.ANTHROPIC_API_KEY and not switch.offline:
        return Backend("api", model, model)
    return Backend("offline", model, OFFLINE_LABEL)


def offline_simulator() -> Simulator:
    """The in-process simulator for the current pacing settings (one per pacing)."""
    tps = float(settings.COACH_TOKENS_PER_SECOND) or None
    key = (float(settings.COACH_TTFT), tps)
    with _lock:
        simulator = _simulators.get(key)
        if simulator is None:
            config = SimulatorConfig(ttft=key[0], tokens_per_second=tps)
            simulator = Simulator(config, responder=offline_responder)
            _simulators[key] = simulator
    return simulator


def _sdk(backend: Backend) -> anthropic.AsyncAnthropic:
    simulator = offline_simulator() if backend.offline else None
    if simulator is not None:
        key = ("offline", str(id(simulator)))
    else:
        key = (str(settings.ANTHROPIC_API_KEY), settings.ANTHROPIC_BASE_URL or "")
    with _lock:
        sdk = _sdks.get(key)
        if sdk is None:
            if simulator is not None:
                sdk = anthropic.AsyncAnthropic(
                    api_key=OFFLINE_API_KEY,
                    base_url=OFFLINE_BASE_URL,
                    max_retries=0,
                    http_client=httpx2.AsyncClient(transport=SimulatorTransport(simulator)),
                )
            else:
                sdk = anthropic.AsyncAnthropic(
                    api_key=key[0],
                    base_url=key[1] or None,
                    max_retries=0,
                    http_client=anthropic.DefaultAioHttpClient(),
                )
            _sdks[key] = sdk
        return sdk


def governor() -> RateGovernor | None:
    """The process's pacing governor for real-API turns, as `COACH_GOVERNOR` says (cached)."""
    mode = str(settings.COACH_GOVERNOR)
    if mode == "auto":
        mode = "redis" if settings.REDIS_URL else "memory"
    limits = Limits.per_minute(
        rpm=settings.COACH_RPM or None,
        itpm=settings.COACH_ITPM or None,
        otpm=settings.COACH_OTPM or None,
    )
    key = (mode, str(settings.REDIS_URL or ""), repr(limits))
    with _lock:
        if key not in _governors:
            if mode == "redis":
                _governors[key] = RedisGovernor(
                    str(settings.REDIS_URL), key_prefix="course:governor", limits=limits
                )
            elif mode == "memory":
                _governors[key] = Governor(limits)
            else:
                _governors[key] = None
        return _governors[key]


def client_for(backend: Backend, budget: Budget | None) -> ResilientClient:
    """A client for one turn: shared SDK and breaker, this turn's budget."""
    breaker = None
    fallback = None
    if not backend.offline:
        # Drills make the offline coach fail on purpose; a breaker there would punish the
        # learner's next turn for the drill, so only the real API gets one.
        with _lock:
            breaker = _breakers.setdefault(backend.model, CircuitBreaker())
        fallback = settings.COACH_FALLBACK_MODEL or None
    return ResilientClient(
        _sdk(backend),
        # Offline drills inject 429s on purpose: pacing them would slow every other learner.
        governor=None if backend.offline else governor(),
        policy=policy,
        budget=budget,
        breaker=breaker,
        fallback_model=fallback,
        sleep=retry_sleep,
        telemetry_hooks=tuple(telemetry_hooks),
        # The page gets a frame every FRAME_INTERVAL: reading the socket more often than that
        # only wakes the process once per token for text that waits for the frame. (The
        # simulator's in-process transport hands over one event per read: no pacing there.)
        read_interval=0.0 if backend.offline else frames.FRAME_INTERVAL,
    )
