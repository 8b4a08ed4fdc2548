"""Receiving a purchase order with QC: accepted units go into bins at landed unit cost,
rejected units become a supplier return.

Landed unit cost = unit price + the line's share of the order's freight and fees, spread by
line value or by quantity over what was *ordered* (so a partial delivery costs the same per
unit as the rest will), converted to the base currency at the rate of the receipt's day.
Stock goes in as ``warehouse.services.stock_receive`` puts it (the same locks, moving-average
cost and ledger moves), set-based for all lines at once, and is announced after the commit,
so out-of-stock orders are allocated, oldest first.

Each receipt then prints its SKU labels (``receipt_labels_pdf``): one per accepted unit, to
stick on the goods as they are shelved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import IntegerField, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from erp.models import User
from erp.money import rate_to_base
from purchasing.filters import scope_purchase_orders
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
from warehouse.labels import MAX_COPIES, MAX_LABELS, LabelPrintError, sku_labels_pdf
from warehouse.models import Location, Sku, StockLevel, StockMove
from warehouse.signals import stock_available

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
    the SKU.

    Every line is checked before anything is written; then the writes are set-based (a
    500-line order in a few dozen statements): the SKUs and their stock levels are locked in
    pk order, as ``warehouse.services.stock`` does, and counters are raised in SQL
    (``on_hand = on_hand + n``), never written back from Python."""
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
    checked = _checked(po, wanted, order_lines, unit_costs, rate)
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
    _put_away(
        [(item, line, landed) for item, line, landed in checked if item.accepted],
        reference=f"po:{po.number}",
        note=receipt.number,
        user=user,
    )
    ReceiptLine.objects.bulk_create(
        ReceiptLine(
            receipt=receipt,
            po_line=line,
            accepted=item.accepted,
            rejected=item.rejected,
            location=item.location if item.accepted else None,
            landed_unit_cost=landed,
            reject_reason=item.reject_reason[:200],
        )
        for item, line, landed in checked
    )
    for column, attribute in (("received_qty", "accepted"), ("rejected_qty", "rejected")):
        added = {line.pk: getattr(i, attribute) for i, line, _c in checked if getattr(i, attribute)}
        _by_pk(PurchaseOrderLine, column, added, add=True)
    rejected_value = Decimal(0)
    for item, line, _landed in checked:
        line.received_qty += item.accepted
        line.rejected_qty += item.rejected
        rejected_value += line.unit_price * item.rejected
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


def _checked(
    po: PurchaseOrder,
    wanted: Sequence[ReceiveLine],
    order_lines: dict[int, PurchaseOrderLine],
    unit_costs: dict[int, Decimal],
    rate: Decimal,
) -> list[tuple[ReceiveLine, PurchaseOrderLine, Decimal]]:
    """Each wanted line with its order line and landed unit cost (base currency), or the
    first problem as a ``PurchaseError`` naming the SKU."""
    seen: set[int] = set()
    checked = []
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
            if line.sku.is_bundle:
                raise PurchaseError(
                    _("%(sku)s is a bundle: it holds no stock of its own; receive its parts.")
                    % {"sku": line.sku.code}
                )
        checked.append((item, line, landed))
    return checked


def _by_pk(model, column: str, values: dict[int, object], *, add: bool) -> None:
    """One statement per column: ``column = column + n`` (``add``) or ``column = n`` for each
    pk of ``values``. PostgreSQL joins an ``unnest`` of the pairs; SQLite (in-process) runs one
    short statement per row. A ``CASE`` with 500 branches costs more to build in the ORM
    than the whole receipt takes in the database."""
    if not values:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    field = model._meta.get_field(column)
    col = qn(field.column)
    pk = qn(model._meta.pk.column)
    new = f"{table}.{col} + v.n" if add else "v.n"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            kind = "integer" if isinstance(field, IntegerField) else "numeric"
            cursor.execute(
                f"UPDATE {table} SET {col} = {new} "  # noqa: S608 - quoted model names only
                f"FROM unnest(%s::bigint[], %s::{kind}[]) AS v (id, n) WHERE {table}.{pk} = v.id",
                [list(values), list(values.values())],
            )
        else:
            expr = f"{col} + %s" if add else "%s"
            cursor.executemany(
                f"UPDATE {table} SET {col} = {expr} WHERE {pk} = %s",  # noqa: S608 - quoted names
                [(n if isinstance(n, int) else str(n), k) for k, n in values.items()],
            )


