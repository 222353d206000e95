"""A test-only URLconf: one view that logs and makes a resilient call, as a coach turn would."""

from __future__ import annotations

import logging

import anthropic
import httpx2
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from resilient import ResilientClient
from resilient.simulator import Simulator, SimulatorConfig, SimulatorTransport

logger = logging.getLogger("tests.ops.probe")


async def _no_sleep(delay: float) -> None:
    return None


async def probe(request: HttpRequest) -> JsonResponse:
    logger.warning("probe view called")
    simulator = Simulator(SimulatorConfig(faults="429:retry_after=1,ok"))
    sdk = anthropic.AsyncAnthropic(
        api_key="sk-probe",
        base_url="http://probe.invalid",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=SimulatorTransport(simulator)),
    )
    client = ResilientClient(sdk, sleep=_no_sleep)
    result = await client.create(
        model="claude-sonnet-4-6", max_tokens=40, messages=[{"role": "user", "content": "hi"}]
    )
    logger.info("probe view done")
    return JsonResponse({"attempts": result.attempts, "correlation_id": result.correlation_id})


urlpatterns = [path("probe/", probe), path("", include("config.urls"))]
