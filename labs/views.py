"""Lab pages: the chat, reopening a conversation, starting over, and the instructors' view."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from course.access import get_module_or_404, staff_page
from course.content import Lab, Module
from labs.backend import choose_backend
from labs.drills import DRILLS
from labs.fragments import MessageView, interrupted_view, message_view
from labs.models import CoachTurn, Conversation, Message

# A chat form posted over HTTP means its websocket was not open when Send was pressed.
NO_CONNECTION_STATUS = 409
NO_CONNECTION_MESSAGE = (
    "The chat needs a live connection to the coach, and it is not open right now, so nothing "
    "was sent: your message is kept below. Wait a moment (or reload the page), then send it again."
)


def _lab_or_404(module: Module, slug: str) -> Lab:
    lab = module.lab(slug)
    if lab is None:
        raise Http404(f"There is no lab '{slug}'.")
    return lab


def transcript(
    conversation: Conversation, module: Module, lab: Lab, *, read_only: bool
) -> list[MessageView]:
    messages = list(conversation.messages.all())
    turns = {
        turn.assistant_message_id: turn
        for turn in CoachTurn.objects.filter(conversation=conversation).order_by("started", "id")
    }
    lapsed = conversation.busy_until is None or conversation.busy_until < timezone.now()
    learner = conversation.user.get_username() if read_only else "You"
    views = [
        interrupted_view(m, module, lab)
        if m.status == Message.Status.STREAMING and lapsed  # nobody runs its turn any more
        else message_view(m, module, lab, turns.get(m.pk), learner=learner)
        for m in messages
    ]
    if views and not read_only and views[-1].status == Message.Status.FAILED:
        views[-1].can_retry = True
    return views


def _page(
    request: HttpRequest,
    module: Module,
    lab: Lab,
    conversation: Conversation | None,
    *,
    read_only: bool = False,
    draft: str = "",
    alert: str = "",
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "module": module,
        "lab": lab,
        "lesson": module.lesson(lab.lesson),
        "conversation": conversation,
        "read_only": read_only,
        "backend": choose_backend(),
        "drills": DRILLS,
        "draft": draft,
        "alert": alert,
        "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
    }
    if conversation is not None:
        views = transcript(conversation, module, lab, read_only=read_only)
        context["chat_messages"] = views
        context["busy"] = bool(conversation.busy_until and conversation.busy_until > timezone.now())
        context["earlier"] = (
            Conversation.objects.filter(user=conversation.user, module=module.slug, lab=lab.slug)
            .annotate(n=Count("messages"))
            .filter(n__gt=0)
        )
    return render(request, "labs/lab.html", context, status=status)


@require_GET
def lab(request: HttpRequest, module: str, slug: str) -> HttpResponse:
    mod = get_module_or_404(module)
    item = _lab_or_404(mod, slug)
    if not request.user.is_authenticated:
        return _page(request, mod, item, None)
    conversation = Conversation.objects.filter(
        user=request.user, module=mod.slug, lab=item.slug
    ).first()
    if conversation is None:
        conversation = Conversation.objects.create(user=request.user, module=mod.slug, lab=slug)
    return _page(request, mod, item, conversation)


@require_http_methods(["GET", "POST"])
@login_required
def conversation(request: HttpRequest, module: str, slug: str, pk: int) -> HttpResponse:
    mod = get_module_or_404(module)
    item = _lab_or_404(mod, slug)
    found = get_object_or_404(Conversation, pk=pk, module=mod.slug, lab=item.slug)
    if found.user_id != request.user.pk and not request.user.is_staff:
        raise Http404("No such conversation.")
    read_only = found.user_id != request.user.pk
    if request.method == "POST":
        if read_only:
            raise PermissionDenied("Another learner's conversation is read-only.")
        # Messages travel over the websocket only (one turn at a time, streamed); the form's
        # native submission is the fallback when that socket is down. Store nothing, hand the
        # text back in the box and say why.
        return _page(
            request,
            mod,
            item,
            found,
            draft=request.POST.get("message", ""),
            alert=NO_CONNECTION_MESSAGE,
            status=NO_CONNECTION_STATUS,
        )
    return _page(request, mod, item, found, read_only=read_only)


@require_POST
@login_required
def new_conversation(request: HttpRequest, module: str, slug: str) -> HttpResponse:
    mod = get_module_or_404(module)
    item = _lab_or_404(mod, slug)
    created = Conversation.objects.create(
        user=cast(User, request.user), module=mod.slug, lab=item.slug
    )
    return redirect("lab_conversation", mod.slug, item.slug, created.pk)


@require_GET
@staff_page("Every learner's conversations are for instructors (staff accounts).")
def instructor(request: HttpRequest) -> HttpResponse:
    totals = (
        CoachTurn.objects.values("module", "lab")
        .annotate(
            turns=Count("id"),
            conversations=Count("conversation", distinct=True),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cache_read=Sum("cache_read_tokens"),
            cache_write=Sum("cache_write_tokens"),
            cost=Sum("cost_usd"),
        )
        .order_by("module", "lab")
    )
    conversations = list(
        Conversation.objects.select_related("user")
        .annotate(n=Count("messages"))
        .filter(n__gt=0)[:200]
    )
    # Summed apart from the message count: one query joining both would multiply the sums.
    costs = dict(
        CoachTurn.objects.filter(conversation__in=conversations)
        .values("conversation")
        .annotate(cost=Sum("cost_usd"))
        .values_list("conversation", "cost")
    )
    rows = [
        {
            "c": c,
            "cost": costs.get(c.pk),
            "url": reverse("lab_conversation", args=[c.module, c.lab, c.pk]),
        }
        for c in conversations
    ]
    return render(request, "labs/instructor.html", {"totals": totals, "rows": rows})
