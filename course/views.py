from __future__ import annotations

import logging
from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from course.access import HtmxHttpRequest, get_module_or_404
from course.content import Lesson, Module
from course.links import resolver_for
from course.models import LessonRead
from course.progress import course_map, read_lessons
from course.registry import get_modules
from course.rendering import LRU, render_markdown

logger = logging.getLogger(__name__)


_articles: LRU[str] = LRU(128)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    modules = [(module, course_map(module, request.user)) for module in get_modules()]
    return render(request, "course/home.html", {"modules": modules})


@require_GET
def lesson(request: HttpRequest, module: str, slug: str) -> HttpResponse:
    mod = get_module_or_404(module)
    item = mod.lesson(slug)
    if item is None:
        broken = mod.broken.get(slug)
        if broken is None:
            return render(
                request, "404.html", {"message": f"There is no lesson '{slug}'."}, status=404
            )
        logger.error("broken lesson requested", extra={"path": broken.path, "slug": slug})
        return render(
            request, "course/lesson_broken.html", {"module": mod, "broken": broken}, status=500
        )
    return render(
        request,
        "course/lesson.html",
        {
            "module": mod,
            "lesson": item,
            "article": _article_html(mod, item),
            "is_read": slug in read_lessons(request.user, mod),
        },
    )


def _article_html(module: Module, item: Lesson) -> str:
    """The part of a lesson page that is the same for everyone, rendered once per version."""
    key = f"{module.slug}:{module.version}:{item.slug}"
    cached = _articles.get(key)
    if cached is None:
        previous, following = module.neighbours(item.slug)
        cached = render_to_string(
            "course/lesson.html#article",
            {
                "module": module,
                "lesson": item,
                "rendered": render_markdown(item.body, resolver_for(module), cache_key=key),
                "previous": previous,
                "next": following,
                "quiz": module.quizzes.get(item.slug),
                "lab": module.lab_for_lesson(item.slug),
            },
        )
        _articles.put(key, cached)
    return cached


@require_POST
@login_required
def mark_read(request: HtmxHttpRequest, module: str, slug: str) -> HttpResponse:
    mod = get_module_or_404(module)
    if mod.lesson(slug) is None:
        return render(request, "404.html", {"message": f"There is no lesson '{slug}'."}, status=404)
    user = cast(User, request.user)  # login_required
    read = request.POST.get("read", "1") != "0"
    if read:
        LessonRead.objects.get_or_create(user=user, module=mod.slug, lesson=slug)
    else:
        LessonRead.objects.filter(user=user, module=mod.slug, lesson=slug).delete()
    if request.htmx:
        return render(
            request,
            "course/lesson.html#read-toggle",
            {"module": mod, "lesson": mod.lesson(slug), "is_read": read},
        )
    return redirect("lesson", mod.slug, slug)
