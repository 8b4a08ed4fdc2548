"""Purchase order pages: the list (filters, search by PO number, 1688 order id or tracking
number), the draft form (lines with SKU search and the supplier's tier price), the order's
page with its state moves (place on 1688 or offline, paid, shipped, sync, cancel, close) and
the PDF for offline suppliers.

Every order is found through the user's warehouses: another warehouse's order is a 404.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from purchasing.documents import po_pdf
from purchasing.filters import PurchaseOrderFilter, po_detail_queryset, po_list_queryset
from purchasing.forms import DraftRow, PurchaseOrderForm, ShippedForm, parse_rows
from purchasing.models import (
    RECEIVABLE_PO_STATES,
    PurchaseOrder,
    PurchaseOrderStatus,
    Supplier,
    SupplierProduct,
)
from purchasing.services.orders import (
    HEADER_EDITABLE_STATES,
    DraftLine,
    PurchaseError,
    po_cancel,
    po_close,
    po_create,
    po_mark_paid,
    po_mark_shipped,
    po_place_offline,
    po_set_lines,
    po_totals,
    po_update,
)
from purchasing.services.payables import po_amount
from purchasing.services.platform import CANCEL_REASON_CHOICES, po_place_on_1688, po_sync
from purchasing.views.common import download, page_of, render_list
from warehouse.models import Sku
from warehouse.selectors import warehouse_queryset

BLANK_ROWS = 5
HEADER_FIELDS = [
    "expected_date",
    "freight",
    "other_fees",
    "cost_basis",
    "receive_tolerance_pct",
    "notes",
]
TIMELINE = (
    (PurchaseOrderStatus.DRAFT, "created_at"),
    (PurchaseOrderStatus.ORDERED, "ordered_at"),
    (PurchaseOrderStatus.PAID, "paid_at"),
    (PurchaseOrderStatus.SHIPPED, "shipped_at"),
    (PurchaseOrderStatus.PARTIALLY_RECEIVED, None),
    (PurchaseOrderStatus.RECEIVED, "received_at"),
    (PurchaseOrderStatus.CLOSED, "closed_at"),
)


def _po_or_404(request: HttpRequest, pk: int, queryset=None) -> PurchaseOrder:
    queryset = queryset if queryset is not None else po_list_queryset(user=request.user)
    return get_object_or_404(queryset, pk=pk)


# ---------------------------------------------------------------------------- list
@require_GET
@permission_required("purchasing.view_purchaseorder", raise_exception=True)
def po_list(request: HttpRequest) -> HttpResponse:
    filterset = PurchaseOrderFilter(
        request.GET, queryset=po_list_queryset(user=request.user), request=request
    )
    page = page_of(request, filterset.qs)
    statuses = dict(PurchaseOrderStatus.choices)
    for po in page:
        po.status_label = statuses.get(po.status, po.status)
    return render_list(
        request,
        "purchasing/po_list.html",
        "purchasing/_po_results.html",
        {
            "nav": "orders",
            "filter": filterset,
            "page": page,
            "statuses": PurchaseOrderStatus.choices,
            "selected_statuses": request.GET.getlist("status"),
            "ordering": request.GET.get("ordering") or "-created_at",
            "detail_base": reverse("purchasing:po-detail", args=[0])[: -len("0/")],
        },
    )


# ---------------------------------------------------------------------------- draft form
def _offers_for(supplier: Supplier | None, skus) -> dict[int, SupplierProduct]:
    if supplier is None:
        return {}
    return {
        offer.sku_id: offer
        for offer in SupplierProduct.objects.filter(supplier=supplier, sku__in=list(skus))
    }


def _priced(rows: list[DraftRow], supplier: Supplier | None) -> list[DraftRow]:
    """Each row with the supplier's offer, the tier price for its quantity and the amount."""
    offers = _offers_for(supplier, [r.sku for r in rows if r.sku is not None])
    for row in rows:
        row.offer = offers.get(row.sku.pk) if row.sku is not None else None
        qty = int(row.quantity) if row.quantity.isdigit() else 0
        row.tier_price = row.offer.unit_price(qty) if row.offer and qty else None
        try:
            price = Decimal(row.unit_price) if row.unit_price else row.tier_price
        except ArithmeticError:
            price = None
        row.amount = (price * qty).quantize(Decimal("0.01")) if price is not None and qty else None
    return rows


def _rows_of(po: PurchaseOrder) -> list[DraftRow]:
    rows = []
    for line in po.lines.select_related("sku", "supplier_product").order_by("pk"):
        offer_price = None
        if line.supplier_product_id:
            offer_price = line.supplier_product.unit_price(line.quantity)
        rows.append(
            DraftRow(
                sku_code=line.sku.code,
                quantity=str(line.quantity),
                unit_price=""
                if offer_price == line.unit_price
                else f"{line.unit_price.normalize():f}",
                note=line.note,
                sku=line.sku,
            )
        )
    return rows