def _put_away(
    accepted: Sequence[tuple[ReceiveLine, PurchaseOrderLine, Decimal]],
    *,
    reference: str,
    note: str,
    user: User | None,
) -> None:
    """Accepted units into their bins at landed cost, as ``warehouse.services.stock_receive``
    does one at a time, for all lines at once: lock the SKUs, then their levels (pk order);
    the moving-average cost of each SKU over all its bins; one ledger move per line; the
    levels' ``on_hand`` raised in SQL; the SKUs announced as available after commit."""
    if not accepted:
        return
    sku_ids = sorted({line.sku_id for _item, line, _cost in accepted})
    location_ids = {item.location.pk for item, _line, _cost in accepted}
    skus = {
        sku.pk: sku for sku in Sku.objects.select_for_update().filter(pk__in=sku_ids).order_by("pk")
    }
    pairs = {(line.sku_id, item.location.pk) for item, line, _cost in accepted}
    levels = StockLevel.objects.filter(sku_id__in=sku_ids, location_id__in=location_ids)
    existing = set(levels.values_list("sku_id", "location_id"))
    if pairs - existing:
        StockLevel.objects.bulk_create(
            [StockLevel(sku_id=s, location_id=loc) for s, loc in sorted(pairs - existing)],
            ignore_conflicts=True,  # another transaction made it first: it is locked next
        )
    locked = {
        (level.sku_id, level.location_id): level
        for level in levels.select_for_update().order_by("pk")
    }
    totals = dict(
        StockLevel.objects.filter(sku_id__in=sku_ids)
        .values("sku_id")
        .annotate(total=Sum("on_hand"))
        .values_list("sku_id", "total")
    )
    now = timezone.now()
    moves, added = [], defaultdict(int)
    for item, line, cost in accepted:
        sku = skus[line.sku_id]
        before = totals.get(sku.pk) or 0
        if before <= 0:
            average = cost
        else:
            average = (before * sku.avg_cost + item.accepted * cost) / (before + item.accepted)
        sku.avg_cost = average.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
        totals[sku.pk] = before + item.accepted
        level = locked[(sku.pk, item.location.pk)]
        level.on_hand += item.accepted
        added[level.pk] += item.accepted
        moves.append(
            StockMove(
                sku_id=sku.pk,
                location_id=level.location_id,
                quantity=item.accepted,
                balance_after=level.on_hand,
                kind=StockMove.Kind.RECEIPT,
                unit_cost=cost,
                reference=reference,
                note=note,
                user=user if user is not None and user.is_authenticated else None,
                at=now,
            )
        )
        line.sku.avg_cost = sku.avg_cost
    _by_pk(Sku, "avg_cost", {pk: skus[pk].avg_cost for pk in sku_ids}, add=False)
    _by_pk(StockLevel, "on_hand", dict(added), add=True)
    StockMove.objects.bulk_create(moves)
    announced = frozenset(sku_ids)
    transaction.on_commit(lambda: stock_available.send(sender=StockLevel, sku_ids=announced))


# ---------------------------------------------------------------------------- labels


def receipt_queryset(*, user: User) -> QuerySet[Receipt]:
    """Receipts of the purchase orders ``user`` sees (another warehouse's receipt is not
    found), with their order, its supplier and warehouse, in one query."""
    return (
        Receipt.objects.filter(
            purchase_order__in=scope_purchase_orders(PurchaseOrder.objects.all(), user)
        )
        .select_related("purchase_order__supplier", "purchase_order__warehouse", "received_by")
        .order_by("-received_at", "-pk")
    )


