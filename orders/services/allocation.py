"""Allocation: choose a warehouse for an approved order and reserve its units there.

Reservations go through ``warehouse.services.stock_reserve`` with the order's reference
(``order:<id>``), so the stock ledger stays the warehouse app's alone. Orders are handled in
chunks: one locked read of the chunk's orders and lines, one reservation call per order (its
own savepoint, so a short order leaves the others alone), then one ``bulk_update`` and one
``bulk_create`` of events per chunk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from erp.bulk import build, copy_insert
from erp.models import User
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Store
from warehouse.models import BundleItem, Sku, Warehouse
from warehouse.services import (
    InsufficientStock,
    ReserveRequest,
    StockError,
    StockLine,
    stock_release,
    stock_reserve,
    stock_reserve_many,
)

ALLOCATABLE = (OrderStatus.APPROVED, OrderStatus.OUT_OF_STOCK)
# Warehouses Caravan allocates from by itself: FBA stock is the platform's, virtual ones are
# bookkeeping.
ALLOCATION_KINDS = (Warehouse.Kind.OWN, Warehouse.Kind.OVERSEAS)
CHUNK = 200


@dataclass
class BulkResult:
    """Which orders a bulk action changed and why the others were left as they were."""

    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "done": self.done,
            "failed": [{"id": pk, "detail": msg} for pk, msg in sorted(self.failed.items())],
        }


# Sent after the commit that allocated orders, so logistics can choose their channels without
# orders importing logistics. ``order_ids``: list of Order pks.
orders_allocated = Signal()


def release_order_stock(order: Order) -> int:
    """Give back every unit reserved for ``order``."""
    return stock_release(reference=order.reference)


def _candidates(order: Order, warehouses: list[Warehouse], default: int | None) -> list[Warehouse]:
    """A warehouse set on the order (by a rule or a person) is binding; otherwise the store's
    ``default`` first, then every other warehouse that may fill it, in code order."""
    if order.warehouse_id:
        return [w for w in warehouses if w.pk == order.warehouse_id] or [
            Warehouse.objects.get(pk=order.warehouse_id)
        ]
    pool = [w for w in warehouses if w.kind in ALLOCATION_KINDS]
    return sorted(pool, key=lambda w: (w.pk != default, w.code))


def orders_allocate(*, order_ids: Iterable[int], user: User | None = None) -> BulkResult:
    """Allocate approved (and out-of-stock) orders, oldest first; short ones go to
    ``out_of_stock`` and are retried when stock arrives."""
    wanted = set(order_ids)
    # oldest first, so a scarce unit goes to the order that waited longest
    ids = list(
        Order.objects.filter(pk__in=wanted)
        .order_by("purchased_at", "pk")
        .values_list("pk", flat=True)
    )
    result = BulkResult()
    for pk in sorted(wanted - set(ids)):
        result.failed[pk] = _("No such order.")
    warehouses = list(Warehouse.objects.filter(is_active=True).order_by("code"))
    for start in range(0, len(ids), CHUNK):
        _allocate_chunk(ids[start : start + CHUNK], warehouses, user, result)
    return result


@transaction.atomic
def _allocate_chunk(
    ids: Sequence[int], warehouses: list[Warehouse], user: User | None, result: BulkResult
) -> None:
    """One transaction for the chunk: lock its orders, reserve them all through
    ``stock_reserve_many`` (oldest first), then one UPDATE per resulting (status, warehouse)
    and one insert of events."""
    position = {pk: i for i, pk in enumerate(ids)}
    # Only the fields allocation reads: whole orders and SKUs cost more to build than the
    # reservation itself.
    orders = sorted(
        Order.objects.select_for_update(of=("self",))
        .only("id", "status", "warehouse_id", "store_id")
        .filter(pk__in=ids)
        .order_by("pk"),  # lock in pk order, like every other writer
        key=lambda o: position[o.pk],
    )
    defaults = dict(
        Store.objects.filter(pk__in={o.store_id for o in orders}).values_list(
            "pk", "default_warehouse_id"
        )
    )
    lines_by_order: dict[int, list[OrderLine]] = defaultdict(list)
    lines = list(
        OrderLine.objects.filter(order_id__in=[o.pk for o in orders]).only(
            "id", "order_id", "sku_id", "quantity", "sku_quantity", "platform_sku"
        )
    )
    skus = Sku.objects.only("id", "code", "is_bundle").in_bulk(
        {line.sku_id for line in lines if line.sku_id}
    )
    for line in lines:
        if line.sku_id:
            line.sku = skus[line.sku_id]
        lines_by_order[line.order_id].append(line)
    requests: list[ReserveRequest] = []
    planned: list[Order] = []
    for order in orders:
        lines = lines_by_order[order.pk]
        unpaired = [line.platform_sku for line in lines if line.sku_id is None]
        if order.status not in ALLOCATABLE:
            result.failed[order.pk] = _("Only approved or out-of-stock orders can be allocated.")
        elif unpaired:
            result.failed[order.pk] = _("Pair these SKUs first: %(skus)s") % {
                "skus": ", ".join(unpaired)
            }
        elif not lines:
            result.failed[order.pk] = _("The order has no lines.")
        else:
            candidates = _candidates(order, warehouses, defaults.get(order.store_id))
            requests.append(ReserveRequest(order.reference, _stock_lines(lines), candidates))
            planned.append(order)
    if not planned:
        return
    try:
        outcomes = stock_reserve_many(requests=requests)
    except StockError:  # a bundle without parts, ...: fall back to one by one for the reasons
        outcomes = None
    now = timezone.now()
    groups: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    events = []
    for i, order in enumerate(planned):
        old = order.status
        if outcomes is None:
            message = _one_by_one(order, requests[i])
        elif outcomes[i].reserved:
            order.status = OrderStatus.ALLOCATED
            order.warehouse = outcomes[i].warehouse
            message = _("Reserved in %(warehouse)s.") % {"warehouse": order.warehouse.code}
        else:
            order.status = OrderStatus.OUT_OF_STOCK
            shortages = outcomes[i].shortages
            message = (
                str(InsufficientStock(shortages))
                if shortages
                else _("No warehouse to allocate from.")
            )
        if order.status == OrderStatus.ALLOCATED:
            result.done.append(order.pk)
        else:
            result.failed[order.pk] = message
        if order.status != old or order.status == OrderStatus.ALLOCATED:
            groups[(order.status, order.warehouse_id)].append(order.pk)
            events.append(
                build(
                    OrderEvent,
                    {
                        "order_id": order.pk,
                        "at": now,
                        "user_id": user.pk if user is not None and user.is_authenticated else None,
                        "kind": OrderEvent.Kind.STATUS,
                        "from_status": old,
                        "to_status": order.status,
                        "message": str(message),
                    },
                )
            )
    for (status, warehouse_id), pks in groups.items():
        Order.objects.filter(pk__in=pks).update(
            status=status, warehouse_id=warehouse_id, updated_at=now
        )
    copy_insert(OrderEvent, events)
    allocated = [o.pk for o in planned if o.status == OrderStatus.ALLOCATED]
    if allocated:
        transaction.on_commit(lambda: orders_allocated.send(sender=Order, order_ids=allocated))


def _one_by_one(order: Order, request: ReserveRequest) -> str:
    """Reserve one order with ``stock_reserve`` (its own savepoint), for the rare chunk whose
    batch refused as a whole; returns the event message."""
    first_error = ""
    for warehouse in request.warehouses:
        try:
            stock_reserve(warehouse=warehouse, lines=request.lines, reference=request.reference)
        except StockError as exc:
            first_error = first_error or str(exc)
            continue
        order.status, order.warehouse = OrderStatus.ALLOCATED, warehouse
        return _("Reserved in %(warehouse)s.") % {"warehouse": warehouse.code}
    order.status = OrderStatus.OUT_OF_STOCK
    return first_error or _("No warehouse to allocate from.")


def _stock_lines(lines: Sequence[OrderLine]) -> list[StockLine]:
    merged: dict[int, list] = {}
    for line in lines:
        entry = merged.setdefault(line.sku_id, [line.sku, 0])
        entry[1] += line.quantity * line.sku_quantity
    return [StockLine(sku=sku, quantity=qty) for sku, qty in merged.values()]


def retry_out_of_stock(*, sku_ids: Iterable[int], user: User | None = None) -> BulkResult:
    """Allocate, oldest first, the out-of-stock orders that wait on any of ``sku_ids`` (or on
    a bundle made of them). Called after stock arrives."""
    ids = set(sku_ids)
    if not ids:
        return BulkResult()
    bundles = set(
        BundleItem.objects.filter(component_id__in=ids).values_list("bundle_id", flat=True)
    )
    order_ids = (
        Order.objects.filter(status=OrderStatus.OUT_OF_STOCK)
        .filter(Q(lines__sku_id__in=ids) | Q(lines__sku_id__in=bundles))
        .order_by("purchased_at", "pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    return orders_allocate(order_ids=list(order_ids), user=user)
