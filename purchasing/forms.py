"""Forms of the purchasing pages: they parse and check input; the services write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import forms
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from purchasing.models import (
    Account1688,
    PurchaseOrder,
    Supplier,
    SupplierPayment,
    SupplierProduct,
)
from warehouse.labels import CODE_CHOICES, SIZE_CHOICES
from warehouse.models import Sku


def _formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"  # Django 6's default, without the warning
    return model_field.formfield(**kwargs)


TIER_RE = re.compile(r"^\s*(\d+)\s*(?:[:=：,，+]|\s)\s*¥?\s*(\d+(?:\.\d+)?)\s*$")


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        formfield_callback = _formfield
        fields = [
            "code",
            "name",
            "kind",
            "account",
            "member_id",
            "login_id",
            "shop_url",
            "contact_name",
            "phone",
            "wechat",
            "payment_terms",
            "prepay_pct",
            "credit_days",
            "currency",
            "lead_days",
            "rating",
            "notes",
            "is_active",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account1688.objects.filter(is_active=True)
        self.fields["account"].help_text = _("1688 shops only: the buyer account that orders.")
        self.fields["code"].widget.attrs["autofocus"] = True
        for name in ("member_id", "login_id", "code", "currency", "phone", "wechat"):
            self.fields[name].widget.attrs["spellcheck"] = "false"


def tiers_text(tiers) -> str:
    return "\n".join(f"{start}: {price}" for start, price in tiers or [])


class TiersField(forms.CharField):
    """Price tiers typed one a line: ``10: 16.80`` = from 10 units, 16.80 each."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})

    def prepare_value(self, value):
        return tiers_text(value) if isinstance(value, list) else value

    def to_python(self, value):
        value = super().to_python(value)
        tiers = []
        for number, line in enumerate(value.splitlines(), start=1):
            if not line.strip():
                continue
            match = TIER_RE.match(line)
            if match is None or int(match.group(1)) < 1:
                raise forms.ValidationError(
                    _("Line %(n)d: write “from quantity: unit price”, e.g. “10: 16.80”.")
                    % {"n": number}
                )
            tiers.append([int(match.group(1)), str(Decimal(match.group(2)))])
        tiers.sort(key=lambda tier: tier[0])
        if len({start for start, _price in tiers}) != len(tiers):
            raise forms.ValidationError(_("Each starting quantity once."))
        return tiers


class SkuCodeField(forms.CharField):
    """A SKU by its code or barcode (scanned or typed)."""

    default_error_messages = {"unknown": gettext_lazy("No active SKU has the code %(code)s.")}

    def to_python(self, value):
        code = super().to_python(value).strip()
        if not code:
            return None
        sku = (
            Sku.objects.filter(is_active=True, code=code).first()
            or Sku.objects.filter(is_active=True, barcode=code).first()
        )
        if sku is None:
            raise forms.ValidationError(
                self.error_messages["unknown"], code="unknown", params={"code": code}
            )
        return sku


