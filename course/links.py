"""Turn `lesson:slug`-style links in content into site URLs."""

from __future__ import annotations

from course.content import Module
from course.progress import step_url


def resolver_for(module: Module):  # type: ignore[no-untyped-def]
    def resolve(href: str) -> str | None:
        # `lesson:slug#section` links to a section of the page: the anchor rides along.
        target, _, anchor = href.partition("#")
        url = step_url(module, "test:" if target.startswith("test:") else target)
        return f"{url}#{anchor}" if url and anchor else url

    return resolve
