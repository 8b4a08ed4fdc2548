"""Django forms of the warehouse pages. They parse and check input; services do the writes."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erp.forms import ImportFileField
from warehouse.labels import CODE_CHOICES, MAX_COPIES, SIZE_CHOICES
from warehouse.models import SKU_EDITABLE_FIELDS, Location, Sku
from warehouse.selectors import location_queryset


class SkuForm(forms.ModelForm):
    """Create or edit a SKU. The average cost is kept by receiving, so it is not a field."""

    class Meta:
        model = Sku
        fields = list(SKU_EDITABLE_FIELDS)
        error_messages = {
            "code": {"unique": _("Another SKU already has this code.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["code"].widget.attrs["autofocus"] = True
        for name in ("code", "barcode", "hs_code"):
            self.fields[name].widget.attrs.update(autocomplete="off", spellcheck="false")

    def clean_code(self):
        return self.cleaned_data["code"].strip()

    def clean_barcode(self):
        barcode = self.cleaned_data["barcode"].strip()
        if not barcode:
            return barcode
        others = Sku.objects.exclude(pk=self.instance.pk)
        clash = others.filter(Q(barcode=barcode) | Q(code=barcode)).first()
        if clash is not None:
            # Scanning a barcode must find exactly one SKU, so it may not repeat another SKU's
            # barcode or code.
            raise forms.ValidationError(
                _("%(barcode)s is already the barcode or code of SKU %(sku)s."),
                code="barcode_taken",
                params={"barcode": barcode, "sku": clash.code},
            )
        return barcode


class SkuLookupField(forms.CharField):
    """A SKU typed by code or scanned by barcode (a keyboard-wedge scanner types + Enter)."""

    default_error_messages = {
        "not_found": _("No SKU has the code or barcode “%(value)s”."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"autocomplete": "off", "spellcheck": "false", "data-enter-next": ""}
            ),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        sku = Sku.objects.filter(code=value).first() or Sku.objects.filter(barcode=value).first()
        if sku is None:
            raise forms.ValidationError(
                self.error_messages["not_found"], code="not_found", params={"value": value}
            )
        return sku


class LocationChoiceField(forms.ModelChoiceField):
    """A bin, shown as WAREHOUSE / BIN and grouped by warehouse."""

    def label_from_instance(self, obj: Location) -> str:
        return f"{obj.warehouse.code} / {obj.code}"


class BundlePartForm(forms.Form):
    component = SkuLookupField(label=_("Part (SKU code or barcode)"))
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "placeholder": "1"}),
    )

    def clean_quantity(self):
        return self.cleaned_data["quantity"] or 1  # an empty quantity means one


class BaseBundlePartFormSet(forms.BaseFormSet):
    def parts(self) -> list[tuple[Sku, int]]:
        """The filled rows as (component, quantity); blank and deleted rows are left out."""
        return [
            (form.cleaned_data["component"], form.cleaned_data["quantity"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


BundlePartFormSet = forms.formset_factory(
    BundlePartForm, formset=BaseBundlePartFormSet, extra=3, can_delete=True
)


def _scoped_bins(user):
    return location_queryset(user=user).filter(is_active=True, warehouse__is_active=True)


def _grouped_choices(field: forms.ModelChoiceField) -> list:
    """Turn a flat bin select into <optgroup>s per warehouse, evaluating the queryset once."""
    groups: dict[str, list] = {}
    for location in field.queryset:
        label = f"{location.warehouse.code} {location.warehouse.name}"
        groups.setdefault(label, []).append((location.pk, field.label_from_instance(location)))
    return [("", "---------"), *groups.items()]


class StockAdjustForm(forms.Form):
    location = LocationChoiceField(queryset=Location.objects.none(), label=_("Bin"))
    sku = SkuLookupField(label=_("SKU"), help_text=_("Type the SKU code or scan its barcode."))
    quantity = forms.IntegerField(
        label=_("Quantity (±)"),
        help_text=_("Positive adds units, negative removes them."),
        widget=forms.NumberInput(attrs={"data-enter-next": "", "inputmode": "numeric"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = _scoped_bins(user)
        self.fields["location"].choices = _grouped_choices(self.fields["location"])
        for name in ("reason", "reference"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError(_("Quantity must not be zero."), code="zero")
        return quantity


class StockMoveForm(forms.Form):
    sku = SkuLookupField(label=_("SKU"), help_text=_("Type the SKU code or scan its barcode."))
    from_location = LocationChoiceField(queryset=Location.objects.none(), label=_("From bin"))
    to_location = LocationChoiceField(queryset=Location.objects.none(), label=_("To bin"))
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        widget=forms.NumberInput(attrs={"data-enter-next": "", "inputmode": "numeric"}),
    )
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        bins = _scoped_bins(user)
        self.fields["from_location"].queryset = bins
        self.fields["from_location"].choices = _grouped_choices(self.fields["from_location"])
        self.fields["to_location"].queryset = bins
        self.fields["to_location"].choices = self.fields["from_location"].choices
        for name in ("reference", "note"):
            self.fields[name].widget.attrs["autocomplete"] = "off"


class SkuImportForm(forms.Form):
    file = ImportFileField(
        label=_("File"),
        help_text=_("CSV (UTF-8) or Excel .xlsx, with the columns of the template."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.tsv,.txt"}),
    )


# --- Labels --------------------------------------------------------------------------------


class SkuLabelForm(forms.Form):
    """Which SKUs' labels to print, how many of each, on which label, with which barcode."""

    sku = forms.ModelMultipleChoiceField(
        queryset=Sku.objects.order_by("code"),
        label=_("SKUs"),
        error_messages={"required": _("Tick the SKUs whose labels to print.")},
    )
    copies = forms.IntegerField(
        label=_("Copies of each"), min_value=1, max_value=MAX_COPIES, initial=1, required=False
    )
    size = forms.ChoiceField(
        label=_("Label"), choices=SIZE_CHOICES, initial="50x30", required=False
    )
    code = forms.ChoiceField(
        label=_("Barcode of"), choices=CODE_CHOICES, initial="code", required=False
    )

    def clean(self):
        """Left out, each setting is its initial value (one 50 × 30 label of the code)."""
        data = super().clean()
        for name in ("copies", "size", "code"):
            if data.get(name) in (None, "") and name not in self.errors:
                data[name] = self.fields[name].initial
        return data


class BinLabelForm(forms.Form):
    """Which bins' labels to print (bins of the user's warehouses only)."""

    location = forms.ModelMultipleChoiceField(
        queryset=Location.objects.none(),
        label=_("Bins"),
        error_messages={"required": _("Tick the bins whose labels to print.")},
    )
    size = forms.ChoiceField(
        label=_("Label"), choices=SIZE_CHOICES, initial="50x30", required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = location_queryset(user=user)

    def clean_size(self):
        return self.cleaned_data["size"] or self.fields["size"].initial
