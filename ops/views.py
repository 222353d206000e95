"""Operations pages: the staff dashboard and switch, `/metrics` and `/healthz`."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from prometheus_client import CONTENT_TYPE_LATEST

from course.access import staff_page
from course.rendering import render_document
from labs import switch
from labs.models import CoachSwitch
from ops import dashboard, health, process_metrics, turn_metrics
from ops.forms import SwitchForm

View = Callable[..., HttpResponse]


staff_only = staff_page("The operations pages are for staff.")


def _page(request: HttpRequest, form: SwitchForm | None = None, status: int = 200) -> HttpResponse:
    window = request.GET.get("window", "day")
    if window not in dashboard.WINDOWS:
        window = "day"
    row = CoachSwitch.objects.filter(pk=switch.SINGLETON_PK).select_related("updated_by").first()
    return render(
        request,
        "ops/dashboard.html",
        {
            "board": dashboard.build(timezone.now(), window),
            "windows": dashboard.WINDOW_TITLES,
            "switch_row": row,
            "switch_form": form or SwitchForm.from_row(row),
            "configured_model": settings.COACH_MODEL,
            "api_key_set": bool(settings.ANTHROPIC_API_KEY),
        },
        status=status,
    )


@require_GET
@staff_only
@never_cache
def ops_dashboard(request: HttpRequest) -> HttpResponse:
    return _page(request)


RUNBOOK = settings.BASE_DIR / "docs" / "runbook.md"


@require_GET
@staff_only
def runbook(request: HttpRequest) -> HttpResponse:
    """docs/runbook.md as a page, so each alert on the dashboard links to what to do."""
    title, _, body = RUNBOOK.read_text(encoding="utf-8").partition("\n")
    context = {"title": title.removeprefix("# "), "runbook": render_document(body)}
    return render(request, "ops/runbook.html", context)


@require_POST
@staff_only
def coach_switch(request: HttpRequest) -> HttpResponse:
    form = SwitchForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    state = switch.save(
        offline=form.cleaned_data["backend"] == CoachSwitch.Backend.OFFLINE,
        model=form.cleaned_data["model_override"],
        note=form.cleaned_data["note"],
        user_id=request.user.pk,
    )
    what = "the offline coach" if state.offline else "the configured backend"
    model = state.model or f"the configured model ({settings.COACH_MODEL})"
    messages.success(request, f"From the next turn, coaches use {what} with {model}.")
    return redirect("ops_dashboard")


def _bearer_ok(request: HttpRequest) -> bool:
    token = getattr(settings, "METRICS_TOKEN", None)
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())


def _operator(request: HttpRequest) -> bool:
    """Staff, or a caller holding the operators' token (`METRICS_TOKEN`)."""
    return _bearer_ok(request) or (request.user.is_authenticated and request.user.is_staff)


@require_http_methods(["GET", "HEAD"])
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _operator(request):
        response = HttpResponse(
            "Metrics need a staff login or the bearer token (METRICS_TOKEN).\n",
            status=401 if not request.user.is_authenticated else 403,
            content_type="text/plain",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    now = timezone.now()
    gauges = turn_metrics.Gauges(
        running=turn_metrics.running_now(now),
        cost_today_usd=float(dashboard.cost_today(now)),
        budget_day_usd=float(settings.BUDGET_GLOBAL_DAY_USD),
        alerts={a.rule.name: a.firing for a in dashboard.alert_states(now)},
    )
    body = process_metrics.exposition() + turn_metrics.exposition(gauges)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


@require_GET
@never_cache
async def healthz(request: HttpRequest) -> HttpResponse:
    """Anyone may ask whether the site is up (a load balancer does); which database, channel
    layer, coach and model it runs on is for staff and the operators' token."""
    healthy, body = await health.run()
    user = await request.auser()
    if not (_bearer_ok(request) or (user.is_authenticated and user.is_staff)):
        body = {"status": body["status"]}
    return JsonResponse(body, status=200 if healthy else 503)