def _initial_rows(request: HttpRequest) -> list[DraftRow]:
    """``?sku=CODE&quantity=N`` (repeated) pre-fills lines, e.g. from a restock suggestion."""
    codes, quantities = request.GET.getlist("sku"), request.GET.getlist("quantity")
    found = {s.code: s for s in Sku.objects.filter(code__in=codes)}
    return [
        DraftRow(
            sku_code=code,
            quantity=quantities[i] if i < len(quantities) else "",
            sku=found.get(code),
        )
        for i, code in enumerate(codes)
    ]


def _po_form(request: HttpRequest, po: PurchaseOrder | None) -> HttpResponse:
    warehouses = warehouse_queryset(user=request.user)
    instance = PurchaseOrder.objects.get(pk=po.pk) if po else None
    initial = {}
    if po is None:
        initial = {
            "supplier": request.GET.get("supplier"),
            "warehouse": request.GET.get("warehouse") or warehouses.filter(is_active=True).first(),
        }
    form = PurchaseOrderForm(
        request.POST or None, instance=instance, initial=initial, warehouses=warehouses
    )
    lines_editable = po is None or po.status == PurchaseOrderStatus.DRAFT
    if request.method == "POST":
        rows, rows_ok = parse_rows(request.POST) if lines_editable else ([], True)
    else:
        rows = _rows_of(po) if po else _initial_rows(request)
        rows_ok = True
    more = request.method == "POST" and "more" in request.POST
    if request.method == "POST" and not more and form.is_valid() and rows_ok:
        drafts = [
            DraftLine(
                r.sku,
                int(r.quantity),
                Decimal(r.unit_price) if r.unit_price else None,
                r.note,
            )
            for r in rows
        ]
        header = {name: form.cleaned_data[name] for name in HEADER_FIELDS}
        try:
            if po is None:
                saved = po_create(
                    supplier=form.cleaned_data["supplier"],
                    warehouse=form.cleaned_data["warehouse"],
                    lines=drafts,
                    user=request.user,
                    freight=header["freight"],
                    other_fees=header["other_fees"],
                    notes=header["notes"],
                    expected_date=header["expected_date"],
                )
                po_update(
                    po=saved,
                    fields={
                        "cost_basis": header["cost_basis"],
                        "receive_tolerance_pct": header["receive_tolerance_pct"],
                    },
                )
                messages.success(request, _("Draft %(number)s created.") % {"number": saved.number})
            else:
                if lines_editable:
                    header["warehouse"] = form.cleaned_data["warehouse"]
                    po_set_lines(po=po, lines=drafts)
                po_update(po=po, fields=header)
                saved = po
                messages.success(request, _("%(number)s saved.") % {"number": po.number})
        except PurchaseError as error:
            form.add_error(None, str(error))
        else:
            return redirect("purchasing:po-detail", pk=saved.pk)
    supplier = po.supplier if po else None
    if supplier is None:
        value = str(form["supplier"].value() or "")
        supplier = Supplier.objects.filter(pk=value).first() if value.isdigit() else None
    rows = _priced(rows, supplier)
    blanks = BLANK_ROWS * (2 if more else 1) if lines_editable else 0
    return render(
        request,
        "purchasing/po_form.html",
        {
            "nav": "orders",
            "form": form,
            "po": po,
            "rows": rows,
            "blank_rows": range(blanks),
            "lines_editable": lines_editable,
            "rows_ok": rows_ok,
            "supplier": supplier,
        },
        status=400 if request.method == "POST" and not more else 200,
    )


@permission_required("purchasing.add_purchaseorder", raise_exception=True)
def po_new(request: HttpRequest) -> HttpResponse:
    return _po_form(request, None)


@permission_required("purchasing.change_purchaseorder", raise_exception=True)
def po_edit(request: HttpRequest, pk: int) -> HttpResponse:
    po = _po_or_404(request, pk)
    if po.status not in HEADER_EDITABLE_STATES:
        messages.error(
            request,
            _("%(number)s is %(status)s: it can no longer be changed.")
            % {"number": po.number, "status": po.get_status_display().lower()},
        )
        return redirect("purchasing:po-detail", pk=po.pk)
    return _po_form(request, po)


