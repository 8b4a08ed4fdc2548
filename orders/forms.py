"""Django forms of the orders pages."""

import json
import re

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from erp.scopes import sees_all_stores
from orders.models import (
    STORE_EDITABLE_FIELDS,
    BlockedBuyer,
    Order,
    Platform,
    ReviewRule,
    Store,
    Tag,
)
from orders.selectors import store_queryset
from orders.services.config import RULE_FIELDS
from orders.services.upsert import ADDRESS_FIELDS
from warehouse.forms import SkuLookupField
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


# --- Orders ----------------------------------------------------------------------------------


class BulkAction(models.TextChoices):
    """What the order list's bulk bar (and the detail page's buttons) may do."""

    APPROVE = "approve", _("Approve")
    HOLD = "hold", _("Hold")
    RELEASE = "release", _("Release hold")
    ALLOCATE = "allocate", _("Allocate")
    DEALLOCATE = "deallocate", _("Undo allocation")
    CANCEL = "cancel", _("Cancel")
    MERGE = "merge", _("Merge")


class IdListField(forms.Field):
    """Checked rows: every value a whole number, at least one."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Tick at least one order first."),
        "invalid": _("The chosen orders could not be read; reload the page and try again."),
    }

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(choices=BulkAction.choices)
    order = IdListField()
    note = forms.CharField(required=False, max_length=300, label=_("Why held"))
    reason = forms.CharField(required=False, max_length=300, label=_("Why cancelled"))

    def clean(self):
        data = super().clean()
        if data.get("action") == BulkAction.HOLD and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the orders are held."))
        if data.get("action") == BulkAction.CANCEL and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the orders are cancelled."))
        return data


class AddressForm(forms.ModelForm):
    """The ship-to address; ``order_edit_address`` writes it. Bound to a copy of the order."""

    class Meta:
        model = Order
        fields = list(ADDRESS_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ship_name"].widget.attrs["autofocus"] = True
        self.fields["ship_country"].widget.attrs.update(
            autocomplete="off", spellcheck="false", maxlength=2, size=3
        )
        self.fields["ship_country"].help_text = _("Two-letter ISO code, such as US or DE.")

    def clean_ship_country(self):
        value = self.cleaned_data["ship_country"].strip().upper()
        if value and not re.fullmatch(r"[A-Z]{2}", value):
            raise forms.ValidationError(
                _("The country is a two-letter ISO code, such as US or DE.")
            )
        return value


class SplitForm(forms.Form):
    """How many units of each line move to the new order: one number field per line."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=_("Units of %(sku)s to move") % {"sku": line.platform_sku},
                min_value=0,
                max_value=line.quantity,
                required=False,  # empty: none of this line moves
                widget=forms.NumberInput(
                    attrs={"min": 0, "max": line.quantity, "size": 4, "placeholder": "0"}
                ),
            )
        if self.lines:
            self.fields[f"line_{self.lines[0].pk}"].widget.attrs["autofocus"] = True

    def rows(self):
        """(line, its quantity field) pairs for the template."""
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]

    def quantities(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data[f"line_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        }

    def clean(self):
        data = super().clean()
        if not self.errors and not self.quantities():
            raise forms.ValidationError(_("Choose how many units of which lines to split off."))
        return data


# --- Pairing, rules, blocklist ---------------------------------------------------------------


class PairScope(models.TextChoices):
    STORE = "store", _("This store only")
    ALL = "all", _("Every store")


class PairForm(forms.Form):
    """Pair one platform SKU of one store (or of every store) to our SKU × quantity."""

    platform_sku = forms.CharField(max_length=100, widget=forms.HiddenInput)
    store = forms.ModelChoiceField(
        queryset=Store.objects.none(), required=False, widget=forms.HiddenInput
    )
    sku = SkuLookupField(
        label=_("Our SKU"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": _("SKU code or barcode"),
                "list": "sku-codes",
            }
        ),
    )
    quantity = forms.IntegerField(
        label=_("Units per platform unit"),
        min_value=1,
        initial=1,
        widget=forms.NumberInput(attrs={"min": 1, "size": 3}),
    )
    scope = forms.ChoiceField(label=_("For"), choices=PairScope.choices, initial=PairScope.STORE)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["store"].queryset = store_queryset(user=user)

    def clean_sku(self):
        sku = self.cleaned_data["sku"]
        if sku is not None and not sku.is_active:
            raise forms.ValidationError(_("%(sku)s is not active.") % {"sku": sku.code})
        return sku

    def clean(self):
        data = super().clean()
        if data.get("scope") == PairScope.ALL and not sees_all_stores(self.user):
            self.add_error("scope", _("Only people who see every store may pair for all stores."))
        elif data.get("scope") == PairScope.STORE and not data.get("store"):
            self.add_error("scope", _("Choose the store, or pair for every store."))
        return data


class AnyYesNoSelect(forms.NullBooleanSelect):
    """A condition that may be left out: any, yes or no."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("unknown", _("Any")), ("true", _("Yes")), ("false", _("No"))]


def _countries(text: str) -> str:
    codes = [c.strip().upper() for c in re.split(r"[,\s]+", text or "") if c.strip()]
    bad = [c for c in codes if not re.fullmatch(r"[A-Z]{2}", c)]
    if bad:
        raise forms.ValidationError(
            _("Not two-letter country codes: %(codes)s") % {"codes": ", ".join(bad)}
        )
    return ",".join(dict.fromkeys(codes))


class ReviewRuleForm(forms.ModelForm):
    """A review rule: every condition set must match; the action's own field must be filled
    (as the model's check constraints demand), so a refusal is a form error."""

    sku = SkuLookupField(
        label=_("Contains SKU"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_("SKU code or barcode."),
    )
    new_tag = forms.CharField(
        label=_("Or a new tag"),
        max_length=50,
        required=False,
        help_text=_("Created when the rule is saved."),
    )

    class Meta:
        model = ReviewRule
        fields = list(RULE_FIELDS)  # what orders.services.config.review_rule_save writes
        widgets = {
            "has_buyer_note": AnyYesNoSelect,
            "address_incomplete": AnyYesNoSelect,
            "buyer_blocklisted": AnyYesNoSelect,
        }
        help_texts = {"priority": _("Lower numbers run first.")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["name"].widget.attrs["autofocus"] = True
        self.fields["store"].queryset = store_queryset(user=user)
        self.fields["store"].empty_label = _("Every store")
        self.fields["platform"].choices = [("", _("Every platform")), *Platform.choices]
        self.fields["warehouse"].queryset = warehouse_queryset(user=user)
        self.fields["tag"].queryset = Tag.objects.order_by("name")
        if self.instance.sku_id and not self.is_bound:
            self.initial["sku"] = self.instance.sku.code
        self.fields["countries"].widget.attrs.update(
            autocomplete="off", spellcheck="false", placeholder="US, CA"
        )
        # Shown only for the action that needs them (caravan.js; all shown without script).
        for name, action in (
            ("hold_reason", ReviewRule.Action.HOLD),
            ("warehouse", ReviewRule.Action.SET_WAREHOUSE),
            ("tag", ReviewRule.Action.TAG),
            ("new_tag", ReviewRule.Action.TAG),
        ):
            self.fields[name].widget.attrs["data-show-for"] = f"action={action}"

    def clean_countries(self):
        return _countries(self.cleaned_data["countries"])

    def clean_store(self):
        store = self.cleaned_data["store"]
        if store is None and not sees_all_stores(self.user):
            raise forms.ValidationError(
                _("Choose one of your stores: only people who see every store set global rules.")
            )
        return store

    def clean(self):
        data = super().clean()
        action = data.get("action")
        low, high = data.get("min_total"), data.get("max_total")
        if low is not None and high is not None and low > high:
            self.add_error("max_total", _("The upper limit is below the lower one."))
        if action == ReviewRule.Action.HOLD and not data.get("hold_reason"):
            self.add_error("hold_reason", _("A hold needs its reason."))
        if action == ReviewRule.Action.SET_WAREHOUSE and not data.get("warehouse"):
            self.add_error("warehouse", _("Choose the warehouse to set."))
        if action == ReviewRule.Action.TAG:
            new_tag = (data.get("new_tag") or "").strip()
            if not data.get("tag") and not new_tag:
                self.add_error("tag", _("Choose a tag, or name a new one."))
        # Fields of other actions are cleared, so the list never shows a stale one.
        if action != ReviewRule.Action.HOLD:
            data["hold_reason"] = ""
        if action != ReviewRule.Action.SET_WAREHOUSE:
            data["warehouse"] = None
        if action != ReviewRule.Action.TAG:
            data["tag"] = None
            data["new_tag"] = ""
        return data

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if self.cleaned_data.get("new_tag") and not self.cleaned_data.get("tag"):
            exclude.add("tag")  # the new tag is created on save, before the row is written
        return exclude


class BlockedBuyerForm(forms.ModelForm):
    class Meta:
        model = BlockedBuyer
        fields = ["buyer", "platform", "reason"]
        help_texts = {
            "buyer": _("Matched against the order's buyer e-mail and name, ignoring case."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [("", _("Every platform")), *Platform.choices]
        self.fields["buyer"].widget.attrs.update(
            autofocus=True, autocomplete="off", spellcheck="false"
        )

    def clean_buyer(self):
        return self.cleaned_data["buyer"].strip()

    def clean(self):
        data = super().clean()
        buyer = data.get("buyer")
        if buyer and (
            BlockedBuyer.objects.filter(buyer__iexact=buyer, platform=data.get("platform") or "")
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            self.add_error("buyer", _("This buyer is already on the blocklist."))
        return data
