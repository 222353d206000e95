from __future__ import annotations

from typing import Any

from django import forms

from labs.models import CoachSwitch
from resilient import DEFAULT_PRICES


class SwitchForm(forms.Form):
    backend = forms.ChoiceField(
        label="Coaches answer with",
        choices=CoachSwitch.Backend.choices,
        widget=forms.RadioSelect,
    )
    model_override = forms.CharField(
        label="Model override",
        required=False,
        max_length=100,
        help_text="A model id to use instead of the configured one, e.g. claude-haiku-4-5. "
        "Leave blank to use the configured model.",
    )
    note = forms.CharField(label="Why (shown on the dashboard)", required=False, max_length=200)

    def clean_model_override(self) -> str:
        model: str = self.cleaned_data["model_override"].strip()
        # An unpriced model would make every turn's cost unknown and the budgets blind.
        if model and not DEFAULT_PRICES.known(model):
            known = ", ".join(sorted(DEFAULT_PRICES.prices))
            raise forms.ValidationError(f"There is no price for {model!r}. Known models: {known}.")
        return model

    @classmethod
    def from_row(cls, row: CoachSwitch | None, **kwargs: Any) -> SwitchForm:
        initial = {"backend": CoachSwitch.Backend.AUTO, "model_override": "", "note": ""}
        if row is not None:
            initial = {
                "backend": row.backend,
                "model_override": row.model_override,
                "note": row.note,
            }
        return cls(initial=initial, **kwargs)
