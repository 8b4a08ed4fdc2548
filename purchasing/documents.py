"""Purchasing documents: the purchase order as an A4 PDF for offline suppliers (Chinese, the
supplier's language, with English under each heading for our staff) and the payables (aging
per supplier) as XLSX or CSV.

Text that a spreadsheet would run as a formula is escaped in both exports
(``erp.tabular.formula_escape``): supplier names and codes come from people.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.models import Company
from erp.tabular import formula_escape
from purchasing.models import PaymentTerms, PurchaseOrder
from purchasing.services.orders import po_totals
from purchasing.services.payables import BUCKETS, SupplierBalance

EXPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# The PO is always Chinese: what the supplier reads.
TERMS_ZH = {
    PaymentTerms.CASH_ON_ORDER: "下单付款",
    PaymentTerms.PREPAY: "预付 {pct}%，余款到货后付清",
    PaymentTerms.MONTHLY: "月结（月底后 {days} 天内付款）",
}


def barcode_svg(value: str) -> str:
    """Code 128 of ``value`` as inline SVG, so WeasyPrint never fetches anything."""
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


@dataclass(frozen=True)
class PdfLine:
    number: int
    sku_code: str
    name: str
    spec: str
    offer: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


def po_pdf_context(po: PurchaseOrder) -> dict:
    po = PurchaseOrder.objects.select_related("supplier", "warehouse", "created_by").get(pk=po.pk)
    lines = list(po.lines.select_related("sku", "supplier_product").order_by("pk"))
    rows = [
        PdfLine(
            number=i,
            sku_code=line.sku.code,
            name=line.sku.name_zh or line.sku.name,
            spec=(line.supplier_product.spec_name if line.supplier_product else "") or "",
            offer=(line.supplier_product.offer_id if line.supplier_product else "") or "",
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
        )
        for i, line in enumerate(lines, start=1)
    ]
    supplier = po.supplier
    terms = TERMS_ZH.get(supplier.payment_terms, "").format(
        pct=supplier.prepay_pct, days=supplier.credit_days
    )
    return {
        "po": po,
        "supplier": supplier,
        "company": Company.objects.order_by("pk").first(),
        "rows": rows,
        "quantity": sum(row.quantity for row in rows),
        "totals": po_totals(po),
        "terms": terms,
        "ordered_on": timezone.localdate(po.ordered_at or po.created_at),
        "printed_at": timezone.localtime(),
        "barcode_svg": barcode_svg(po.number),
        "address_lines": [a.strip() for a in po.warehouse.address.splitlines() if a.strip()],
    }


def po_pdf(po: PurchaseOrder) -> bytes:
    """The purchase order on A4: 采购单, its number and Code 128, supplier and buyer, the
    delivery address, the lines (SKU, Chinese name, spec, quantity, price, amount), freight,
    fees and total, payment terms, notes and signature boxes."""
    from weasyprint import HTML

    html = render_to_string("pdf/purchase_order.html", po_pdf_context(po))
    return HTML(string=html).write_pdf()


# ---------------------------------------------------------------------------- payables
def bucket_labels() -> dict[str, str]:
    return {
        "current": _("Not yet due"),
        "1_30": _("1–30 days"),
        "31_60": _("31–60 days"),
        "61_90": _("61–90 days"),
        "over_90": _("Over 90 days"),
    }


def payables_rows(balances: list[SupplierBalance]) -> tuple[list[str], list[list]]:
    """The header and one row per supplier: who, owed, paid, balance, the aging buckets and
    the payments not applied yet."""
    labels = bucket_labels()
    header = [
        _("Supplier code"),
        _("Supplier"),
        _("Currency"),
        _("Owed"),
        _("Paid"),
        _("Balance"),
        *(labels[key] for key in BUCKETS),
        _("Unapplied payments"),
    ]
    rows = [
        [
            b.supplier.code,
            b.supplier.name,
            b.supplier.currency,
            b.owed,
            b.paid,
            b.balance,
            *(b.buckets[key] for key in BUCKETS),
            b.unapplied,
        ]
        for b in balances
    ]
    return [str(h) for h in header], rows


def _cell(value):
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return formula_escape(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def payables_export(balances: list[SupplierBalance], *, fmt: str, as_of: date) -> bytes:
    header, rows = payables_rows(balances)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows:
            writer.writerow([formula_escape(v) if isinstance(v, str) else f"{v:.2f}" for v in row])
        return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_("Payables"))[:31]
    sheet.append([str(_("Payables as of %(day)s") % {"day": as_of.isoformat()})])
    sheet.cell(row=1, column=1).font = Font(bold=True)
    sheet.append([])
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
        for column in range(4, len(row) + 1):
            sheet.cell(row=sheet.max_row, column=column).number_format = "#,##0.00"
    sheet.freeze_panes = "A4"
    for index, width in enumerate((14, 30, 9, *([13] * (len(header) - 3))), start=1):
        sheet.column_dimensions[sheet.cell(row=3, column=index).column_letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