@require_GET
@permission_required("purchasing.view_purchaseorder", raise_exception=True)
def line_price(request: HttpRequest) -> HttpResponse:
    """One draft row's tier price, MOQ and pack (htmx, as the row changes)."""
    supplier = Supplier.objects.filter(pk=request.GET.get("supplier") or 0).first()
    code = request.GET.get("sku", "").strip()
    sku = (
        Sku.objects.filter(Q(code=code) | (Q(barcode=code) & ~Q(barcode=""))).first()
        if code
        else None
    )
    row = DraftRow(
        sku_code=code,
        quantity=request.GET.get("quantity", "").strip(),
        unit_price=request.GET.get("unit_price", "").strip(),
        sku=sku,
    )
    _priced([row], supplier)
    return render(request, "purchasing/_line_price.html", {"row": row, "supplier": supplier})


@require_GET
@permission_required("purchasing.view_purchaseorder", raise_exception=True)
def sku_options(request: HttpRequest) -> HttpResponse:
    """``<option>``s for the SKU field: the supplier's offers first, then other SKUs, whose
    code, name or barcode matches what was typed (htmx)."""
    typed = request.GET.get("sku", "").strip()
    if len(typed) < 2:
        return render(request, "purchasing/_sku_options.html", {"options": []})
    match = Q(code__icontains=typed) | Q(name__icontains=typed) | Q(name_zh__icontains=typed)
    match |= Q(barcode=typed)
    offer_match = (
        Q(sku__code__icontains=typed)
        | Q(sku__name__icontains=typed)
        | Q(sku__name_zh__icontains=typed)
        | Q(sku__barcode=typed)
    )
    supplier_id = request.GET.get("supplier", "")
    options: list[tuple[str, str]] = []
    if supplier_id.isdigit():
        offers = (
            SupplierProduct.objects.filter(offer_match, supplier_id=int(supplier_id))
            .filter(sku__is_active=True)
            .select_related("sku")
            .order_by("sku__code")[:20]
        )
        for offer in offers:
            label = f"{offer.sku.name} · {offer.spec_name or offer.offer_id or _('offer')}"
            options.append((offer.sku.code, label))
    seen = {code for code, _label in options}
    for sku in Sku.objects.filter(match, is_active=True).order_by("code")[:20]:
        if sku.code not in seen and len(options) < 20:
            options.append((sku.code, sku.name))
    return render(request, "purchasing/_sku_options.html", {"options": options})


# ---------------------------------------------------------------------------- detail
def _timeline(po: PurchaseOrder) -> list[dict]:
    reached = {
        PurchaseOrderStatus.DRAFT: 0,
        PurchaseOrderStatus.ORDERED: 1,
        PurchaseOrderStatus.PAID: 2,
        PurchaseOrderStatus.SHIPPED: 3,
        PurchaseOrderStatus.PARTIALLY_RECEIVED: 4,
        PurchaseOrderStatus.RECEIVED: 5,
        PurchaseOrderStatus.CLOSED: 6,
    }
    labels = dict(PurchaseOrderStatus.choices)
    receipts = list(po.receipts.all())
    first_receipt = min((r.received_at for r in receipts), default=None)
    now = reached.get(po.status, -1)
    steps = []
    for index, (status, field) in enumerate(TIMELINE):
        at = getattr(po, field) if field else first_receipt if receipts else None
        if (
            status == PurchaseOrderStatus.RECEIVED
            and po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
        ):
            at = None
        done = at is not None or index <= now
        if po.status == PurchaseOrderStatus.CANCELLED:
            done = at is not None
        steps.append(
            {
                "status": status,
                "label": labels[status],
                "at": at,
                "done": done,
                "current": po.status == status,
            }
        )
    if len(receipts) <= 1 and po.status in (
        PurchaseOrderStatus.RECEIVED,
        PurchaseOrderStatus.CLOSED,
    ):  # received in one delivery: it was never partially received
        steps = [s for s in steps if s["status"] != PurchaseOrderStatus.PARTIALLY_RECEIVED]
    if po.status == PurchaseOrderStatus.CANCELLED:
        steps.append(
            {
                "status": "cancelled",
                "label": labels[PurchaseOrderStatus.CANCELLED],
                "at": po.closed_at,
                "done": True,
                "current": True,
            }
        )
    return steps


