"""The receiving page of the warehouse: scan (or type) a purchase order's number — or its
1688 order id, or the tracking number on the carton — then per line the accepted and
rejected quantities (with a reason) and the bin; one submit checks the delivery in
(``po_receive``: all lines or none).

Keyboard first: the search field has the focus; then "bin for every line" (scan a bin: every
line's bin is filled with it); then per line the accepted quantity and its bin, where Enter
(a scanner's too) moves to the next field (``data-enter-next``) and never sends the form
half-filled. Rejections (quantity and reason) are a QC table below, reached with Tab.

A checked-in delivery lands on its receipt's page, whose Print button (focused) gives the SKU
labels of what was accepted, one per unit, as one PDF; the order's page links every receipt
there later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from purchasing.filters import scope_purchase_orders
from purchasing.forms import ReceiptLabelForm
from purchasing.models import (
    RECEIVABLE_PO_STATES,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
)
from purchasing.services.orders import PurchaseError
from purchasing.services.receiving import (
    ReceiveLine,
    label_items,
    label_parts,
    po_receive,
    receipt_labels_pdf,
    receipt_queryset,
)
from purchasing.views.common import download
from warehouse.labels import LabelPrintError
from warehouse.models import Location

MAX_MATCHES = 20


@dataclass
class Row:
    """One order line on the page, with what was typed and what was wrong."""

    line: PurchaseOrderLine
    accepted: str = ""
    rejected: str = ""
    reason: str = ""
    bin: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def open_qty(self) -> int:
        return self.line.open_qty


def find_purchase_orders(user, term: str) -> list[PurchaseOrder]:
    """The user's orders whose number (any case), 1688 order id or tracking number is
    ``term``."""
    term = term.strip()
    if not term:
        return []
    match = Q(number__iexact=term) | Q(platform_order_id=term)
    match |= Q(tracking_number=term) & ~Q(tracking_number="")
    return list(
        scope_purchase_orders(
            PurchaseOrder.objects.filter(match).select_related("supplier", "warehouse"), user
        ).order_by("-created_at")[:MAX_MATCHES]
    )


def _rows(po: PurchaseOrder, data=None, default_bin: str = "") -> list[Row]:
    lines = PurchaseOrderLine.objects.filter(purchase_order=po).select_related(
        "sku", "supplier_product"
    )
    rows = []
    for line in lines.order_by("pk"):
        row = Row(line, bin=default_bin if line.open_qty else "")
        if data is not None:
            row.accepted = data.get(f"accepted-{line.pk}", "").strip()
            row.rejected = data.get(f"rejected-{line.pk}", "").strip()
            row.reason = data.get(f"reason-{line.pk}", "").strip()[:200]
            row.bin = data.get(f"bin-{line.pk}", "").strip()
        rows.append(row)
    return rows


def _quantity(row: Row, text: str, label: str) -> int:
    if not text:
        return 0
    if not text.isdigit():
        row.errors.append(
            _("%(sku)s: %(what)s is a whole number, 0 or more.")
            % {"sku": row.line.sku.code, "what": label}
        )
        return 0
    return int(text)


def _receive_lines(po: PurchaseOrder, rows: list[Row]) -> list[ReceiveLine]:
    """The typed rows as ``ReceiveLine``s; errors (naming the SKU) go on the rows."""
    bins = {
        loc.code.casefold(): loc
        for loc in Location.objects.filter(warehouse_id=po.warehouse_id, is_active=True)
    }
    lines = []
    for row in rows:
        accepted = _quantity(row, row.accepted, _("accepted"))
        rejected = _quantity(row, row.rejected, _("rejected"))
        if not (accepted or rejected):
            continue
        location = None
        code = row.bin
        if accepted:
            if not code:
                row.errors.append(
                    _("%(sku)s: scan or type the bin it goes into.") % {"sku": row.line.sku.code}
                )
            else:
                location = bins.get(code.casefold())
                if location is None:
                    row.errors.append(
                        _("%(sku)s: %(warehouse)s has no active bin %(bin)s.")
                        % {
                            "sku": row.line.sku.code,
                            "warehouse": po.warehouse.code,
                            "bin": code,
                        }
                    )
        if rejected and not row.reason:
            row.errors.append(
                _("%(sku)s: say why %(count)d were rejected.")
                % {"sku": row.line.sku.code, "count": rejected}
            )
        lines.append(
            ReceiveLine(
                po_line=row.line,
                accepted=accepted,
                rejected=rejected,
                location=location,
                reject_reason=row.reason,
            )
        )
    return lines


def _mark_service_error(rows: list[Row], message: str) -> None:
    """Put the service's refusal on the row of the SKU it names (it starts with the code)."""
    for row in rows:
        if message.startswith(f"{row.line.sku.code}:") or message.startswith(
            f"{row.line.sku.code} "
        ):
            row.errors.append(message)
            return


