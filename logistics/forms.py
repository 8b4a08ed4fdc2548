"""Django forms of the shipping setup pages."""

from __future__ import annotations

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.forms import ImportFileField
from logistics.carriers import CONNECTORS
from logistics.models import Carrier, ChannelRule, RuleAction, ShippingChannel
from logistics.services.rules import CARRIER_FIELDS, CHANNEL_FIELDS, RULE_FIELDS
from orders.models import Platform
from orders.selectors import store_queryset
from warehouse.selectors import warehouse_queryset


def _formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"  # Django 6's default, without the warning
    return model_field.formfield(**kwargs)


CREDENTIAL_LABELS = {
    "app_key": _("App key"),
    "app_secret": _("App secret"),
    "customer_code": _("Customer code"),
    "api_secret": _("API secret"),
}


def credential_keys() -> dict[str, tuple[str, ...]]:
    """Connector kind -> the credential keys its account needs (from the connectors)."""
    return {kind: tuple(cls.REQUIRED_CREDENTIALS) for kind, cls in CONNECTORS.items()}


class CarrierForm(forms.ModelForm):
    """A carrier and its API keys. Keys are typed into password inputs that never show a
    value: a key left empty keeps the stored one."""

    clear_credentials = forms.BooleanField(label=_("Remove the stored keys"), required=False)

    class Meta:
        model = Carrier
        fields = list(CARRIER_FIELDS)
        formfield_callback = _formfield
        error_messages = {"code": {"unique": _("Another carrier already has this code.")}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["code"].widget.attrs["autofocus"] = True
        self.credential_fields: list[str] = []
        for kind, keys in credential_keys().items():
            for key in keys:
                name = f"credential_{key}"
                if name in self.fields:
                    continue
                self.fields[name] = forms.CharField(
                    label=CREDENTIAL_LABELS.get(key, key),
                    required=False,
                    strip=True,
                    widget=forms.PasswordInput(
                        render_value=False,
                        attrs={
                            "autocomplete": "new-password",
                            "data-show-for": f"connector={kind}",
                        },
                    ),
                )
                self.credential_fields.append(name)

    def credentials(self) -> dict[str, str] | None:
        """The keys typed in for the chosen connector (None: nothing typed, keep them)."""
        keys = credential_keys().get(self.cleaned_data["connector"], ())
        typed = {key: self.cleaned_data.get(f"credential_{key}", "") for key in keys}
        typed = {key: value for key, value in typed.items() if value}
        return typed or None


class ChannelForm(forms.ModelForm):
    class Meta:
        model = ShippingChannel
        fields = [*CHANNEL_FIELDS, "warehouses"]
        widgets = {"warehouses": forms.CheckboxSelectMultiple}
        error_messages = {"code": {"unique": _("Another channel already has this code.")}}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].queryset = Carrier.objects.order_by("code")
        self.fields["warehouses"].queryset = warehouse_queryset(user=user)
        self.fields["countries"].widget = forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "US GB DE"}
        )
        self.fields["countries"].help_text = _(
            "Two-letter codes separated by spaces; empty: every country the rate card prices."
        )
        for name in ("code", "service_code", "currency"):
            self.fields[name].widget.attrs.update(autocomplete="off", spellcheck="false")
        layout = self.fields["label_layout"]
        layout.required = False
        layout.widget = forms.Textarea(
            attrs={"rows": 6, "spellcheck": "false", "class": "code", "placeholder": "{}"}
        )
        layout.help_text = _(
            "Changes to the base layout of the label size, as JSON: move or resize a block "
            '({"blocks": {"pick": {"w": 50}}}), hide one ({"blocks": {"customs": null}}) or '
            'add a text ({"blocks": {"note": {"kind": "text", "text": "FRAGILE", "x": 52, '
            '"y": 94, "w": 46, "h": 20, "font_size": 14}}}). Millimetres from the top left.'
        )

    def clean_label_layout(self):
        return self.cleaned_data.get("label_layout") or {}


class RateImportForm(forms.Form):
    file = ImportFileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GB18030) or Excel .xlsx, with the columns of the export."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.tsv,.txt"}),
    )
    replace = forms.BooleanField(
        label=_("Replace the channel's rates"),
        required=False,
        help_text=_("Delete the stored rows that are not in the file."),
    )


class ChannelRuleForm(forms.ModelForm):
    class Meta:
        model = ChannelRule
        fields = list(RULE_FIELDS)
        help_texts = {"priority": _("Lower numbers run first.")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True
        self.fields["store"].queryset = store_queryset(user=user)
        self.fields["store"].empty_label = _("Every store")
        self.fields["warehouse"].queryset = warehouse_queryset(user=user)
        self.fields["warehouse"].empty_label = _("Every warehouse")
        self.fields["platform"] = forms.ChoiceField(
            label=_("Platform"),
            required=False,
            choices=[("", _("Every platform")), *Platform.choices],
        )
        self.fields["sku_flag"].choices = [
            ("", _("Any goods")),
            *self.fields["sku_flag"].choices[1:],
        ]
        self.fields["channel"].queryset = ShippingChannel.objects.select_related(
            "carrier"
        ).order_by("code")
        self.fields["channel"].widget.attrs["data-show-for"] = f"action={RuleAction.CHANNEL}"
        self.fields["countries"].widget = forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "US CA"}
        )

    def clean(self):
        data = super().clean()
        if data.get("action") == RuleAction.CHANNEL and not data.get("channel"):
            self.add_error("channel", _("Choose the channel this rule uses."))
        for low, high in (("min_weight_g", "max_weight_g"), ("min_value", "max_value")):
            a, b = data.get(low), data.get(high)
            if a is not None and b is not None and a > b:
                self.add_error(high, _("The upper limit is below the lower one."))
        return data
