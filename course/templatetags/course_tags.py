"""Template tags for course content shown outside the lesson body."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from course.content import Correction
from course.markdown_parser import ANNOTATION_KINDS
from course.rendering import render_inline

register = template.Library()


@register.simple_tag
def correction_note(correction: Correction | None) -> SafeString | str:
    """The note beside corrected course text (a prompt, an explanation, a definition); nothing
    when the text is not a correction. Phrasing content, so it may sit in a legend or a `dd`."""
    if correction is None:
        return ""
    return format_html(
        '<small class="correction-note"><span class="correction-label">{}</span> {}</small>',
        ANNOTATION_KINDS["correction"],
        mark_safe(render_inline(correction.note)),  # sanitised by render_inline
    )
