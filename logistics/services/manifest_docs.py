"""The documents of a manifest for the carrier's driver: a PDF to sign (A4, WeasyPrint) and
the same table as XLSX for carriers that want a file.

Both list every parcel on the manifest in the order they were scanned: it is the handover
document of the warehouse, whoever prints it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from erp.models import Company
from erp.tabular import formula_escape
from logistics.models import Manifest, Shipment, ShipmentStatus


@dataclass(frozen=True)
class ParcelRow:
    number: int
    tracking_number: str
    order: str
    country: str
    weight_kg: Decimal


def _kg(grams: int) -> Decimal:
    return (Decimal(grams or 0) / 1000).quantize(Decimal("0.001"))


def manifest_rows(manifest: Manifest) -> list[ParcelRow]:
    shipments = (
        Shipment.objects.filter(manifest=manifest)
        .exclude(status=ShipmentStatus.VOIDED)
        .select_related("order")
        .only(
            "pk",
            "tracking_number",
            "reference",
            "weight_g",
            "order__external_id",
            "order__ship_country",
        )
        .order_by("pk")
    )
    return [
        ParcelRow(
            number=i,
            tracking_number=s.tracking_number or s.reference,
            order=s.order.external_id,
            country=s.order.ship_country,
            weight_kg=_kg(s.weight_g),
        )
        for i, s in enumerate(shipments, start=1)
    ]


def _barcode_svg(value: str) -> str:
    """Code 128 of ``value`` as inline SVG (shared/RECIPES.md §3: 0.33 mm modules scan at
    every printer resolution)."""
    import barcode
    from barcode.writer import SVGWriter

    buffer = io.BytesIO()
    barcode.Code128(value, writer=SVGWriter()).write(
        buffer,
        options={
            "module_width": 0.33,
            "module_height": 12.0,
            "quiet_zone": 6.5,
            "write_text": False,
        },
    )
    return re.sub(
        r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", "", buffer.getvalue().decode(), flags=re.S
    )


def _context(manifest: Manifest) -> dict:
    manifest = Manifest.objects.select_related("carrier", "warehouse", "created_by").get(
        pk=manifest.pk
    )
    rows = manifest_rows(manifest)
    company = Company.objects.order_by("pk").first()
    return {
        "manifest": manifest,
        "company": company,
        "rows": rows,
        "count": len(rows),
        "weight_kg": sum((row.weight_kg for row in rows), Decimal("0.000")),
        "date": timezone.localtime(manifest.closed_at or manifest.created_at),
        "printed_at": timezone.localtime(),
    }


def manifest_pdf(manifest: Manifest) -> bytes:
    """The manifest as an A4 PDF: company, carrier, number (and its barcode), date, warehouse,
    the parcels, totals and signature lines for the warehouse and the driver."""
    from weasyprint import HTML

    context = _context(manifest)
    context["barcode_svg"] = _barcode_svg(context["manifest"].number)
    html = render_to_string("pdf/manifest.html", context)
    return HTML(string=html).write_pdf()


def manifest_xlsx(manifest: Manifest) -> bytes:
    """The same as the PDF's table, one parcel a row, under a few header lines. Text that a
    spreadsheet would run as a formula is escaped (``erp.tabular.formula_escape``)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def text(value: str) -> str:
        return formula_escape(ILLEGAL_CHARACTERS_RE.sub("", value or ""))

    context = _context(manifest)
    manifest = context["manifest"]
    company = context["company"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = text(manifest.number)[:31] or "Manifest"
    bold = Font(bold=True)
    head = [
        (_("Manifest"), manifest.number),
        (_("Company"), (company.name_en or company.name) if company else ""),
        (_("Carrier"), manifest.carrier.name),
        (_("Warehouse"), f"{manifest.warehouse.code} {manifest.warehouse.name}"),
        (_("Date"), context["date"].strftime("%Y-%m-%d %H:%M")),
    ]
    for label, value in head:
        sheet.append([text(str(label)), text(value)])
        sheet.cell(row=sheet.max_row, column=1).font = bold
    sheet.append([])
    columns = [
        _("#"),
        _("Tracking number"),
        _("Order"),
        _("Destination country"),
        _("Weight (kg)"),
    ]
    sheet.append([str(c) for c in columns])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    header_row = sheet.max_row
    for row in context["rows"]:
        sheet.append(
            [
                row.number,
                text(row.tracking_number),
                text(row.order),
                text(row.country),
                row.weight_kg,
            ]
        )
        sheet.cell(row=sheet.max_row, column=5).number_format = "0.000"
    sheet.append(
        [
            str(_("Total")),
            ngettext("%(count)d parcel", "%(count)d parcels", context["count"])
            % {"count": context["count"]},
            "",
            "",
            context["weight_kg"],
        ]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    sheet.cell(row=sheet.max_row, column=5).number_format = "0.000"
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    for letter, width in zip("ABCDE", (6, 26, 26, 20, 12), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
