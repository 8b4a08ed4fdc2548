"""Forms of the stocktake and transfer pages. They parse and check input (codes typed, scanned
or pasted); services do the writes."""

from __future__ import annotations

import csv
import re
from decimal import Decimal

from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from warehouse.forms import LocationChoiceField, SkuLookupField, _grouped_choices
from warehouse.models import RESERVABLE_LEVELS, Location, Sku, StockLevel, Stocktake, Warehouse
from warehouse.selectors import location_queryset, warehouse_queryset
from warehouse.services import CountEntry, TransferItem

MAX_ROWS = 20_000
MAX_QUANTITY = 1_000_000
SEPARATORS = re.compile(r"[,\t;]|\s+")


def _codes(text: str) -> list[str]:
    """Codes separated by new lines, commas, tabs or spaces, without repeats, in order."""
    seen: dict[str, None] = {}
    for code in SEPARATORS.split(text or ""):
        if code.strip():
            seen.setdefault(code.strip(), None)
    return list(seen)


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """Non-empty lines split into cells (comma, tab, semicolon or spaces), with their line
    number from 1. A first line without any number in it is a header and skipped."""
    rows = []
    first = True
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if "," in raw or "\t" in raw or ";" in raw:
            cells = [
                c.strip() for c in next(csv.reader([raw.replace("\t", ",").replace(";", ",")]))
            ]
        else:
            cells = raw.split()
        cells = [c for c in cells if c]
        if not cells:
            continue
        if first and not any(re.fullmatch(r"-?\d+", cell) for cell in cells):
            first = False
            continue  # a header: no cell is a number
        first = False
        rows.append((number, cells))
    return rows