def _actions(request: HttpRequest, po: PurchaseOrder) -> dict[str, bool]:
    user = request.user
    can_change = user.has_perm("purchasing.change_purchaseorder")
    can_place = user.has_perm("purchasing.place_purchaseorder")
    status = po.status
    draft = status == PurchaseOrderStatus.DRAFT
    on_1688 = po.supplier.kind == Supplier.Kind.SHOP_1688
    return {
        "edit": can_change and status in HEADER_EDITABLE_STATES,
        "place_1688": can_place and draft and on_1688,
        "place_offline": can_place and draft,
        "paid": can_change and status == PurchaseOrderStatus.ORDERED,
        "shipped": can_change and status in (PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PAID),
        "sync": can_change and bool(po.platform_order_id),
        "cancel": can_change
        and status
        in (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PAID),
        "close": can_change
        and status in (PurchaseOrderStatus.PARTIALLY_RECEIVED, PurchaseOrderStatus.RECEIVED),
        "receive": user.has_perm("purchasing.receive_purchaseorder")
        and status in RECEIVABLE_PO_STATES,
    }


@require_GET
@permission_required("purchasing.view_purchaseorder", raise_exception=True)
def po_detail(request: HttpRequest, pk: int) -> HttpResponse:
    po = _po_or_404(request, pk, po_detail_queryset(user=request.user))
    lines = list(po.lines.all())
    payments = list(po.payments.all())
    actions = _actions(request, po)
    return render(
        request,
        "purchasing/po_detail.html",
        {
            "nav": "orders",
            "po": po,
            "lines": lines,
            "totals": po_totals(po),
            "owed": po_amount(po) if po.status not in ("draft", "cancelled") else None,
            "paid": sum((p.amount for p in payments), Decimal(0)),
            "payments": payments,
            "receipts": list(po.receipts.all()),
            "timeline": _timeline(po),
            "actions": actions,
            "any_action": any(actions.values()),
            "cancel_reasons": CANCEL_REASON_CHOICES,
            "shipped_form": ShippedForm(
                initial={
                    "tracking_company": po.tracking_company,
                    "tracking_number": po.tracking_number,
                }
            ),
            "quantity": sum(line.quantity for line in lines),
            "received": sum(line.received_qty for line in lines),
            "rejected": sum(line.rejected_qty for line in lines),
        },
    )


ACTION_PERMISSIONS = {
    "place": "purchasing.place_purchaseorder",
    "paid": "purchasing.change_purchaseorder",
    "shipped": "purchasing.change_purchaseorder",
    "sync": "purchasing.change_purchaseorder",
    "cancel": "purchasing.change_purchaseorder",
    "close": "purchasing.change_purchaseorder",
}


@require_POST
def po_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One state move of the order's page; a refusal is shown as it was worded."""
    permission = ACTION_PERMISSIONS.get(action)
    if permission is None:
        raise Http404
    if not request.user.has_perm(permission):
        raise PermissionDenied
    po = _po_or_404(request, pk)
    try:
        if action == "place":
            if request.POST.get("via") == "1688":
                po = po_place_on_1688(po=po, user=request.user)
                text = _("%(number)s placed on 1688: order %(id)s, %(total)s %(currency)s.") % {
                    "number": po.number,
                    "id": po.platform_order_id,
                    "total": po.platform_total,
                    "currency": po.currency,
                }
            else:
                po = po_place_offline(po=po, user=request.user)
                text = _("%(number)s marked as ordered offline.") % {"number": po.number}
        elif action == "paid":
            po = po_mark_paid(po=po)
            text = _("%(number)s marked as paid.") % {"number": po.number}
        elif action == "shipped":
            form = ShippedForm(request.POST)
            form.is_valid()
            po = po_mark_shipped(
                po=po,
                tracking_company=form.cleaned_data.get("tracking_company", ""),
                tracking_number=form.cleaned_data.get("tracking_number", ""),
            )
            text = _("%(number)s marked as shipped by the supplier.") % {"number": po.number}
        elif action == "sync":
            po = po_sync(po=po)
            text = _("%(number)s synced with 1688: %(status)s.") % {
                "number": po.number,
                "status": po.platform_status,
            }
        elif action == "cancel":
            reason = request.POST.get("reason", "")
            if reason and reason not in dict(CANCEL_REASON_CHOICES):
                raise PurchaseError(_("Choose why the order is cancelled."))
            po = po_cancel(
                po=po, reason=reason, remark=request.POST.get("remark", "")[:200], user=request.user
            )
            if po.platform_order_id:
                text = _("%(number)s cancelled on 1688 (order %(id)s).") % {
                    "number": po.number,
                    "id": po.platform_order_id,
                }
            else:
                text = _("%(number)s cancelled.") % {"number": po.number}
        else:
            po = po_close(po=po)
            text = _("%(number)s closed.") % {"number": po.number}
    except PurchaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, text)
    return redirect("purchasing:po-detail", pk=pk)


@require_GET
@permission_required("purchasing.view_purchaseorder", raise_exception=True)
def po_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    po = _po_or_404(request, pk)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return download(po_pdf(po), "application/pdf", f"{po.number}-{stamp}.pdf", inline=True)
