"""Django forms of the orders pages."""

import json

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import STORE_EDITABLE_FIELDS, Store
from warehouse.selectors import warehouse_queryset


class SecretTextarea(forms.Textarea):
    """A textarea that never shows a value, not even the one just posted."""

    def format_value(self, value):
        return None


def _formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"  # Django 6's default, without the warning
    return model_field.formfield(**kwargs)


class StoreForm(forms.ModelForm):
    """Create or edit a store. Credentials are a JSON object typed in full, never shown:
    left empty, the stored credentials stay as they are."""

    credentials_json = forms.CharField(
        label=_("Credentials"),
        required=False,
        widget=SecretTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            'A JSON object, e.g. {"access_token": "..."}. Never shown again; leave empty to '
            "keep the stored credentials."
        ),
    )

    class Meta:
        model = Store
        fields = list(STORE_EDITABLE_FIELDS)
        formfield_callback = _formfield
        error_messages = {
            "code": {"unique": _("Another store already has this code.")},
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_warehouse"].queryset = warehouse_queryset(user=user)
        if not self.instance.pk:
            self.fields["code"].widget.attrs["autofocus"] = True
        for name in ("code", "site", "currency"):
            self.fields[name].widget.attrs.update(autocomplete="off", spellcheck="false")

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()

    def clean_credentials_json(self) -> dict | None:
        """None when left empty (keep), else the object typed."""
        text = self.cleaned_data["credentials_json"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_("Enter the credentials as a JSON object.")) from exc
        if not isinstance(value, dict) or not all(
            isinstance(v, str | int | float | bool) for v in value.values()
        ):
            raise forms.ValidationError(
                _("Enter the credentials as a JSON object of names and text values.")
            )
        return {key: str(v) for key, v in value.items()}