def _skus_by_code(codes: list[str]) -> dict[str, Sku]:
    """SKUs by the code or barcode that names them, in two queries."""
    found = {s.code: s for s in Sku.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        found.update({s.barcode: s for s in Sku.objects.filter(barcode__in=missing)})
    return found


def _quantity(cell: str) -> int | None:
    return int(cell) if re.fullmatch(r"\d+", cell) and int(cell) <= MAX_QUANTITY else None


def _read_upload(upload) -> str:
    data = upload.read()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise forms.ValidationError(_("The file is not a text (CSV) file."), code="not_text")


def _problems_error(problems: list[str]) -> forms.ValidationError:
    shown = problems[:20]
    more = len(problems) - len(shown)
    if more:
        shown.append(
            ngettext("… and %(count)d more row", "… and %(count)d more rows", more)
            % {"count": more}
        )
    return forms.ValidationError(shown)


# --- stocktakes -------------------------------------------------------------------------------


class StocktakeCreateForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), queryset=Warehouse.objects.none(), empty_label=None
    )
    bins = forms.CharField(
        label=_("Bins"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("Bin codes, one per line or separated by commas. Empty: every bin."),
    )
    skus = forms.CharField(
        label=_("SKUs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("SKU codes or barcodes. Empty: every SKU in those bins."),
    )
    blind = forms.BooleanField(
        label=_("Blind count (counters do not see the expected quantities)"), required=False
    )
    note = forms.CharField(label=_("Note"), max_length=255, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = warehouse_queryset(user=user).filter(is_active=True)
        self.fields["warehouse"].widget.attrs["autofocus"] = True

    def clean(self):
        data = super().clean()
        warehouse = data.get("warehouse")
        codes = _codes(data.get("bins", ""))
        data["locations"] = []
        if warehouse is not None and codes:
            bins = {
                loc.code: loc
                for loc in Location.objects.filter(warehouse=warehouse, code__in=codes)
            }
            unknown = [c for c in codes if c not in bins]
            if unknown:
                self.add_error(
                    "bins",
                    _("%(warehouse)s has no bins %(codes)s.")
                    % {"warehouse": warehouse.code, "codes": ", ".join(unknown[:20])},
                )
            data["locations"] = [bins[c] for c in codes if c in bins]
        sku_codes = _codes(data.get("skus", ""))
        found = _skus_by_code(sku_codes)
        unknown = [c for c in sku_codes if c not in found]
        if unknown:
            self.add_error(
                "skus",
                _("No SKU has the code or barcode %(codes)s.") % {"codes": ", ".join(unknown[:20])},
            )
        data["sku_list"] = list({found[c].pk: found[c] for c in sku_codes if c in found}.values())
        return data


class CountForm(forms.Form):
    """Set the count of one SKU in one bin (what the worker sees in the bin, replacing any
    earlier count of it)."""

    location = forms.CharField(label=_("Bin"), max_length=32)
    sku = SkuLookupField(label=_("SKU"), help_text=_("Type the SKU code or scan its barcode."))
    quantity = forms.IntegerField(
        label=_("Counted"),
        min_value=0,
        max_value=MAX_QUANTITY,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
    )

    def __init__(self, *args, stocktake: Stocktake, **kwargs):
        super().__init__(*args, **kwargs)
        self.stocktake = stocktake
        self.fields["location"].widget.attrs.update(
            autocomplete="off", spellcheck="false", **{"data-enter-next": ""}
        )

    def clean_location(self):
        code = self.cleaned_data["location"].strip()
        location = Location.objects.filter(warehouse=self.stocktake.warehouse_id, code=code).first()
        if location is None:
            raise forms.ValidationError(
                _("%(warehouse)s has no bin %(code)s.")
                % {"warehouse": self.stocktake.warehouse.code, "code": code},
                code="no_bin",
            )
        return location


class CountUploadForm(forms.Form):
    """Many counts at once: pasted or uploaded, one ``bin, SKU, quantity`` per row (or ``SKU,
    quantity`` for a SKU that has a single line in the count)."""

    text = forms.CharField(
        label=_("Counts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "One row per bin and SKU: bin, SKU code or barcode, quantity (comma, tab or space "
            "between). Rows repeating a bin and SKU add up."
        ),
    )
    file = forms.FileField(
        label=_("or a CSV file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv"}),
    )

    def __init__(self, *args, stocktake: Stocktake, **kwargs):
        super().__init__(*args, **kwargs)
        self.stocktake = stocktake

    def clean(self):
        data = super().clean()
        text = data.get("text", "")
        if data.get("file"):
            text = _read_upload(data["file"])
        rows = _rows(text)
        if not rows:
            raise forms.ValidationError(_("Paste or upload at least one count."), code="empty")
        if len(rows) > MAX_ROWS:
            raise forms.ValidationError(
                _("At most %(max)d rows at once.") % {"max": MAX_ROWS}, code="too_many"
            )
        warehouse = self.stocktake.warehouse
        bins = {
            loc.code: loc
            for loc in Location.objects.filter(
                warehouse=warehouse, code__in={cells[0] for _n, cells in rows if len(cells) >= 3}
            )
        }
        skus = _skus_by_code(list({cells[-2] for _n, cells in rows if len(cells) >= 2}))
        only_bin = self._only_bins(
            [skus[c[-2]].pk for _n, c in rows if len(c) == 2 and c[-2] in skus]
        )
        entries, problems = [], []
        for number, cells in rows:
            if len(cells) not in (2, 3):
                problems.append(_("Row %(row)d: expected bin, SKU, quantity") % {"row": number})
                continue
            quantity = _quantity(cells[-1])
            sku = skus.get(cells[-2])
            if quantity is None:
                problems.append(
                    _("Row %(row)d: %(value)s is not a quantity")
                    % {"row": number, "value": cells[-1]}
                )
            if sku is None:
                problems.append(
                    _("Row %(row)d: no SKU has the code or barcode %(code)s")
                    % {"row": number, "code": cells[-2]}
                )
            if len(cells) == 3:
                location = bins.get(cells[0])
                if location is None:
                    problems.append(
                        _("Row %(row)d: %(warehouse)s has no bin %(code)s")
                        % {"row": number, "warehouse": warehouse.code, "code": cells[0]}
                    )
            else:
                location = only_bin.get(sku.pk) if sku is not None else None
                if sku is not None and location is None:
                    problems.append(
                        _("Row %(row)d: name the bin of %(sku)s (it has no single line here)")
                        % {"row": number, "sku": sku.code}
                    )
            if quantity is not None and sku is not None and location is not None:
                entries.append(CountEntry(sku, location, quantity))
        if problems:
            raise _problems_error(problems)
        data["entries"] = entries
        return data

    def _only_bins(self, sku_ids: list[int]) -> dict[int, Location]:
        """The bin of each SKU that has exactly one line in the stocktake."""
        if not sku_ids:
            return {}
        by_sku: dict[int, list[Location]] = {}
        for line in self.stocktake.lines.filter(sku_id__in=sku_ids).select_related("location"):
            by_sku.setdefault(line.sku_id, []).append(line.location)
        return {sku: locs[0] for sku, locs in by_sku.items() if len(locs) == 1}


class StocktakePostForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        help_text=_("Written on every adjustment, e.g. “Quarterly count, zone A”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


# --- transfers --------------------------------------------------------------------------------


class TransferForm(forms.Form):
    source = forms.ModelChoiceField(
        label=_("From warehouse"), queryset=Warehouse.objects.none(), empty_label=None
    )
    destination = forms.ModelChoiceField(label=_("To warehouse"), queryset=Warehouse.objects.none())
    lines = forms.CharField(
        label=_("Lines"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "One row per SKU: SKU code or barcode, quantity, and the bin to take it from "
            "(left out: the first storage bin in pick order with enough free units)."
        ),
    )
    freight_cost = forms.DecimalField(
        label=_("Freight cost"),
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("In the base currency; shared over the units by weight when they ship."),
    )
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking = forms.CharField(label=_("Tracking number"), max_length=100, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = warehouse_queryset(user=user).filter(is_active=True)
        self.fields["source"].widget.attrs["autofocus"] = True
        # Any active warehouse can receive: the sender need not work in it.
        self.fields["destination"].queryset = Warehouse.objects.filter(is_active=True).order_by(
            "code"
        )
        for name in ("carrier", "tracking"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean(self):
        data = super().clean()
        source = data.get("source")
        if source is not None and data.get("destination") == source:
            self.add_error("destination", _("Choose another warehouse than the source."))
        if source is None or "lines" not in data:
            return data
        rows = _rows(data["lines"])
        if not rows:
            self.add_error("lines", _("Enter at least one line."))
            return data
        skus = _skus_by_code(list({cells[0] for _n, cells in rows}))
        bins = {
            loc.code: loc
            for loc in Location.objects.filter(
                warehouse=source, code__in={c[2] for _n, c in rows if len(c) >= 3}
            )
        }
        items, problems = [], []
        for number, cells in rows:
            if len(cells) not in (2, 3):
                problems.append(_("Row %(row)d: expected SKU, quantity, bin") % {"row": number})
                continue
            sku = skus.get(cells[0])
            quantity = _quantity(cells[1])
            if sku is None:
                problems.append(
                    _("Row %(row)d: no SKU has the code or barcode %(code)s")
                    % {"row": number, "code": cells[0]}
                )
            if not quantity:
                problems.append(
                    _("Row %(row)d: %(value)s is not a quantity")
                    % {"row": number, "value": cells[1]}
                )
            if sku is None or not quantity:
                continue
            if len(cells) == 3:
                location = bins.get(cells[2])
                if location is None:
                    problems.append(
                        _("Row %(row)d: %(warehouse)s has no bin %(code)s")
                        % {"row": number, "warehouse": source.code, "code": cells[2]}
                    )
                    continue
            else:
                location = _first_bin_with(source, sku, quantity)
                if location is None:
                    problems.append(
                        _("Row %(row)d: no bin of %(warehouse)s has %(q)d free units of %(sku)s")
                        % {"row": number, "warehouse": source.code, "q": quantity, "sku": sku.code}
                    )
                    continue
            items.append(TransferItem(sku, quantity, location))
        if problems:
            self.add_error("lines", _problems_error(problems))
        data["items"] = items
        return data


def _first_bin_with(warehouse: Warehouse, sku: Sku, quantity: int) -> Location | None:
    """The first reservable bin in pick order holding ``quantity`` free units of ``sku``."""
    level = (
        StockLevel.objects.filter(RESERVABLE_LEVELS, sku=sku, location__warehouse=warehouse)
        .annotate(free=F("on_hand") - F("reserved"))
        .filter(free__gte=quantity)
        .select_related("location")
        .order_by("location__pick_sequence", "location__code")
        .first()
    )
    return level.location if level else None


class TransferShipForm(forms.Form):
    freight_cost = forms.DecimalField(
        label=_("Freight cost"), min_value=Decimal("0"), max_digits=14, decimal_places=2
    )
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking = forms.CharField(label=_("Tracking number"), max_length=100, required=False)


class TransferReceiveForm(forms.Form):
    """One row per line still due: quantity received now, destination bin, note."""

    def __init__(self, *args, transfer, lines, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.outstanding > 0]
        bins = location_queryset(user=user).filter(
            warehouse=transfer.destination_id, is_active=True
        )
        template = LocationChoiceField(queryset=bins, label=_("Bin"))
        choices = _grouped_choices(template)
        # Arrivals go to a receiving bin when the warehouse has one, else to its first bin.
        listed = list(template.queryset)
        landing = next((b for b in listed if b.kind == Location.Kind.RECEIVING), None)
        landing = landing or (listed[0] if listed else None)
        first_field = True
        for line in self.lines:
            quantity = forms.IntegerField(
                label=_("Received"),
                min_value=0,
                max_value=line.outstanding,
                required=False,
                widget=forms.NumberInput(
                    attrs={"inputmode": "numeric", "min": 0, "max": line.outstanding}
                ),
            )
            if first_field:
                quantity.widget.attrs["autofocus"] = True
                first_field = False
            self.fields[f"qty_{line.pk}"] = quantity
            location = LocationChoiceField(
                queryset=bins,
                label=_("Bin"),
                required=False,
                initial=landing.pk if landing else None,
            )
            location.choices = choices
            self.fields[f"bin_{line.pk}"] = location
            self.fields[f"note_{line.pk}"] = forms.CharField(
                label=_("Discrepancy note"), max_length=255, required=False
            )
            line.form_fields = (
                self[f"qty_{line.pk}"],
                self[f"bin_{line.pk}"],
                self[f"note_{line.pk}"],
            )

    def clean(self):
        data = super().clean()
        receipts = []
        for line in self.lines:
            quantity = data.get(f"qty_{line.pk}") or 0
            location = data.get(f"bin_{line.pk}")
            if quantity and location is None:
                self.add_error(f"bin_{line.pk}", _("Choose the bin the units go to."))
            if quantity and location is not None:
                receipts.append((line, quantity, location, data.get(f"note_{line.pk}", "")))
        if not receipts and not self.errors:
            raise forms.ValidationError(
                _("Enter the quantity received of at least one line."), code="empty"
            )
        data["receipts"] = receipts
        return data


class TransferCloseForm(forms.Form):
    note = forms.CharField(
        label=_("Why close now"),
        max_length=255,
        required=False,
        help_text=_("What did not arrive stays recorded as shipped − received."),
    )
