"""The real module 8 content, and a helper to talk to its offline coach turn by turn."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings as django_settings

from course.registry import get_module
from labs.coach import system_prefix
from labs.coaching.evaluation import converse
from labs.offline import offline_responder
from tests.conftest import REPO


@pytest.fixture
def real_module(settings):
    settings.CONTENT_DIR = REPO / "content"
    module = get_module("production-patterns")
    assert module is not None, "content/module-08-production-patterns is missing"
    return module


@pytest.fixture
def talk(real_module) -> Callable[..., list[str]]:
    """talk("retry-strategies", "first message", "second", ...) -> the coach's replies."""

    def run(lab_slug: str, *turns: str) -> list[str]:
        lab = real_module.lab(lab_slug)
        system = system_prefix(lab, real_module.lesson(lab.lesson))
        return converse(offline_responder, system, str(django_settings.COACH_MODEL), turns)

    return run