def receipt_label_items(*, receipt: Receipt) -> list[tuple[Sku, int]]:
    """What was put away on ``receipt``, as the labels it needs (``label_items``)."""
    return label_items(
        ReceiptLine.objects.filter(receipt=receipt).select_related("po_line__sku").order_by("pk")
    )


def label_items(lines: Iterable[ReceiptLine]) -> list[tuple[Sku, int]]:
    """Receipt ``lines`` (with ``po_line__sku``) as labels: each SKU with its accepted
    units, in line order (the order it was shelved in), a SKU on two lines once. Rejected
    units go back to the supplier unshelved, so they get no label; a bundle holds no stock of
    its own (receiving refuses it), so it never gets one either."""
    counts: dict[int, int] = {}
    skus: dict[int, Sku] = {}
    for line in lines:
        sku = line.po_line.sku
        if line.accepted <= 0 or sku.is_bundle:
            continue
        skus.setdefault(sku.pk, sku)
        counts[sku.pk] = counts.get(sku.pk, 0) + line.accepted
    return [(skus[pk], count) for pk, count in counts.items()]


def label_parts(total: int) -> list[tuple[int, int, int]]:
    """The parts ``total`` labels print in, at most ``MAX_LABELS`` each (one PDF is what a
    label printer takes in one go): (part, first label, last label), counted from 1."""
    return [
        (number, start + 1, min(total, start + MAX_LABELS))
        for number, start in enumerate(range(0, total, MAX_LABELS), start=1)
    ]


def _label_slice(items: Sequence[tuple[Sku, int]], start: int, stop: int) -> list[tuple[Sku, int]]:
    """The labels ``start`` to ``stop`` (0-based, end excluded) of ``items``, as runs of at
    most ``MAX_COPIES`` copies (the renderer's limit per item; one SKU's 1,500 units are two
    runs of the same label)."""
    runs = []
    position = 0
    for sku, copies in items:
        first, last = max(start, position), min(stop, position + copies)
        position += copies
        left = last - first
        while left > 0:
            take = min(left, MAX_COPIES)
            runs.append((sku, take))
            left -= take
    return runs


def receipt_labels_pdf(
    *, receipt: Receipt, size: str = "50x30", code: str = "code", part: int | None = None
) -> bytes:
    """The SKU labels of ``receipt``: one PDF, each received SKU's label repeated by its
    accepted units (``receipt_label_items``), for the shelf the goods went on.

    A receipt of more than ``MAX_LABELS`` units prints in parts of that many (``part`` from
    1): one PDF is what a label printer takes in one go. Raises ``LabelPrintError`` (a
    message for the user) when nothing was accepted, for a big receipt without a part or a
    part that does not exist, and as ``sku_labels_pdf`` does for an unknown size or barcode
    content, or a code that cannot be a barcode on this label."""
    items = receipt_label_items(receipt=receipt)
    total = sum(copies for _sku, copies in items)
    if not total:
        raise LabelPrintError(
            _("Nothing to label on %(receipt)s: no unit was accepted into stock.")
            % {"receipt": receipt.number}
        )
    parts = len(label_parts(total))
    if part is None and parts > 1:
        raise LabelPrintError(
            _(
                "%(receipt)s has %(count)d labels, more than %(max)d at a time: print it in "
                "%(parts)d parts."
            )
            % {"receipt": receipt.number, "count": total, "max": MAX_LABELS, "parts": parts}
        )
    part = part or 1
    if not 1 <= part <= parts:
        raise LabelPrintError(
            ngettext(
                "%(receipt)s prints in %(parts)d part: there is no part %(part)d.",
                "%(receipt)s prints in %(parts)d parts: there is no part %(part)d.",
                parts,
            )
            % {"receipt": receipt.number, "parts": parts, "part": part}
        )
    start = (part - 1) * MAX_LABELS
    runs = _label_slice(items, start, min(total, start + MAX_LABELS))
    return sku_labels_pdf(items=runs, size=size, code=code)