@permission_required("purchasing.receive_purchaseorder", raise_exception=True)
def receive(request: HttpRequest) -> HttpResponse:
    term = (request.POST.get("po") or request.GET.get("po") or "").strip()
    matches = find_purchase_orders(request.user, term)
    po = matches[0] if len(matches) == 1 else None
    context = {"nav": "receive", "term": term, "matches": matches, "po": po, "error": ""}
    if term and not matches:
        context["error"] = _(
            "No purchase order %(term)s in your warehouses: check the number, the 1688 order "
            "id or the tracking number."
        ) % {"term": term}
    if po is not None and po.status not in RECEIVABLE_PO_STATES:
        context["error"] = _("%(number)s is %(status)s: it cannot be received.") % {
            "number": po.number,
            "status": PurchaseOrderStatus(po.status).label.lower(),
        }
        context["po_closed"] = True
    if po is None or context.get("po_closed"):
        return render(request, "purchasing/receive.html", context, status=200)
    data = request.POST if request.method == "POST" else None
    bins = list(
        Location.objects.filter(warehouse_id=po.warehouse_id, is_active=True)
        .order_by("pick_sequence", "code")
        .values_list("code", flat=True)
    )
    default_bin = request.GET.get("bin", "").strip() if data is None else ""
    if default_bin:
        known = {code.casefold(): code for code in bins}
        if default_bin.casefold() in known:
            default_bin = known[default_bin.casefold()]
        else:
            context["error"] = _("%(warehouse)s has no active bin %(bin)s.") % {
                "warehouse": po.warehouse.code,
                "bin": default_bin,
            }
            default_bin = ""
    rows = _rows(po, data, default_bin)
    note = request.POST.get("note", "").strip()[:300] if data is not None else ""
    context.update(
        {
            "rows": rows,
            "open_rows": [row for row in rows if row.open_qty or row.accepted or row.rejected],
            "bins": bins,
            "default_bin": default_bin,
            "note": note,
            "rejects_open": any(row.rejected or row.reason for row in rows),
        }
    )
    if data is None:
        return render(request, "purchasing/receive.html", context)
    lines = _receive_lines(po, rows)
    if any(row.errors for row in rows):
        context["error"] = _("Nothing was received: correct the lines marked below.")
        return render(request, "purchasing/receive.html", context, status=400)
    try:
        receipt = po_receive(po=po, lines=lines, user=request.user, note=note)
    except PurchaseError as error:
        context["error"] = _("Nothing was received: %(reason)s") % {"reason": error}
        _mark_service_error(rows, str(error))
        return render(request, "purchasing/receive.html", context, status=400)
    accepted = sum(line.accepted for line in lines)
    rejected = sum(line.rejected for line in lines)
    text = ngettext(
        "Receipt %(receipt)s: %(accepted)d unit into stock",
        "Receipt %(receipt)s: %(accepted)d units into stock",
        accepted,
    ) % {"receipt": receipt.number, "accepted": accepted}
    if rejected:
        text += ngettext(
            ", %(rejected)d rejected (to return to the supplier)",
            ", %(rejected)d rejected (to return to the supplier)",
            rejected,
        ) % {"rejected": rejected}
    po.refresh_from_db(fields=["status"])
    text += ". " + _("%(number)s is now %(status)s.") % {
        "number": po.number,
        "status": PurchaseOrderStatus(po.status).label.lower(),
    }
    messages.success(request, text)
    if request.user.has_perm("purchasing.view_receipt"):
        return redirect("purchasing:receipt-detail", pk=receipt.pk)  # print its labels there
    if po.status in RECEIVABLE_PO_STATES:
        return redirect(reverse("purchasing:receive") + "?" + urlencode({"po": po.number}))
    return redirect("purchasing:po-detail", pk=po.pk)


# ---------------------------------------------------------------------------- receipts

LABEL_SETTINGS = "receipt_labels"  # the session key of the station's last label settings


def _receipt(request: HttpRequest, pk: int) -> Receipt:
    return get_object_or_404(receipt_queryset(user=request.user), pk=pk)


@require_GET
@permission_required("purchasing.view_receipt", raise_exception=True)
def receipt_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One receipt: what went into which bin, what was rejected, and its SKU labels to print
    (one per accepted unit). The receiving page lands here after a delivery is checked in:
    the Print button has the focus, so Enter prints with the station's last label settings;
    from here the rest of the order is received, or the next delivery scanned."""
    receipt = _receipt(request, pk)
    po = receipt.purchase_order
    lines = list(
        receipt.lines.select_related("po_line__sku", "location").order_by("pk")  # one query
    )
    items = label_items(lines)
    total = sum(copies for _sku, copies in items)
    parts = label_parts(total)
    initial = {"size": "50x30", "code": "code", **request.session.get(LABEL_SETTINGS, {})}
    return render(
        request,
        "purchasing/receipt.html",
        {
            "nav": "receive",
            "receipt": receipt,
            "po": po,
            "lines": lines,
            "accepted": sum(line.accepted for line in lines),
            "rejected": sum(line.rejected for line in lines),
            "label_count": total,
            "parts": parts if len(parts) > 1 else [],
            "label_form": ReceiptLabelForm(initial=initial, auto_id="labels-%s"),
            "can_receive": po.status in RECEIVABLE_PO_STATES
            and request.user.has_perm("purchasing.receive_purchaseorder"),
        },
    )


@require_GET
@permission_required("purchasing.view_receipt", raise_exception=True)
def receipt_labels(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt's SKU labels as one PDF (``?size=50x30&code=code&part=1``), shown in the
    browser to print; a request that cannot be printed gets a page saying why (400)."""
    receipt = _receipt(request, pk)
    form = ReceiptLabelForm(request.GET)
    if form.is_valid():
        data = form.cleaned_data
        try:
            pdf = receipt_labels_pdf(
                receipt=receipt, size=data["size"], code=data["code"], part=data["part"]
            )
        except LabelPrintError as error:
            form.add_error(None, str(error))
        else:
            request.session[LABEL_SETTINGS] = {"size": data["size"], "code": data["code"]}
            part = f"-{data['part']}" if data["part"] else ""
            return download(
                pdf, "application/pdf", f"{receipt.number}{part}-labels.pdf", inline=True
            )
    return render(
        request,
        "purchasing/receipt_label_error.html",
        {"nav": "receive", "form": form, "receipt": receipt},
        status=400,
    )
