"""What the labs contribute to "My progress": a status per lab step, and each conversation."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count
from django.urls import reverse

from course.content import Module
from course.progress import ActivityLink
from course.registry import get_module
from labs.models import Conversation


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def lab_statuses(user: AbstractBaseUser, module: Module) -> dict[str, str]:
    """`lab:<slug>` -> "2 conversations" for each lab the learner has talked in."""
    rows = (
        Conversation.objects.filter(user_id=user.pk, module=module.slug)
        .annotate(n=Count("messages"))
        .filter(n__gt=0)
        .values_list("lab", flat=True)
    )
    counts: dict[str, int] = {}
    for lab in rows:
        counts[lab] = counts.get(lab, 0) + 1
    return {f"lab:{lab}": _plural(n, "conversation") for lab, n in counts.items()}


def conversations_activity(user: AbstractBaseUser) -> list[ActivityLink]:
    links = []
    conversations = (
        Conversation.objects.filter(user_id=user.pk).annotate(n=Count("messages")).filter(n__gt=0)
    )
    for conversation in conversations[:50]:
        module = get_module(conversation.module)
        lab = module.lab(conversation.lab) if module else None
        if module is None or lab is None:
            continue
        links.append(
            ActivityLink(
                section="Lab conversations",
                title=conversation.title or "Untitled conversation",
                url=reverse("lab_conversation", args=[module.slug, lab.slug, conversation.pk]),
                detail=f"Lab {lab.number}: {lab.title} · {_plural(conversation.n, 'message')}",
            )
        )
    return links
