"""Receiving a purchase order with QC: accepted units go into bins at landed unit cost,
rejected units become a supplier return.

Landed unit cost = unit price + the line's share of the order's freight and fees, spread by
line value or by quantity over what was *ordered* (so a partial delivery costs the same per
unit as the rest will), converted to the base currency at the rate of the receipt's day.
Stock goes in through ``warehouse.stock_receive``, which updates the moving-average cost and
announces the stock, so out-of-stock orders are allocated, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.models import User
from erp.money import rate_to_base
from purchasing.models import (
    RECEIVABLE_PO_STATES,
    CostBasis,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Receipt,
    ReceiptLine,
    SupplierReturn,
)
from purchasing.services.orders import PurchaseError
from warehouse.models import Location, StockMove
from warehouse.services import stock_receive

COST_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True)
class ReceiveLine:
    po_line: PurchaseOrderLine
    accepted: int
    rejected: int = 0
    location: Location | None = None
    reject_reason: str = ""


def landed_unit_costs(po: PurchaseOrder, lines: Sequence[PurchaseOrderLine]) -> dict[int, Decimal]:
    """Per order line, the unit price plus its share of freight and fees, in the order's
    currency. Spread over the ordered quantities of every line of the order."""
    extra = (po.freight or Decimal(0)) + (po.other_fees or Decimal(0))
    total_value = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    total_qty = sum(line.quantity for line in lines)
    costs = {}
    for line in lines:
        if extra and po.cost_basis == CostBasis.VALUE and total_value > 0:
            share = extra * (line.unit_price * line.quantity) / total_value / line.quantity
        elif extra and total_qty > 0:
            share = extra / total_qty
        else:
            share = Decimal(0)
        costs[line.pk] = line.unit_price + share
    return costs


@transaction.atomic
def po_receive(
    *,
    po: PurchaseOrder,
    lines: Sequence[ReceiveLine],
    user: User | None = None,
    received_at: datetime | None = None,
    note: str = "",
) -> Receipt:
    """Check in one delivery. All lines or none: an over-receipt beyond the order's tolerance,
    a bin of another warehouse or a missing exchange rate refuses the whole receipt, naming
    the SKU."""
    po = PurchaseOrder.objects.select_for_update().select_related("supplier").get(pk=po.pk)
    if po.status not in RECEIVABLE_PO_STATES:
        raise PurchaseError(
            _("%(number)s is %(status)s: it cannot be received.")
            % {"number": po.number, "status": PurchaseOrderStatus(po.status).label.lower()}
        )
    wanted = [line for line in lines if line.accepted or line.rejected]
    if not wanted:
        raise PurchaseError(_("Enter an accepted or rejected quantity on at least one line."))
    # lock the order's lines in pk order; read their counts again under the lock
    order_lines = {
        line.pk: line
        for line in PurchaseOrderLine.objects.select_for_update()
        .select_related("sku")
        .filter(purchase_order=po)
        .order_by("pk")
    }
    received_at = received_at or timezone.now()
    rate = rate_to_base(po.currency, timezone.localdate(received_at))
    unit_costs = landed_unit_costs(po, list(order_lines.values()))
    receipt = Receipt.objects.create(
        # numbered within the order, under its lock: parallel receipts of other orders
        # never collide on a number
        number=f"{po.number}-R{Receipt.objects.filter(purchase_order=po).count() + 1}",
        purchase_order=po,
        received_at=received_at,
        exchange_rate=rate,
        received_by=user if user is not None and user.is_authenticated else None,
        note=note[:300],
    )
    seen: set[int] = set()
    rejected_value = Decimal(0)
    for item in wanted:
        line = order_lines.get(item.po_line.pk)
        if line is None:
            raise PurchaseError(_("A line does not belong to %(number)s.") % {"number": po.number})
        if line.pk in seen:
            raise PurchaseError(_("%(sku)s is listed twice.") % {"sku": line.sku.code})
        seen.add(line.pk)
        if item.accepted < 0 or item.rejected < 0:
            raise PurchaseError(
                _("%(sku)s: quantities cannot be negative.") % {"sku": line.sku.code}
            )
        limit = line.quantity + line.quantity * po.receive_tolerance_pct // 100
        after = line.received_qty + line.rejected_qty + item.accepted + item.rejected
        if after > limit:
            raise PurchaseError(
                _(
                    "%(sku)s: %(after)d would be checked in against %(ordered)d ordered "
                    "(at most %(limit)d with the %(pct)d%% tolerance)."
                )
                % {
                    "sku": line.sku.code,
                    "after": after,
                    "ordered": line.quantity,
                    "limit": limit,
                    "pct": po.receive_tolerance_pct,
                }
            )
        landed = (unit_costs[line.pk] * rate).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
        if item.accepted:
            location = item.location
            if location is None:
                raise PurchaseError(_("%(sku)s: choose the bin.") % {"sku": line.sku.code})
            if location.warehouse_id != po.warehouse_id or not location.is_active:
                raise PurchaseError(
                    _("%(sku)s: bin %(bin)s is not an active bin of the order's warehouse.")
                    % {"sku": line.sku.code, "bin": location.code}
                )
            stock_receive(
                sku=line.sku,
                location=location,
                quantity=item.accepted,
                unit_cost=landed,
                reference=f"po:{po.number}",
                note=receipt.number,
                user=user,
                kind=StockMove.Kind.RECEIPT,
            )
        ReceiptLine.objects.create(
            receipt=receipt,
            po_line=line,
            accepted=item.accepted,
            rejected=item.rejected,
            location=item.location if item.accepted else None,
            landed_unit_cost=landed,
            reject_reason=item.reject_reason[:200],
        )
        rejected_value += line.unit_price * item.rejected
        PurchaseOrderLine.objects.filter(pk=line.pk).update(
            received_qty=line.received_qty + item.accepted,
            rejected_qty=line.rejected_qty + item.rejected,
        )
        line.received_qty += item.accepted
        line.rejected_qty += item.rejected
    if rejected_value:
        SupplierReturn.objects.create(
            supplier=po.supplier,
            receipt=receipt,
            amount=rejected_value.quantize(Decimal("0.01")),
        )
    complete = all(line.open_qty == 0 for line in order_lines.values())
    po.status = PurchaseOrderStatus.RECEIVED if complete else PurchaseOrderStatus.PARTIALLY_RECEIVED
    po.received_at = received_at if complete else po.received_at
    po.save(update_fields=["status", "received_at"])
    return receipt
