"""One-line lookups that turn a missing module or lesson into a 404."""

from __future__ import annotations

from django.http import Http404

from course.content import Module
from course.registry import get_module


def get_module_or_404(slug: str) -> Module:
    module = get_module(slug)
    if module is None:
        raise Http404(f"No module '{slug}'.")
    return module
