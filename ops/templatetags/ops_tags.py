from __future__ import annotations

from django import template

register = template.Library()

DASH = "–"


@register.filter
def ms_as_seconds(value: float | None) -> str:
    """1234 -> "1.23 s"; None (no data) -> an en dash."""
    if value is None:
        return DASH
    return f"{value / 1000:.2f} s"


@register.filter
def fraction_as_percent(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value * 100:.1f} %"


@register.filter
def signal_value(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    if unit == "ms":
        return f"{value / 1000:.2f} s"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "USD":
        return f"${value:,.2f}"
    return f"{value:g} {unit}"


@register.filter
def get(mapping: dict[object, object], key: object) -> object:
    return mapping.get(key)
