"""The last steps of the order life, driven by logistics: labelled, label voided, shipped, and
telling the platform. Logistics calls these (the higher app calls the lower one); orders never
imports logistics."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erp import prepared
from erp.models import User
from erp.prepared import Prepared, column_type, ensure_prepared, numbered
from orders.models import RESERVED_STATES, Order, OrderEvent, OrderStatus, Platform
from orders.platforms import CONNECTORS, PlatformError, connector_for
from orders.services.allocation import BulkResult, release_order_stock
from orders.services.events import make_event, status_event
from orders.services.workflow import OrderError, _bulk_move
from warehouse.services import StockError, stock_consume


@transaction.atomic
def orders_mark_labelled(
    *, order_ids: Iterable[int], user: User | None = None, message: str = ""
) -> BulkResult:
    """Allocated orders whose shipment has a tracking number become labelled."""

    def apply(order: Order) -> str:
        order.status = OrderStatus.LABELLED
        return message or _("Labelled.")

    return _bulk_move(
        order_ids,
        user=user,
        allowed=(OrderStatus.ALLOCATED,),
        not_allowed=_("A %(status)s order cannot be labelled."),
        apply=apply,
    )


@transaction.atomic
def orders_unlabel(
    *, order_ids: Iterable[int], user: User | None = None, reason: str = ""
) -> BulkResult:
    """A voided label sends the order back to allocated; its stock stays reserved."""

    def apply(order: Order) -> str:
        order.status = OrderStatus.ALLOCATED
        return reason or _("Label voided.")

    return _bulk_move(
        order_ids,
        user=user,
        allowed=(OrderStatus.LABELLED,),
        not_allowed=_("A %(status)s order has no label to void."),
        apply=apply,
    )


@transaction.atomic
def orders_ship(
    *, order_ids: Iterable[int], user: User | None = None, message: str = ""
) -> BulkResult:
    """Labelled orders leave the warehouse: their reserved stock is consumed (the ledger moves
    carry the cost of goods sold) and they become shipped."""

    def apply(order: Order) -> str:
        try:
            # _bulk_move runs each order under its own savepoint already
            stock_consume(reference=order.reference, user=user, note=message[:200], savepoint=False)
        except StockError as exc:
            raise OrderError(str(exc)) from exc
        order.status = OrderStatus.SHIPPED
        return message or _("Shipped.")

    return _bulk_move(
        order_ids,
        user=user,
        allowed=(OrderStatus.LABELLED,),
        not_allowed=_("A %(status)s order cannot be shipped."),
        apply=apply,
    )


@transaction.atomic(savepoint=False)
def order_ship_one(*, order_id: int, user: User | None = None, message: str = "") -> None:
    """Ship one labelled order inside the caller's transaction: what ``orders_ship`` does for
    one order (stock consumed with its cost, status shipped, the same timeline event), for a
    caller that ships one order per transaction, the pack station.

    ``orders_ship`` reports failures per order, so it runs each order under a savepoint, and
    builds every statement with the ORM: ~31 ms of a ~48 ms pack-station confirmation
    (profiled, see bench/bench_warehouse_ops.py). Here a failure raises ``OrderError`` (no
    such order, not labelled, or the stock's ``StockError``) and the caller's transaction
    must roll back: no savepoint. The order's own statements are written once from the
    models (``_ship_one_sql``): each ORM statement cost ~0.5 ms of Python, the database's
    work a fraction of that. Locks: the order row first (after whatever the caller locked:
    the pack station, its session and shipment), then its stock (SKUs, then levels by pk)."""
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        ensure_prepared(*_SHIP_ONE)
        lock, update, insert = (statement.execute_sql for statement in _SHIP_ONE)
    else:
        lock, update, insert = _ship_one_sql()
    with connection.cursor() as cursor:
        prepared.execute(cursor, lock, [order_id])
        row = cursor.fetchone()
    if row is None:
        raise OrderError(_("No such order."))
    old = row[0]
    if old != OrderStatus.LABELLED:
        raise OrderError(
            _("A %(status)s order cannot be shipped.") % {"status": OrderStatus(old).label.lower()}
        )
    shipped = Order.from_db(Order.objects.db, ["id", "status"], (order_id, OrderStatus.SHIPPED))
    try:
        stock_consume(reference=shipped.reference, user=user, note=message[:200], savepoint=False)
    except StockError as exc:
        raise OrderError(str(exc)) from exc
    now = timezone.now()
    event = status_event(shipped, old, user=user, message=message or _("Shipped."), at=now)
    updated_at = Order._meta.get_field("updated_at").get_db_prep_save(now, connection)
    writes = [
        (update, [OrderStatus.SHIPPED, updated_at, order_id]),
        (
            insert,
            [f.get_db_prep_save(f.pre_save(event, True), connection) for f in _event_fields()],
        ),
    ]
    with connection.cursor() as cursor:
        if postgresql:  # one round trip
            prepared.execute(
                cursor, "; ".join(sql for sql, _p in writes), [p for _s, ps in writes for p in ps]
            )
        else:
            for sql, params in writes:
                cursor.execute(sql, params)


def _event_fields() -> list[models.Field]:
    return [f for f in OrderEvent._meta.concrete_fields if not f.primary_key]


@cache
def _ship_one_sql() -> tuple[str, str, str]:
    """``order_ship_one``'s statements, from the models' tables and columns (values go as
    parameters): lock the order and read its status (parameter: id); mark it shipped
    (status, updated_at, id); insert its event (every column but the id, ``_meta`` order)."""
    qn = connection.ops.quote_name
    order, event = qn(Order._meta.db_table), qn(OrderEvent._meta.db_table)
    status, updated_at, pk = (
        qn(Order._meta.get_field(f).column) for f in ("status", "updated_at", "id")
    )
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    columns = ", ".join(qn(f.column) for f in _event_fields())
    values = ", ".join(["%s"] * len(_event_fields()))
    return (
        f"SELECT {status} FROM {order} WHERE {pk} = %s{lock}",  # noqa: S608
        f"UPDATE {order} SET {status} = %s, {updated_at} = %s WHERE {pk} = %s",  # noqa: S608
        f"INSERT INTO {event} ({columns}) VALUES ({values})",  # noqa: S608
    )


def _ship_one_types() -> tuple[list[str], list[str], list[str]]:
    return (
        [column_type(Order, "id")],
        [column_type(Order, f) for f in ("status", "updated_at", "id")],
        [f.db_type(connection) for f in _event_fields()],
    )


def _ship_one_statement(index: int) -> Prepared:
    return Prepared(
        ("ship_one_lock", "ship_one_update", "ship_one_event")[index],
        lambda: (numbered(_ship_one_sql()[index]), _ship_one_types()[index]),
    )


# ``_ship_one_sql`` prepared once per PostgreSQL session (erp/prepared.py).
_SHIP_ONE = tuple(_ship_one_statement(i) for i in range(3))


@transaction.atomic
def orders_short_picked(
    *, order_ids: Iterable[int], user: User | None = None, note: str = ""
) -> BulkResult:
    """Orders whose units the picker could not find go back to out of stock: their whole
    reservation is given back (what was picked for them returns to its bins) and they wait
    for stock like any short order. Logistics calls this when a wave is marked picked short;
    it voids their labels itself."""

    def apply(order: Order) -> str:
        release_order_stock(order)
        order.status = OrderStatus.OUT_OF_STOCK
        return note or _("Short at picking: back to out of stock.")

    return _bulk_move(
        order_ids,
        user=user,
        allowed=RESERVED_STATES,
        not_allowed=_("A %(status)s order holds no picked stock."),
        apply=apply,
    )


def order_confirm_on_platform(
    order: Order,
    *,
    carrier_code: str,
    carrier_name: str,
    tracking_number: str,
    ship_date: datetime | None = None,
    tracking_url: str = "",
    **connector_kwargs,
) -> bool:
    """Tell the order's marketplace it left with this carrier and tracking number, and note it
    on the timeline either way. Raises ``PlatformError`` when the platform refuses, so the
    caller can retry later. Returns False when the store has no API to tell (manual stores,
    platforms imported from files only): the seller confirms there by hand.

    Each platform names carriers its own way: Amazon takes "Other" with the carrier's name
    for carriers off its list (cross-border consolidators are), Shopify takes the name as the
    tracking company with our tracking page."""
    platform = order.store.platform
    if platform == Platform.MANUAL or platform not in CONNECTORS:
        return False
    if platform == Platform.AMAZON:
        kwargs = {"carrier_code": "Other", "carrier_name": carrier_name}
    elif platform == Platform.SHOPIFY:
        kwargs = {"carrier_code": carrier_name, "tracking_url": tracking_url}
    else:
        kwargs = {"carrier_code": carrier_code}
    try:
        with connector_for(order.store, **connector_kwargs) as connector:
            connector.confirm_shipment(
                external_id=order.external_id,
                tracking_number=tracking_number,
                ship_date=ship_date,
                **kwargs,
            )
    except PlatformError as exc:
        make_event(
            order,
            OrderEvent.Kind.NOTE,
            message=_("The platform refused the shipment confirmation: %(error)s") % {"error": exc},
        ).save()
        raise
    make_event(
        order,
        OrderEvent.Kind.NOTE,
        message=_("Shipment confirmed to the platform: %(carrier)s %(number)s")
        % {"carrier": carrier_name, "number": tracking_number},
    ).save()
    return True
