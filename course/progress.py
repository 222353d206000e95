"""The learner's path through a module, and the progress other apps report on it.

`course` cannot import `quizzes` or `labs` (they depend on it), so they register a provider
in their AppConfig.ready(); each provider returns a status line per path step it knows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse

from course.content import Module
from course.models import LessonRead

ProgressProvider = Callable[[AbstractBaseUser, Module], dict[str, str]]
_providers: list[ProgressProvider] = []


def register(provider: ProgressProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


@dataclass(frozen=True)
class Step:
    key: str  # "lesson:<slug>", "quiz:<slug>", "lab:<slug>", "test:"
    kind: str
    label: str
    title: str
    url: str
    status: str = ""
    done: bool = False


def step_url(module: Module, key: str) -> str | None:
    kind, _, slug = key.partition(":")
    if kind == "lesson" and module.lesson(slug):
        return reverse("lesson", args=[module.slug, slug])
    if kind == "quiz" and slug in module.quizzes:
        return reverse("quiz", args=[module.slug, slug])
    if kind == "lab" and module.lab(slug):
        return reverse("lab", args=[module.slug, slug])
    if kind == "test" and module.test is not None:
        return reverse("module_test", args=[module.slug])
    return None


def read_lessons(user: AbstractBaseUser | AnonymousUser, module: Module) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(
        LessonRead.objects.filter(user_id=user.pk, module=module.slug).values_list(
            "lesson", flat=True
        )
    )


def module_path(module: Module, user: AbstractBaseUser | AnonymousUser) -> list[Step]:
    """L1 · Quiz · Lab … Module Test, with the learner's status on each step."""
    statuses: dict[str, str] = {}
    if user.is_authenticated:
        for provider in _providers:
            statuses.update(provider(user, module))
    read = read_lessons(user, module)
    steps: list[Step] = []
    for lesson in module.lessons:
        key = f"lesson:{lesson.slug}"
        steps.append(
            Step(
                key,
                "lesson",
                f"L{lesson.number}",
                lesson.title,
                step_url(module, key) or "",
                "Read" if lesson.slug in read else "",
                lesson.slug in read,
            )
        )
        if lesson.slug in module.quizzes:
            key = f"quiz:{lesson.slug}"
            steps.append(
                Step(
                    key,
                    "quiz",
                    "Quiz",
                    module.quizzes[lesson.slug].title,
                    step_url(module, key) or "",
                    statuses.get(key, ""),
                    key in statuses,
                )
            )
        lab = module.lab_for_lesson(lesson.slug)
        if lab is not None:
            key = f"lab:{lab.slug}"
            steps.append(
                Step(
                    key,
                    "lab",
                    "Lab",
                    lab.title,
                    step_url(module, key) or "",
                    statuses.get(key, ""),
                    key in statuses,
                )
            )
    if module.test is not None:
        steps.append(
            Step(
                "test:",
                "test",
                "Module Test",
                module.test.title,
                step_url(module, "test:") or "",
                statuses.get("test:", ""),
                "test:" in statuses,
            )
        )
    return steps


@dataclass(frozen=True)
class ActivityLink:
    """A line on "My progress" contributed by another app (e.g. a lab conversation)."""

    section: str  # heading it is listed under, e.g. "Lab conversations"
    title: str
    url: str
    detail: str = ""


ActivityProvider = Callable[[AbstractBaseUser], list[ActivityLink]]
_activity_providers: list[ActivityProvider] = []


def register_activity(provider: ActivityProvider) -> None:
    if provider not in _activity_providers:
        _activity_providers.append(provider)


def activity(user: AbstractBaseUser) -> list[ActivityLink]:
    return [link for provider in _activity_providers for link in provider(user)]
