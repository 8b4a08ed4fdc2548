"""The return form of the order page: per line, units restocked to a storage bin and units
damaged to a quarantine bin."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erp.models import User
from orders.models import Order, ReturnDisposition, ReturnReason
from orders.services import ReturnRequest
from warehouse.models import Location, StockLevel
from warehouse.selectors import location_queryset


class BinChoiceField(forms.ChoiceField):
    """One of ``bins`` (read once for the whole form), shown as WAREHOUSE / BIN; cleans to the
    bin itself, its warehouse loaded."""

    def __init__(self, *, bins: list[Location], **kwargs):
        self.bins = {str(b.pk): b for b in bins}
        choices = [("", "—"), *((str(b.pk), f"{b.warehouse.code} / {b.code}") for b in bins)]
        super().__init__(choices=choices, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return self.bins.get(value) if value else None


def return_bins(*, order: Order, user: User, kind: str) -> list[Location]:
    """Active bins of ``kind`` the user may use: in the order's warehouse, or in every
    warehouse of the user when the order has none (it shipped outside Caravan)."""
    bins = location_queryset(user=user).filter(is_active=True, kind=kind, warehouse__is_active=True)
    if order.warehouse_id:
        bins = bins.filter(warehouse_id=order.warehouse_id)
    return list(bins)


class OrderReturnForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=ReturnReason.choices)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("The platform's return number, what the parcel looked like…"),
    )

    def __init__(self, *args, order: Order, lines, remaining: dict[int, int], user, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.lines = [line for line in lines if line.sku_id and remaining.get(line.pk, 0) > 0]
        self.remaining = remaining
        self.storage = return_bins(order=order, user=user, kind=Location.Kind.STORAGE)
        self.quarantine = return_bins(order=order, user=user, kind=Location.Kind.QUARANTINE)
        preferred = self._preferred_bins()
        for line in self.lines:
            most = remaining[line.pk]
            sku = line.sku.code
            for disposition, bins in (
                (ReturnDisposition.RESTOCK, self.storage),
                (ReturnDisposition.DAMAGED, self.quarantine),
            ):
                name = f"{disposition}_{line.pk}"
                self.fields[name] = forms.IntegerField(
                    label=_("Units of %(sku)s to restock") % {"sku": sku}
                    if disposition == ReturnDisposition.RESTOCK
                    else _("Damaged units of %(sku)s") % {"sku": sku},
                    min_value=0,
                    max_value=most,
                    required=False,
                    widget=forms.NumberInput(
                        attrs={"min": 0, "max": most, "placeholder": "0", "inputmode": "numeric"}
                    ),
                )
                if disposition == ReturnDisposition.RESTOCK:
                    initial = preferred.get(line.sku_id)
                else:
                    initial = bins[0].pk if bins else None
                self.fields[f"{name}_bin"] = BinChoiceField(
                    bins=bins,
                    label=_("Bin for %(sku)s") % {"sku": sku}
                    if disposition == ReturnDisposition.RESTOCK
                    else _("Quarantine bin for %(sku)s") % {"sku": sku},
                    required=False,
                    initial=initial,
                )
        if self.lines:
            self.fields[f"restock_{self.lines[0].pk}"].widget.attrs["autofocus"] = True

    def _preferred_bins(self) -> dict[int, int]:
        """Per SKU, the storage bin (first in pick order) that already holds it, else the
        first storage bin: where a person would put a returned unit back."""
        first = self.storage[0].pk if self.storage else None
        preferred: dict[int, int] = {}
        levels = (
            StockLevel.objects.filter(
                sku_id__in={line.sku_id for line in self.lines},
                location_id__in=[b.pk for b in self.storage],
                on_hand__gt=0,
            )
            .order_by("location__pick_sequence", "location__code")
            .values_list("sku_id", "location_id")
        )
        for sku_id, location_id in levels:
            preferred.setdefault(sku_id, location_id)
        return {line.sku_id: preferred.get(line.sku_id, first) for line in self.lines}

    def rows(self):
        """Per returnable line: (line, units still returnable, restock qty, restock bin,
        damaged qty, damaged bin) for the template."""
        return [
            (
                line,
                self.remaining[line.pk],
                self[f"restock_{line.pk}"],
                self[f"restock_{line.pk}_bin"],
                self[f"damaged_{line.pk}"],
                self[f"damaged_{line.pk}_bin"],
            )
            for line in self.lines
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        total = 0
        for line in self.lines:
            counts = {}
            for disposition in ReturnDisposition.values:
                units = data.get(f"{disposition}_{line.pk}") or 0
                counts[disposition] = units
                if units and not data.get(f"{disposition}_{line.pk}_bin"):
                    self.add_error(f"{disposition}_{line.pk}_bin", _("Choose the bin."))
            if sum(counts.values()) > self.remaining[line.pk]:
                self.add_error(
                    f"restock_{line.pk}",
                    _("At most %(units)d units of %(sku)s can come back.")
                    % {"units": self.remaining[line.pk], "sku": line.sku.code},
                )
            total += sum(counts.values())
        if not total and not self.errors:
            raise forms.ValidationError(_("Enter how many units came back."))
        return data

    def requests(self) -> list[ReturnRequest]:
        out = []
        for line in self.lines:
            for disposition in ReturnDisposition.values:
                units = self.cleaned_data.get(f"{disposition}_{line.pk}") or 0
                if units:
                    location = self.cleaned_data[f"{disposition}_{line.pk}_bin"]
                    out.append(ReturnRequest(line, units, disposition, location))
        return out