class SupplierProductForm(forms.ModelForm):
    sku_code = SkuCodeField(
        label=gettext_lazy("SKU"), widget=forms.TextInput(attrs={"maxlength": 64})
    )
    offer_id = forms.CharField(
        label=gettext_lazy("1688 offer id"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("The offer's digits, or paste the offer's URL."),
    )
    price_tiers = TiersField(
        label=gettext_lazy("Price tiers"),
        required=False,
        help_text=gettext_lazy("One a line: from quantity, unit price (“10: 16.80”)."),
    )

    class Meta:
        model = SupplierProduct
        formfield_callback = _formfield
        fields = [
            "supplier",
            "offer_id",
            "spec_id",
            "sku_id_1688",
            "spec_name",
            "url",
            "price_tiers",
            "moq",
            "pack_qty",
            "lead_days",
            "is_preferred",
        ]

    def __init__(self, *args, fixed_supplier=None, fixed_sku=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Supplier.objects.filter(is_active=True)
        if self.instance.pk:
            self.fields["sku_code"].initial = self.instance.sku.code
        if fixed_sku is not None or self.instance.pk:
            self.fields["sku_code"].required = False
            self.fields["sku_code"].disabled = True
            self.fields["sku_code"].initial = (fixed_sku or self.instance.sku).code
        if fixed_supplier is not None or self.instance.pk:
            self.fields["supplier"].disabled = True
            self.fields["supplier"].initial = fixed_supplier or self.instance.supplier
        self.fields["spec_id"].help_text = _("Empty: “Fill from 1688” picks the spec of our SKU.")
        for name in ("offer_id", "spec_id", "sku_id_1688", "sku_code"):
            self.fields[name].widget.attrs["spellcheck"] = "false"

    def clean_offer_id(self):
        offer = self.cleaned_data["offer_id"].strip()
        match = re.search(r"offer/(\d+)\.html", offer)
        if match:
            offer = match.group(1)
        if offer and (not offer.isdigit() or len(offer) > 32):
            raise forms.ValidationError(_("An offer id is digits only."))
        return offer


class Account1688Form(forms.ModelForm):
    app_secret = forms.CharField(
        label=gettext_lazy("App secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    access_token = forms.CharField(
        label=gettext_lazy("Access token"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    refresh_token = forms.CharField(
        label=gettext_lazy("Refresh token"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Account1688
        formfield_callback = _formfield
        fields = ["name", "app_key", "member_id", "api_base_url", "is_active"]

    def secrets(self) -> dict[str, str]:
        return {
            key: self.cleaned_data.get(key, "")
            for key in ("app_secret", "access_token", "refresh_token")
        }


class PurchaseOrderForm(forms.ModelForm):
    """The order's header; its lines come as rows (``DraftRows``)."""

    class Meta:
        model = PurchaseOrder
        fields = [
            "supplier",
            "warehouse",
            "expected_date",
            "freight",
            "other_fees",
            "cost_basis",
            "receive_tolerance_pct",
            "notes",
        ]
        widgets = {
            "expected_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Supplier.objects.filter(is_active=True)
        self.fields["warehouse"].queryset = warehouses.filter(is_active=True)
        self.fields["notes"].help_text = _("Printed on the PO and sent to 1688 as the message.")
        if self.instance.pk:
            self.fields["supplier"].disabled = True
            if self.instance.status != "draft":
                self.fields["warehouse"].disabled = True


@dataclass
class DraftRow:
    """One line as typed on the PO form, with what was wrong with it."""

    sku_code: str = ""
    quantity: str = ""
    unit_price: str = ""
    note: str = ""
    sku: Sku | None = None
    error: str = ""


def parse_rows(data) -> tuple[list[DraftRow], bool]:
    """The typed lines (blank ones dropped) and whether they are all good."""
    codes = data.getlist("sku")
    quantities = data.getlist("quantity")
    prices = data.getlist("unit_price")
    notes = data.getlist("note")
    rows = []
    for i, code in enumerate(codes):
        row = DraftRow(
            sku_code=code.strip(),
            quantity=(quantities[i] if i < len(quantities) else "").strip(),
            unit_price=(prices[i] if i < len(prices) else "").strip(),
            note=(notes[i] if i < len(notes) else "").strip()[:200],
        )
        if not (row.sku_code or row.quantity or row.unit_price):
            continue
        rows.append(row)
    found = {
        sku.code: sku
        for sku in Sku.objects.filter(code__in=[r.sku_code for r in rows], is_active=True)
    }
    by_barcode = {
        sku.barcode: sku
        for sku in Sku.objects.filter(
            barcode__in=[r.sku_code for r in rows if r.sku_code not in found], is_active=True
        ).exclude(barcode="")
    }
    ok = True
    for row in rows:
        row.sku = found.get(row.sku_code) or by_barcode.get(row.sku_code)
        if row.sku is None:
            row.error = _("No active SKU has the code %(code)s.") % {"code": row.sku_code or "—"}
        elif not row.quantity.isdigit() or int(row.quantity) < 1:
            row.error = _("%(sku)s: the quantity is a whole number, 1 or more.") % {
                "sku": row.sku.code
            }
        elif row.unit_price:
            try:
                if Decimal(row.unit_price) < 0:
                    raise InvalidOperation
            except InvalidOperation:
                row.error = _("%(sku)s: the price is a number, 0 or more.") % {"sku": row.sku.code}
        ok = ok and not row.error
    return rows, ok


class ShippedForm(forms.Form):
    tracking_company = forms.CharField(label=gettext_lazy("Courier"), max_length=60, required=False)
    tracking_number = forms.CharField(
        label=gettext_lazy("Tracking number"), max_length=60, required=False
    )


class PaymentForm(forms.ModelForm):
    po_number = forms.CharField(
        label=gettext_lazy("Purchase order"),
        max_length=32,
        required=False,
        help_text=gettext_lazy("Optional: the PO this pays; else the oldest dues are settled."),
    )

    class Meta:
        model = SupplierPayment
        fields = ["supplier", "amount", "paid_on", "method", "reference", "is_prepayment", "note"]
        widgets = {"paid_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, purchase_orders, **kwargs):
        super().__init__(*args, **kwargs)
        self.purchase_orders = purchase_orders
        self.fields["supplier"].queryset = Supplier.objects.all()

    def clean_po_number(self):
        number = self.cleaned_data["po_number"].strip()
        if not number:
            return None
        po = self.purchase_orders.filter(number=number).first()
        if po is None:
            raise forms.ValidationError(_("No purchase order %(number)s.") % {"number": number})
        return po


class ReceiveSearchForm(forms.Form):
    po = forms.CharField(label=gettext_lazy("Purchase order"), max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["po"].widget.attrs.update(
            {"autofocus": True, "autocomplete": "off", "spellcheck": "false"}
        )


class ReceiptLabelForm(forms.Form):
    """How a receipt's SKU labels print (``?size=50x30&code=code&part=1``): every setting
    may be left out (a 50 × 30 label of the SKU code, the first part), so a scanner station
    prints with one Enter."""

    size = forms.ChoiceField(
        label=gettext_lazy("Label"), choices=SIZE_CHOICES, initial="50x30", required=False
    )
    code = forms.ChoiceField(
        label=gettext_lazy("Barcode of"), choices=CODE_CHOICES, initial="code", required=False
    )
    part = forms.IntegerField(label=gettext_lazy("Part"), min_value=1, required=False)

    def clean(self):
        data = super().clean()
        for name in ("size", "code"):
            if not data.get(name) and name not in self.errors:
                data[name] = self.fields[name].initial
        return data
