from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from course.rendering import render_inline

register = template.Library()


@register.filter
def inline_md(text: str) -> SafeString:
    """Prompt, option and explanation text: inline markdown, sanitised by the renderer."""
    return mark_safe(render_inline(text))


@register.filter
def as_percent(value: float | None) -> str:
    """A share (0..1) as a whole percent; a dash when there is no data."""
    return "—" if value is None else f"{round(value * 100)} %"


@register.filter
def signed2(value: float | None) -> str:
    """A correlation to two places with its sign; a dash when undefined."""
    return "—" if value is None else f"{value:+.2f}".replace("-", "−")
