"""Purchase orders from draft to closed, by hand or placed offline (1688 placing and syncing
live in ``purchasing.services.platform``).

Every move locks the purchase order, checks the state it applies to and says why it refuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.errors import ServiceError
from erp.models import User
from purchasing.alibaba1688 import CancelReason
from purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    SupplierProduct,
)
from warehouse.models import Sku, Warehouse


class PurchaseError(ServiceError):
    code = "purchase_invalid"


@dataclass(frozen=True)
class DraftLine:
    sku: Sku
    quantity: int
    unit_price: Decimal | None = None  # None: the offer's tier price for the quantity
    note: str = ""


def _next_number(prefix: str, model) -> str:
    today = timezone.localdate()
    stem = f"{prefix}{today:%Y%m%d}-"
    count = model.objects.filter(number__startswith=stem).count()
    return f"{stem}{count + 1:03d}"


def _offers(supplier: Supplier, skus: Iterable[Sku]) -> dict[int, SupplierProduct]:
    return {
        p.sku_id: p for p in SupplierProduct.objects.filter(supplier=supplier, sku__in=list(skus))
    }


def _line(po: PurchaseOrder, line: DraftLine, offer: SupplierProduct | None) -> PurchaseOrderLine:
    if line.quantity < 1:
        raise PurchaseError(_("%(sku)s: the quantity must be at least 1.") % {"sku": line.sku.code})
    price = line.unit_price
    if price is None:
        price = offer.unit_price(line.quantity) if offer else None
        if price is None:
            raise PurchaseError(
                _("%(sku)s: no price — %(supplier)s has no offer for it; type the price.")
                % {"sku": line.sku.code, "supplier": po.supplier.code}
            )
    if price < 0:
        raise PurchaseError(_("%(sku)s: the price is negative.") % {"sku": line.sku.code})
    return PurchaseOrderLine(
        purchase_order=po,
        sku=line.sku,
        supplier_product=offer,
        quantity=line.quantity,
        unit_price=price,
        note=line.note[:200],
    )


def po_create(
    *,
    supplier: Supplier,
    warehouse: Warehouse,
    lines: Sequence[DraftLine],
    user: User | None = None,
    freight: Decimal = Decimal(0),
    other_fees: Decimal = Decimal(0),
    notes: str = "",
    expected_date=None,
) -> PurchaseOrder:
    """A draft purchase order; a SKU listed twice becomes one line with both quantities."""
    if not lines:
        raise PurchaseError(_("A purchase order needs at least one line."))
    merged: dict[int, DraftLine] = {}
    for line in lines:
        if line.sku.pk in merged:
            first = merged[line.sku.pk]
            line = DraftLine(line.sku, first.quantity + line.quantity, first.unit_price, first.note)
        merged[line.sku.pk] = line
    for _attempt in range(3):  # two drafts numbered in the same instant
        try:
            with transaction.atomic():
                po = PurchaseOrder.objects.create(
                    number=_next_number("PO", PurchaseOrder),
                    supplier=supplier,
                    warehouse=warehouse,
                    currency=supplier.currency,
                    freight=freight,
                    other_fees=other_fees,
                    notes=notes,
                    expected_date=expected_date,
                    created_by=user if user is not None and user.is_authenticated else None,
                )
                offers = _offers(supplier, [line.sku for line in merged.values()])
                PurchaseOrderLine.objects.bulk_create(
                    [_line(po, line, offers.get(line.sku.pk)) for line in merged.values()]
                )
                return po
        except IntegrityError:
            continue
    raise PurchaseError(_("Could not number the purchase order; try again."))


def _locked(po: PurchaseOrder) -> PurchaseOrder:
    return PurchaseOrder.objects.select_for_update().select_related("supplier").get(pk=po.pk)


def _require(po: PurchaseOrder, states: Iterable[str], message: str) -> None:
    if po.status not in set(states):
        raise PurchaseError(
            message % {"number": po.number, "status": PurchaseOrderStatus(po.status).label.lower()}
        )


@transaction.atomic
def po_set_lines(*, po: PurchaseOrder, lines: Sequence[DraftLine]) -> PurchaseOrder:
    """Replace a draft's lines (the edit form's save)."""
    po = _locked(po)
    _require(po, [PurchaseOrderStatus.DRAFT], _("%(number)s is %(status)s: only drafts change."))
    if not lines:
        raise PurchaseError(_("A purchase order needs at least one line."))
    offers = _offers(po.supplier, [line.sku for line in lines])
    new = [_line(po, line, offers.get(line.sku.pk)) for line in lines]
    if len({line.sku_id for line in new}) != len(new):
        raise PurchaseError(_("List each SKU once."))
    po.lines.all().delete()
    PurchaseOrderLine.objects.bulk_create(new)
    return po


@transaction.atomic
def po_place_offline(*, po: PurchaseOrder, user: User | None = None) -> PurchaseOrder:
    """The order was placed by phone, WeChat or on the website by hand."""
    po = _locked(po)
    _require(po, [PurchaseOrderStatus.DRAFT], _("%(number)s is %(status)s, not a draft."))
    po.status = PurchaseOrderStatus.ORDERED
    po.ordered_at = timezone.now()
    po.save(update_fields=["status", "ordered_at"])
    return po


@transaction.atomic
def po_mark_paid(*, po: PurchaseOrder) -> PurchaseOrder:
    po = _locked(po)
    _require(po, [PurchaseOrderStatus.ORDERED], _("%(number)s is %(status)s, not ordered."))
    po.status = PurchaseOrderStatus.PAID
    po.paid_at = timezone.now()
    po.save(update_fields=["status", "paid_at"])
    return po


@transaction.atomic
def po_mark_shipped(
    *, po: PurchaseOrder, tracking_company: str = "", tracking_number: str = ""
) -> PurchaseOrder:
    po = _locked(po)
    _require(
        po,
        [PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PAID],
        _("%(number)s is %(status)s: it cannot ship now."),
    )
    po.status = PurchaseOrderStatus.SHIPPED
    po.shipped_at = timezone.now()
    po.tracking_company = tracking_company.strip()[:60]
    po.tracking_number = tracking_number.strip()[:60]
    po.save(update_fields=["status", "shipped_at", "tracking_company", "tracking_number"])
    return po


def po_cancel(
    *, po: PurchaseOrder, reason: str = "", remark: str = "", user: User | None = None
) -> PurchaseOrder:
    """Cancel before anything arrived.

    A PO placed on 1688 (it has a 1688 order id) is cancelled on 1688 first, with ``reason``
    (a 1688 reason code; "buyerCancel" when empty) and ``remark``: 1688 cancels only unpaid
    orders, and when it refuses nothing changes here (``cancelling.po_cancel_on_1688``). That
    call happens outside any transaction. Any other PO is cancelled here; ``reason`` does not
    apply and a ``remark`` goes into its notes.
    """
    with transaction.atomic():
        po = _locked(po)
        _require(
            po,
            [PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PAID],
            _("%(number)s is %(status)s: it can no longer be cancelled."),
        )
        if not po.platform_order_id:
            po.status = PurchaseOrderStatus.CANCELLED
            po.closed_at = timezone.now()
            fields = ["status", "closed_at"]
            if remark.strip():
                note = _("%(when)s: cancelled by %(user)s: %(remark)s") % {
                    "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
                    "user": user if user is not None and user.is_authenticated else "—",
                    "remark": remark.strip(),
                }
                po.notes = f"{po.notes.rstrip()}\n{note}" if po.notes.strip() else note
                fields.append("notes")
            po.save(update_fields=fields)
            return po
    # Imported here: platform builds on this module (PurchaseError, the PO rules).
    from purchasing.services.cancelling import po_cancel_on_1688

    return po_cancel_on_1688(
        po=po, reason=reason or CancelReason.BUYER_CANCEL, remark=remark, user=user
    )


@transaction.atomic
def po_close(*, po: PurchaseOrder) -> PurchaseOrder:
    """Close a partly received order: what is missing will not come."""
    po = _locked(po)
    _require(
        po,
        [PurchaseOrderStatus.PARTIALLY_RECEIVED, PurchaseOrderStatus.RECEIVED],
        _("%(number)s is %(status)s: receive something first or cancel it."),
    )
    po.status = PurchaseOrderStatus.CLOSED
    po.closed_at = timezone.now()
    po.save(update_fields=["status", "closed_at"])
    return po


def po_totals(po: PurchaseOrder) -> dict[str, Decimal]:
    lines = sum((line.amount for line in po.lines.all()), Decimal(0))
    return {"lines": lines, "total": lines + po.freight + po.other_fees}


# Until goods arrive, the order's freight, fees, dates and notes may still change (the real
# freight is often known only when the supplier ships); its warehouse only while a draft.
HEADER_EDITABLE_STATES = (
    PurchaseOrderStatus.DRAFT,
    PurchaseOrderStatus.ORDERED,
    PurchaseOrderStatus.PAID,
    PurchaseOrderStatus.SHIPPED,
)
HEADER_FIELDS = frozenset(
    {
        "freight",
        "other_fees",
        "expected_date",
        "notes",
        "cost_basis",
        "receive_tolerance_pct",
        "warehouse",
    }
)


@transaction.atomic
def po_update(*, po: PurchaseOrder, fields: dict) -> PurchaseOrder:
    """Change the order's header: freight, other fees, expected date, notes, how freight is
    spread, the over-receipt tolerance, and (drafts only) the warehouse."""
    unknown = set(fields) - HEADER_FIELDS
    if unknown:
        raise PurchaseError(_("These fields cannot be changed: %s.") % ", ".join(sorted(unknown)))
    po = _locked(po)
    _require(
        po, HEADER_EDITABLE_STATES, _("%(number)s is %(status)s: it can no longer be changed.")
    )
    if "warehouse" in fields and fields["warehouse"].pk != po.warehouse_id:
        _require(
            po,
            [PurchaseOrderStatus.DRAFT],
            _("%(number)s is %(status)s: only a draft changes its warehouse."),
        )
    for name in ("freight", "other_fees"):
        if name in fields and (fields[name] is None or fields[name] < 0):
            raise PurchaseError(_("Freight and fees cannot be negative."))
    for name, value in fields.items():
        setattr(po, name, value)
    po.save(update_fields=list(fields))
    return po
