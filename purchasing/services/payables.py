"""What is owed to each supplier: amounts fall due by the supplier's payment terms, payments
(partial, prepayments) settle the oldest dues first, and the open rest is aged.

A purchase order owes its ordered total (lines + freight + fees) less the value of rejected
goods. Due dates:
- pay when ordering: the order day;
- prepay: the prepay share on the order day, the rest on the day it is received (until then,
  the expected day, else the order day);
- monthly settlement: the last day of the month it was received (until then, shipped or
  ordered) plus the supplier's days to pay.

What a user is shown is limited to the purchase orders of their warehouses (``payables``).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.models import User
from erp.scopes import sees_all_warehouses
from purchasing.filters import scope_purchase_orders
from purchasing.models import (
    PaymentTerms,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    SupplierPayment,
)
from purchasing.services.orders import PurchaseError

ZERO = Decimal(0)
BUCKETS = ("current", "1_30", "31_60", "61_90", "over_90")
OWING_STATES = (
    PurchaseOrderStatus.ORDERED,
    PurchaseOrderStatus.PAID,
    PurchaseOrderStatus.SHIPPED,
    PurchaseOrderStatus.PARTIALLY_RECEIVED,
    PurchaseOrderStatus.RECEIVED,
    PurchaseOrderStatus.CLOSED,
)


@dataclass
class Due:
    purchase_order: PurchaseOrder
    due_on: date
    amount: Decimal
    paid: Decimal = ZERO

    @property
    def open(self) -> Decimal:
        return self.amount - self.paid


@dataclass
class SupplierBalance:
    supplier: Supplier
    owed: Decimal = ZERO
    paid: Decimal = ZERO
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))
    dues: list[Due] = field(default_factory=list)
    unapplied: Decimal = ZERO  # prepayments and payments beyond what is due so far

    @property
    def balance(self) -> Decimal:
        return self.owed - self.paid


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _local(moment) -> date | None:
    return timezone.localdate(moment) if moment else None


def po_amount(po: PurchaseOrder) -> Decimal:
    lines = list(po.lines.all())
    ordered = sum((line.unit_price * line.quantity for line in lines), ZERO)
    rejected = sum((line.unit_price * line.rejected_qty for line in lines), ZERO)
    return (ordered - rejected + po.freight + po.other_fees).quantize(Decimal("0.01"))


def dues_of(po: PurchaseOrder) -> list[Due]:
    amount = po_amount(po)
    supplier = po.supplier
    ordered_on = _local(po.ordered_at) or _local(po.created_at)
    received_on = _local(po.received_at)
    if supplier.payment_terms == PaymentTerms.CASH_ON_ORDER:
        return [Due(po, ordered_on, amount)]
    if supplier.payment_terms == PaymentTerms.PREPAY:
        first = (amount * supplier.prepay_pct / 100).quantize(Decimal("0.01"))
        rest_on = received_on or po.expected_date or ordered_on
        dues = [Due(po, ordered_on, first)] if first else []
        if amount - first:
            dues.append(Due(po, rest_on, amount - first))
        return dues
    basis = received_on or _local(po.shipped_at) or ordered_on
    return [Due(po, _month_end(basis) + timedelta(days=supplier.credit_days), amount)]


def payables(
    *, as_of: date | None = None, supplier_ids=None, user: User | None = None
) -> list[SupplierBalance]:
    """Every supplier with something owed or paid, oldest dues settled first.

    ``user`` limits what is shown to what that user may see; ``None`` shows everything (for
    code that reports to nobody in particular). A user who sees every warehouse (finance
    normally does: ``all_warehouses``) sees the whole picture. A user limited to some
    warehouses sees only the dues of the purchase orders of those warehouses
    (``scope_purchase_orders``), and suppliers with none of those are left out.

    The settlement itself is always worked out over *every* order and payment of the
    supplier, so a due shows the same paid and open amounts to everyone: payments naming an
    order settle it first, the rest (and payments naming no order) the oldest dues, in
    whichever warehouse. A payment naming no order (a prepayment on account, a lump sum
    against a monthly statement) belongs to the supplier, not to a warehouse, and is often
    paid for several warehouses at once: a limited user sees it only as the share of it that
    settled their orders' dues. So for that user "paid" is what was applied to their dues,
    the balance is what is still open on them, and money paid ahead ("unapplied") is not
    shown, since nothing ties it to their warehouses; settling it is finance's business."""
    as_of = as_of or timezone.localdate()
    pos = (
        PurchaseOrder.objects.filter(status__in=OWING_STATES)
        .select_related("supplier")
        .prefetch_related(Prefetch("lines", PurchaseOrderLine.objects.order_by("pk")))
        .order_by("pk")
    )
    payments = SupplierPayment.objects.order_by("paid_on", "pk")
    if supplier_ids is not None:
        pos = pos.filter(supplier_id__in=supplier_ids)
        payments = payments.filter(supplier_id__in=supplier_ids)
    visible: set[int] | None = None  # the pks of the orders the user may see; None: all
    if user is not None and not sees_all_warehouses(user):
        seen = scope_purchase_orders(PurchaseOrder.objects.filter(status__in=OWING_STATES), user)
        visible = set(seen.values_list("pk", flat=True))
        # every order of those suppliers (the settlement needs them), nobody else's
        suppliers = seen.values("supplier_id")
        pos = pos.filter(supplier_id__in=suppliers)
        payments = payments.filter(supplier_id__in=suppliers)
    balances: dict[int, SupplierBalance] = {}
    for po in pos:
        balance = balances.setdefault(po.supplier_id, SupplierBalance(po.supplier))
        balance.dues.extend(dues_of(po))
    paid_by_supplier: dict[int, list[SupplierPayment]] = defaultdict(list)
    for payment in payments.select_related("supplier"):
        balances.setdefault(payment.supplier_id, SupplierBalance(payment.supplier))
        paid_by_supplier[payment.supplier_id].append(payment)
    for supplier_id, balance in balances.items():
        balance.dues.sort(key=lambda d: (d.due_on, d.purchase_order.pk))
        balance.unapplied = _settle(balance.dues, paid_by_supplier[supplier_id])
        if visible is None:
            balance.owed = sum((d.amount for d in balance.dues), ZERO)
            balance.paid = sum((p.amount for p in paid_by_supplier[supplier_id]), ZERO)
        else:
            balance.dues = [d for d in balance.dues if d.purchase_order.pk in visible]
            balance.owed = sum((d.amount for d in balance.dues), ZERO)
            balance.paid = sum((d.paid for d in balance.dues), ZERO)
            balance.unapplied = ZERO
        _age(balance, as_of)
    shown = balances.values() if visible is None else [b for b in balances.values() if b.dues]
    return sorted(shown, key=lambda b: (-b.balance, b.supplier.code))


