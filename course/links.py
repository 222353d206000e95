"""Turn `lesson:slug`-style links in content into site URLs."""

from __future__ import annotations

from course.content import Module
from course.progress import step_url


def resolver_for(module: Module):  # type: ignore[no-untyped-def]
    def resolve(href: str) -> str | None:
        return step_url(module, "test:" if href.startswith("test:") else href)

    return resolve