def _settle(dues: list[Due], payments: list[SupplierPayment]) -> Decimal:
    """Apply ``payments`` (oldest first) to ``dues`` (oldest first): a payment naming its
    order settles that order's dues first, then the oldest. Returns what is left over."""
    pool = ZERO
    for payment in payments:
        left = payment.amount
        if payment.purchase_order_id:
            for due in dues:
                if due.purchase_order.pk == payment.purchase_order_id and due.open > 0:
                    take = min(left, due.open)
                    due.paid += take
                    left -= take
        pool += left
    for due in dues:
        if pool <= 0:
            break
        take = min(pool, due.open)
        due.paid += take
        pool -= take
    return pool


def _age(balance: SupplierBalance, as_of: date) -> None:
    """Put the open part of each due into its aging bucket (days late on ``as_of``)."""
    for due in balance.dues:
        if due.open <= 0:
            continue
        late = (as_of - due.due_on).days
        key = (
            "current"
            if late <= 0
            else "1_30"
            if late <= 30
            else "31_60"
            if late <= 60
            else "61_90"
            if late <= 90
            else "over_90"
        )
        balance.buckets[key] += due.open


def supplier_payment_record(
    *,
    supplier: Supplier,
    amount: Decimal,
    paid_on: date,
    purchase_order: PurchaseOrder | None = None,
    method: str = "",
    reference: str = "",
    is_prepayment: bool = False,
    note: str = "",
    user=None,
) -> SupplierPayment:
    """Record money paid to a supplier (partial payments and prepayments allowed)."""
    if amount is None or amount <= 0:
        raise PurchaseError(_("A payment is a positive amount."))
    if purchase_order is not None and purchase_order.supplier_id != supplier.pk:
        raise PurchaseError(
            _("%(number)s is not an order of %(supplier)s.")
            % {"number": purchase_order.number, "supplier": supplier.code}
        )
    return SupplierPayment.objects.create(
        supplier=supplier,
        purchase_order=purchase_order,
        amount=amount,
        currency=supplier.currency,
        paid_on=paid_on,
        method=method[:40],
        reference=reference[:100],
        is_prepayment=is_prepayment,
        note=note[:300],
        created_by=user if user is not None and user.is_authenticated else None,
    )
