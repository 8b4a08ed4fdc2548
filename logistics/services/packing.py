"""The pack station: scan an order (or its parcel's label) in, scan each unit it holds, then
confirm with the weight: the order ships, its stock is consumed and the platform is told.

It lives in logistics because packing ships orders and their shipments (DESIGN.md listed it
under warehouse, but warehouse never imports orders).

- A ``PackSession`` per parcel keeps the scans in the database: a reloaded page, or another
  screen, picks the parcel up where it was. An order has at most one open session (another
  packer is refused, unless the session went quiet for ``STALE_AFTER``: then they take it
  over) and at most one confirmed one (unique indexes).
- A scan is refused, with a message naming the SKU and the order, when the item is not in the
  order or all its units are scanned already; the unit count rises with a conditional UPDATE,
  so two scans of the last unit never both count.
- ``pack_confirm`` first makes sure the parcel has a label (creating the shipment, or buying a
  pending waybill, outside any transaction: a carrier call must not hold row locks), then in
  one transaction locks the session, the shipment and (through ``order_ship_one``) the order
  and its stock, in that order: a second confirm of the same parcel waits, then finds it
  confirmed and is refused. Nothing ships twice. Many stations confirm at once (quick mode
  a parcel a scan): the usual parcel (labelled) costs 6 round trips of statements written
  once per process, not built by the ORM on every parcel (``_locked_parcel``,
  ``order_ship_one``, ``stock_consume``, ``_save_confirmed``; ``bench/bench_warehouse_ops.py``
  measures it), and the platform confirmation task is queued at most once per
  ``handover.CONFIRM_QUEUE_EVERY_S`` per process (beat confirms the rest).
- Single-item waves can skip the order scan (``pack_quick``): the scanned item packs the
  oldest order of the wave (or, without a wave, of the warehouse's labelled one-unit orders)
  that needs exactly that SKU; SKIP LOCKED lets two packers scanning the same SKU take two
  different orders.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, partial

from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from erp import prepared
from erp.errors import ServiceError
from erp.models import User
from erp.prepared import Prepared, column_type, ensure_prepared, forget_if_lost, numbered
from erp.scopes import scope_stores, scope_warehouses
from logistics.models import (
    Carrier,
    OrderChannel,
    PackLine,
    PackSession,
    PickWave,
    PickWaveOrder,
    Shipment,
    ShipmentStatus,
    ShippingChannel,
)
from logistics.services.handover import queue_confirmations
from logistics.services.labels import write_labels_pdf
from logistics.services.picking import order_units, wave_close_if_done
from logistics.services.shipments import ShipmentError, shipment_buy_waybill, shipments_create
from orders.models import Order, OrderStatus
from orders.services import OrderError, order_ship_one
from warehouse.models import Reservation, Sku, Warehouse

PACKABLE = (OrderStatus.ALLOCATED, OrderStatus.LABELLED)
# A session with no scan for this long may be taken over by another packer.
STALE_AFTER = timedelta(minutes=5)
MAX_WEIGHT_G = 100_000


class PackError(ServiceError):
    code = "pack_invalid"


class PackNotFound(PackError):
    code = "pack_not_found"
    http_status = 404


class WrongItem(PackError):
    code = "pack_wrong_item"
    http_status = 409


class ExtraUnit(PackError):
    code = "pack_extra_unit"
    http_status = 409


class PackIncomplete(PackError):
    code = "pack_incomplete"
    http_status = 409


class PackBusy(PackError):
    """Another packer has the parcel, or it was confirmed (shipped) already."""

    code = "pack_busy"
    http_status = 409


@dataclass
class ScanResult:
    session: PackSession
    sku: Sku
    line: PackLine
    complete: bool


@dataclass
class PackResult:
    session: PackSession
    shipment: Shipment
    # The label was not printed with the wave nor at the station: print it now.
    label_needed: bool


# ---------------------------------------------------------------------------- lookups


def visible_orders(user: User) -> QuerySet[Order]:
    """Orders of the user's warehouses and stores: a packer finds no other."""
    return scope_stores(scope_warehouses(Order.objects.all(), user, "warehouse"), user, "store")


def _name(order: Order) -> str:
    return order.platform_reference or order.external_id


def find_order(*, code: str, user: User) -> Order:
    """The order a scanned code names: a parcel's tracking number or our shipment reference,
    the platform order id or number, or ``order:<id>``. Only the user's orders; among several
    orders of the same number, the one that can be packed."""
    code = code.strip()
    if not code:
        raise PackError(_("Scan an order number or a parcel label."))
    ids = list(
        Shipment.objects.filter(Q(tracking_number=code) | Q(reference=code))
        .exclude(status=ShipmentStatus.VOIDED)
        .values_list("order_id", flat=True)[:10]
    )
    if not ids:
        match = Q(external_id=code) | (Q(platform_reference=code) & ~Q(platform_reference=""))
        ours = re.fullmatch(r"order:(\d{1,18})", code)
        if ours:
            match |= Q(pk=int(ours[1]))
        ids = list(Order.objects.filter(match).values_list("pk", flat=True)[:20])
    orders = list(
        visible_orders(user)
        .filter(pk__in=ids)
        .only("pk", "status", "external_id", "platform_reference", "warehouse_id", "store_id")
        .order_by("pk")
    )
    if not orders:
        raise PackNotFound(_("No order or parcel has the number %(code)s.") % {"code": code})
    packable = [o for o in orders if o.status in PACKABLE]
    if len(packable) > 1:
        raise PackError(
            _("Several orders have the number %(code)s: scan the parcel's label instead.")
            % {"code": code}
        )
    if packable:
        return packable[0]
    order = orders[0]
    if order.status == OrderStatus.SHIPPED:
        raise PackBusy(_("Order %(order)s has shipped already.") % {"order": _name(order)})
    raise PackError(
        _("Order %(order)s is %(status)s: only allocated or labelled orders are packed.")
        % {"order": _name(order), "status": OrderStatus(order.status).label.lower()}
    )


def find_sku(code: str) -> Sku | None:
    """The SKU of a scanned barcode, or of a typed SKU code (as typed or in capitals)."""
    code = code.strip()
    if not code:
        return None
    found = list(
        Sku.objects.filter(
            (Q(barcode=code) & ~Q(barcode="")) | Q(code=code) | Q(code=code.upper())
        ).only("pk", "code", "name", "name_zh", "barcode")[:3]
    )
    for test in (lambda s: s.barcode == code, lambda s: s.code == code, lambda s: True):
        for sku in found:
            if test(sku):
                return sku
    return None


def live_shipment(order_id: int) -> Shipment | None:
    return (
        Shipment.objects.filter(order_id=order_id)
        .exclude(status=ShipmentStatus.VOIDED)
        .order_by("-pk")
        .first()
    )


def current_session(user: User) -> PackSession | None:
    """The packer's parcel in progress (the latest), so a reload shows it again."""
    return (
        PackSession.objects.filter(packer=user, status=PackSession.Status.OPEN)
        .order_by("-updated_at", "-pk")
        .first()
    )


# ---------------------------------------------------------------------------- start


def pack_start(*, code: str, user: User) -> PackSession:
    """Open (or resume) the parcel of the order ``code`` names, with a line per SKU of its
    reservations (bundles as their parts: what was picked)."""
    order = find_order(code=code, user=user)
    try:
        return _open_session(order.pk, user)
    except IntegrityError as exc:  # its open session is locked: another station confirms it
        raise PackBusy(
            _("Order %(order)s is being confirmed at another station right now; scan it again.")
            % {"order": _name(order)}
        ) from exc


@transaction.atomic
def _open_session(order_id: int, user: User) -> PackSession:
    order = Order.objects.select_for_update(of=("self",)).get(pk=order_id)
    return _session_for_locked(order, user)


class _Taken(Exception):
    """The order found was claimed by another packer in the meantime (nothing written)."""


def _session_for_locked(order: Order, user: User) -> PackSession:
    """The open session of a locked order: the packer's own (resumed), a quiet one taken
    over, or a new one."""
    if order.status not in PACKABLE:
        raise PackBusy(
            _("Order %(order)s is %(status)s now.")
            % {"order": _name(order), "status": OrderStatus(order.status).label.lower()}
        )
    now = timezone.now()
    # Never wait for the session's row while holding the order's: confirming (``_ship``)
    # locks the session first and the order after, so waiting here would deadlock. A
    # session locked elsewhere (being confirmed or set aside this instant) is skipped, and
    # creating another then fails on ``pack_one_open_session_per_order``: see ``pack_start``.
    existing = (
        PackSession.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("packer")
        .filter(order=order, status=PackSession.Status.OPEN)
        .first()
    )
    if existing is not None:
        if existing.packer_id == user.pk:
            return existing
        if existing.updated_at > now - STALE_AFTER:
            raise PackBusy(
                _("Order %(order)s is being packed by %(packer)s (last scan %(time)s).")
                % {
                    "order": _name(order),
                    "packer": existing.packer or _("someone"),
                    "time": time_format(timezone.localtime(existing.updated_at)),
                }
            )
        existing.packer = user
        existing.updated_at = now
        existing.save(update_fields=["packer", "updated_at"])
        return existing
    shipment = live_shipment(order.pk)
    if shipment is None and not OrderChannel.objects.filter(order=order).exists():
        raise PackError(
            _("Order %(order)s has no shipping channel: choose one on the order page first.")
            % {"order": _name(order)}
        )
    expected = list(
        Reservation.objects.filter(reference=order.reference)
        .values("stock_level__sku_id")
        .annotate(units=Sum("quantity"))
        .order_by("stock_level__sku_id")
    )
    if not expected:
        raise PackError(_("Nothing is reserved for order %(order)s.") % {"order": _name(order)})
    wave_id = (
        PickWaveOrder.objects.filter(order=order, active=True)
        .values_list("wave_id", flat=True)
        .first()
    )
    session = PackSession.objects.create(
        order=order,
        warehouse_id=order.warehouse_id,
        wave_id=wave_id,
        packer=user,
        shipment=shipment,
    )
    PackLine.objects.bulk_create(
        PackLine(session=session, sku_id=row["stock_level__sku_id"], expected=row["units"])
        for row in expected
    )
    return session


# ---------------------------------------------------------------------------- scan


def _open_for(session: PackSession, user: User) -> PackSession:
    session = PackSession.objects.select_related("order", "packer").get(pk=session.pk)
    if session.status == PackSession.Status.CONFIRMED:
        raise PackBusy(
            _("Order %(order)s was packed and shipped at %(time)s.")
            % {
                "order": _name(session.order),
                "time": time_format(timezone.localtime(session.confirmed_at)),
            }
        )
    if session.status != PackSession.Status.OPEN:
        raise PackError(
            _("Order %(order)s was set aside: scan it again to start over.")
            % {"order": _name(session.order)}
        )
    if session.packer_id != user.pk:
        raise PackBusy(
            _("Order %(order)s is being packed by %(packer)s.")
            % {"order": _name(session.order), "packer": session.packer or _("someone")}
        )
    return session


def _mistake(session: PackSession) -> None:
    PackSession.objects.filter(pk=session.pk).update(mistakes=F("mistakes") + 1)


def _sku_label(sku: Sku) -> str:
    return f"{sku.code} {sku.name_zh or sku.name}".strip()


def pack_scan(*, session: PackSession, code: str, user: User) -> ScanResult:
    """One unit scanned into the parcel. Refused, naming the SKU and the order, when no SKU
    has the barcode, the SKU is not in the order, or all its units are in already."""
    session = _open_for(session, user)
    code = code.strip()
    if not code:
        raise PackError(_("Scan an item's barcode."))
    order = _name(session.order)
    sku = find_sku(code)
    if sku is None:
        _mistake(session)
        raise WrongItem(
            _("Unknown barcode %(code)s: no SKU has it. Put the item aside.") % {"code": code}
        )
    line = PackLine.objects.filter(session=session, sku=sku).first()
    if line is None:
        _mistake(session)
        raise WrongItem(
            _("Wrong item: %(sku)s is not in order %(order)s. Put it back.")
            % {"sku": _sku_label(sku), "order": order}
        )
    counted = PackLine.objects.filter(pk=line.pk, scanned__lt=F("expected")).update(
        scanned=F("scanned") + 1
    )
    if not counted:
        _mistake(session)
        raise ExtraUnit(
            _("One too many: order %(order)s needs %(expected)d × %(sku)s, all scanned already.")
            % {"order": order, "expected": line.expected, "sku": _sku_label(sku)}
        )
    now = timezone.now()
    PackSession.objects.filter(pk=session.pk).update(updated_at=now)
    session.updated_at = now
    line.refresh_from_db(fields=["scanned"])
    line.sku = sku
    complete = not PackLine.objects.filter(session=session, scanned__lt=F("expected")).exists()
    return ScanResult(session=session, sku=sku, line=line, complete=complete)


@transaction.atomic
def pack_set_aside(*, session: PackSession, user: User) -> PackSession:
    """Put the parcel aside: its scans are dropped and the order can be scanned in again."""
    session = PackSession.objects.select_for_update().select_related("order").get(pk=session.pk)
    if session.status != PackSession.Status.OPEN:
        raise PackError(_("That parcel is not being packed."))
    session.status = PackSession.Status.ABANDONED
    session.updated_at = timezone.now()
    session.save(update_fields=["status", "updated_at"])
    return session


# ---------------------------------------------------------------------------- confirm


def _check_weight(weight_g: int | None) -> None:
    if weight_g is None:
        return
    if (
        isinstance(weight_g, bool)
        or not isinstance(weight_g, int)
        or not (1 <= weight_g <= MAX_WEIGHT_G)
    ):
        raise PackError(
            _("Enter the weight in grams, 1 to %(max)s.") % {"max": f"{MAX_WEIGHT_G:,}"}
        )


def _ready_shipment(session: PackSession, user: User, weight_g: int | None) -> Shipment:
    """The parcel's labelled shipment: created now (by the order's channel) when there is
    none, its waybill bought when it is pending. Outside any transaction: carrier calls."""
    order = session.order
    shipment = live_shipment(order.pk)
    if shipment is None:
        created = shipments_create(
            order_ids=[order.pk], user=user, weights={order.pk: weight_g} if weight_g else None
        )
        shipment = created.created[0] if created.created else live_shipment(order.pk)
        if shipment is None:
            raise PackError(
                _("No label for order %(order)s: %(reason)s")
                % {"order": _name(order), "reason": created.failed.get(order.pk, "")}
            )
    if shipment.status == ShipmentStatus.PENDING:
        try:
            shipment = shipment_buy_waybill(shipment.pk, user=user)
        except ShipmentError as exc:
            raise PackError(
                _("The label of order %(order)s could not be bought: %(error)s")
                % {"order": _name(order), "error": exc}
            ) from exc
    if shipment.status == ShipmentStatus.SHIPPED:
        raise PackBusy(_("Order %(order)s has shipped already.") % {"order": _name(order)})
    if shipment.status != ShipmentStatus.LABELLED:
        raise PackError(
            _("The parcel of order %(order)s has no tracking number yet.") % {"order": _name(order)}
        )
    return shipment


def pack_confirm(*, session: PackSession, user: User, weight_g: int | None = None) -> PackResult:
    """Every unit is in: the parcel ships. Its stock is consumed (ledger moves at the average
    cost), the order and shipment become shipped, and the platform confirmation is queued.
    ``weight_g`` is what the scale said; without it the shipment keeps its estimate.

    The usual parcel (its label bought) ships in one transaction that checks everything
    under the locks. One without a label yet gets it first, outside any transaction (a
    carrier call), then ships the same way."""
    _check_weight(weight_g)
    try:
        session, shipment = _ship_retrying(session.pk, user, weight_g)
    except _NeedsLabel:
        _ready_shipment(_open_for(session, user), user, weight_g)
        session, shipment = _ship_retrying(session.pk, user, weight_g)
    return PackResult(
        session=session, shipment=shipment, label_needed=label_needed(session, shipment)
    )


# A burst of parcels queues the platform confirmations once per process per this many seconds.
class _NeedsLabel(Exception):
    """The parcel has no labelled shipment yet (nothing was written)."""


# Only what confirming reads: the order row is wide, and each column costs on every parcel.
_SESSION_FIELDS = (
    "id",
    "status",
    "packer_id",
    "wave_id",
    "order_id",
    "shipment_id",
    "confirmed_at",
    "label_printed_at",
    "order__id",
    "order__external_id",
    "order__platform_reference",
    "wave__id",
    "wave__labels_printed_at",
    "packer__id",
    "packer__username",
    "packer__display_name",
)
_SHIPMENT_FIELDS = (
    "id",
    "order_id",
    "channel_id",
    "status",
    "tracking_number",
    "reference",
    "weight_g",
    "labelled_at",
    "shipped_at",
    "platform_confirmed_at",
    "platform_next_attempt_at",
    "channel__id",
    "channel__carrier_id",
    "channel__carrier__id",
    "channel__carrier__name",
)
# The rows of ``_parcel_query``, parents first: (path from the session, model, how it is read).
# Joined ones by an alias: the two locked rows, and the order (as cheap to join as to look
# up). The others by scalar subqueries on the parent's foreign key: each is planned alone,
# where seven joined tables cost PostgreSQL ~1.3 ms of planning per parcel (join search),
# more than all the rest of the confirmation. The packer is read only on an error path: it
# is left to load then.
_PARCEL_PARTS = (
    ("", PackSession, "s"),
    ("order", Order, "o"),
    ("wave", PickWave, None),
    ("shipment", Shipment, "sh"),
    ("shipment__channel", ShippingChannel, None),
    ("shipment__channel__carrier", Carrier, None),
)


@dataclass(frozen=True)
class _ParcelQuery:
    sql: str
    # per part: (path, model, attnames, position of the pk among them)
    parts: tuple[tuple[str, type[models.Model], list[str], int], ...]
    # (column position, converters, column expression), as the ORM's compiler applies them
    converters: tuple[tuple[int, list, models.Expression], ...]


@cache
def _parcel_query() -> _ParcelQuery:
    """``_locked_parcel``'s statement, built once per process from ``_SESSION_FIELDS`` and
    ``_SHIPMENT_FIELDS`` (what the ORM query of ``_ship``'s fallback loads), see
    ``_PARCEL_PARTS``.

    The ORM built that query (six joins, deferred fields, the EXISTS annotation) anew for
    every parcel: ~6 ms of Python (measured on the busy 2-CPU bench machine), more than the
    whole confirmation costs PostgreSQL. The SQL text is quoted model identifiers only; values go
    as parameters: the session id, the labelled status. The ORM's converters of each column
    are applied as its compiler would (SQLite returns naive datetimes without them)."""
    qn = connection.ops.quote_name
    wanted: dict[str, set[str]] = {path: set() for path, _model, _alias in _PARCEL_PARTS}
    for name in (*_SESSION_FIELDS, *(f"shipment__{f}" for f in _SHIPMENT_FIELDS)):
        path, _sep, field = name.rpartition("__")
        if path in wanted:
            wanted[path].add(field)
    parts_by_path = {path: (model, alias) for path, model, alias in _PARCEL_PARTS}

    def value_of(path: str, field: models.Field) -> str:
        """The SQL expression of ``field`` of the part at ``path``."""
        model, alias = parts_by_path[path]
        if alias is not None:
            return f"{alias}.{qn(field.column)}"
        parent, _sep, name = path.rpartition("__")
        key = value_of(parent, parts_by_path[parent][0]._meta.get_field(name))
        if field.primary_key:
            return key
        return (
            f"(SELECT x.{qn(field.column)} FROM {qn(model._meta.db_table)} x "  # noqa: S608
            f"WHERE x.{qn(model._meta.pk.column)} = {key})"
        )

    columns, parts, converters = [], [], []
    for path, model, _alias in _PARCEL_PARTS:
        fields = [
            f for f in model._meta.concrete_fields if {f.name, f.attname} & wanted[path]
        ]  # _meta order, as from_db wants the values
        for field in fields:
            col = field.get_col("x")
            convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if convs:
                converters.append((len(columns), convs, col))
            columns.append(value_of(path, field))
        pk = [f.attname for f in fields].index(model._meta.pk.attname)
        parts.append((path, model, [f.attname for f in fields], pk))

    def table(model) -> str:
        return qn(model._meta.db_table)

    def col(model, name: str) -> str:
        return qn(model._meta.get_field(name).column)

    lock = " FOR UPDATE OF s, sh" if connection.features.has_select_for_update_of else ""
    sql = f"""SELECT {", ".join(columns)}, EXISTS (
    SELECT 1 FROM {table(PackLine)} pl
    WHERE pl.{col(PackLine, "session")} = s.{col(PackSession, "id")}
      AND pl.{col(PackLine, "scanned")} < pl.{col(PackLine, "expected")}
)
FROM {table(PackSession)} s
JOIN {table(Shipment)} sh ON sh.{col(Shipment, "id")} = s.{col(PackSession, "shipment")}
JOIN {table(Order)} o ON o.{col(Order, "id")} = s.{col(PackSession, "order")}
WHERE s.{col(PackSession, "id")} = %s AND sh.{col(Shipment, "status")} = %s{lock}"""  # noqa: S608
    return _ParcelQuery(sql=sql, parts=tuple(parts), converters=tuple(converters))


# ``_parcel_query`` and ``_confirmed_sql`` prepared once per PostgreSQL session
# (erp/prepared.py): planning them on every parcel cost the server more than running them.
_PARCEL = Prepared(
    "pack_parcel",
    lambda: (
        numbered(_parcel_query().sql),
        [column_type(PackSession, "id"), column_type(Shipment, "status")],
    ),
)


def _confirmed_statement(index: int) -> Prepared:
    model, names = _CONFIRMED_FIELDS[index]
    return Prepared(
        f"pack_confirmed_{model._meta.model_name}",
        lambda: (
            numbered(_confirmed_sql()[index]),
            [*(column_type(model, name) for name in names), column_type(model, "id")],
        ),
    )


def _locked_parcel(session_id: int) -> PackSession | None:
    """The session with its labelled shipment, both rows locked (in one statement), with what
    confirming reads: the session's order and wave, the shipment's channel and carrier, and
    ``incomplete`` (a line not fully scanned). None when the session's own shipment is not
    labelled (or there is no such session): nothing is locked then. The same rows and fields
    as the ORM query ``_ship`` falls back to, but the packer's (loaded when read)."""
    query = _parcel_query()
    sql = query.sql
    if connection.vendor == "postgresql":
        ensure_prepared(_PARCEL)
        sql = _PARCEL.execute_sql
    with connection.cursor() as cursor:
        prepared.execute(cursor, sql, [session_id, ShipmentStatus.LABELLED.value])
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    for position, convs, col in query.converters:
        for converter in convs:
            row[position] = converter(row[position], col, connection)
    db = connection.alias
    objects: dict[str, models.Model | None] = {}
    start = 0
    for path, model, attnames, pk in query.parts:
        values = row[start : start + len(attnames)]
        start += len(attnames)
        objects[path] = None if values[pk] is None else model.from_db(db, attnames, values)
        if path:
            parent, _sep, name = path.rpartition("__")
            setattr(objects[parent], name, objects[path])
    session = objects[""]
    session.incomplete = bool(row[start])
    return session


def _ship_retrying(
    session_id: int, user: User, weight_g: int | None
) -> tuple[PackSession, Shipment]:
    """``_ship``, once more when the session lost a prepared statement (its transaction was
    rolled back whole: nothing was written); the second try prepares again."""
    try:
        return _ship(session_id, user, weight_g)
    except DatabaseError as exc:
        if not forget_if_lost(exc):
            raise
    return _ship(session_id, user, weight_g)


@transaction.atomic
def _ship(session_id: int, user: User, weight_g: int | None) -> tuple[PackSession, Shipment]:
    # Lock order: session, shipment, then the order and its stock (order_ship_one). Usually
    # the session's own shipment is labelled: both rows are locked in one statement (an inner
    # join, _locked_parcel). Otherwise (no label yet, or voided and bought again) the session
    # is locked first and the live shipment looked up after it.
    session = _locked_parcel(session_id)
    shipment = session.shipment if session is not None else None
    if session is None:
        incomplete = PackLine.objects.filter(session=OuterRef("pk"), scanned__lt=F("expected"))
        session = (
            PackSession.objects.annotate(incomplete=Exists(incomplete))
            .select_for_update(of=("self",))
            .select_related("order", "wave", "packer")
            .only(*_SESSION_FIELDS)
            .get(pk=session_id)
        )
    name = _name(session.order)
    if session.status == PackSession.Status.CONFIRMED:
        raise PackBusy(
            _("Order %(order)s was packed and shipped at %(time)s.")
            % {"order": name, "time": time_format(timezone.localtime(session.confirmed_at))}
        )
    if session.status != PackSession.Status.OPEN:
        raise PackError(
            _("Order %(order)s was set aside: scan it again to start over.") % {"order": name}
        )
    if session.packer_id != user.pk:
        raise PackBusy(
            _("Order %(order)s is being packed by %(packer)s.")
            % {"order": name, "packer": session.packer or _("someone")}
        )
    if session.incomplete:
        remaining = (
            PackLine.objects.filter(session_id=session.pk, scanned__lt=F("expected"))
            .select_related("sku")
            .only("expected", "scanned", "sku__code", "sku__name", "sku__name_zh")
            .order_by("pk")
        )
        raise PackIncomplete(
            _("Scan every unit first; still missing: %(items)s")
            % {
                "items": ", ".join(
                    f"{line.expected - line.scanned} × {_sku_label(line.sku)}" for line in remaining
                )
            }
        )
    if shipment is None:
        shipment = (
            Shipment.objects.select_for_update(of=("self",))
            .select_related("channel__carrier")
            .only(*_SHIPMENT_FIELDS)
            .filter(order_id=session.order_id)
            .exclude(status=ShipmentStatus.VOIDED)
            .order_by("-pk")
            .first()
        )
    if shipment is None or shipment.status == ShipmentStatus.PENDING:
        raise _NeedsLabel
    if shipment.status != ShipmentStatus.LABELLED:
        raise PackBusy(
            _("The parcel of order %(order)s is %(status)s.")
            % {"order": name, "status": ShipmentStatus(shipment.status).label.lower()}
        )
    weight = weight_g or shipment.weight_g
    try:
        order_ship_one(
            order_id=shipment.order_id,
            user=user,
            message=_("Packed at the pack station (%(weight)s g), %(carrier)s %(number)s.")
            % {
                "weight": weight,
                "carrier": shipment.channel.carrier.name,
                "number": shipment.tracking_number,
            },
        )
    except OrderError as exc:
        raise PackError(
            _("Order %(order)s could not ship: %(reason)s") % {"order": name, "reason": exc}
        ) from exc
    now = timezone.now()
    shipment.status = ShipmentStatus.SHIPPED
    shipment.shipped_at = now
    shipment.weight_g = weight
    if not shipment.platform_confirmed_at:
        shipment.platform_next_attempt_at = now
    session.status = PackSession.Status.CONFIRMED
    session.confirmed_at = session.updated_at = now
    session.weight_g = weight
    session.shipment = shipment
    _save_confirmed(session, shipment)
    transaction.on_commit(queue_confirmations)
    if session.wave_id:
        transaction.on_commit(partial(wave_close_if_done, session.wave_id))
    return session, shipment


# What confirming changes: saved by _save_confirmed, as save(update_fields=...) would.
_CONFIRMED_FIELDS = (
    (Shipment, ("status", "shipped_at", "weight_g", "platform_next_attempt_at")),
    (PackSession, ("status", "confirmed_at", "updated_at", "weight_g", "shipment")),
)


@cache
def _confirmed_sql() -> tuple[str, ...]:
    """One ``UPDATE ... WHERE id = %s`` per model of ``_CONFIRMED_FIELDS``, from the models'
    tables and columns (values go as parameters)."""
    qn = connection.ops.quote_name
    return tuple(
        f"UPDATE {qn(model._meta.db_table)} SET "  # noqa: S608
        + ", ".join(f"{qn(model._meta.get_field(name).column)} = %s" for name in names)
        + f" WHERE {qn(model._meta.pk.column)} = %s"
        for model, names in _CONFIRMED_FIELDS
    )


_CONFIRMED = tuple(_confirmed_statement(i) for i in range(len(_CONFIRMED_FIELDS)))


def _save_confirmed(session: PackSession, shipment: Shipment) -> None:
    """``save(update_fields=...)`` of the shipment and the session, in one round trip on
    PostgreSQL: the two ORM saves cost ~1 ms of Python per parcel (building the UPDATEs), the
    database a fraction of that. Values are adapted by their fields, as the ORM does."""
    writes = []
    for sql, (model, names), obj in zip(
        _confirmed_sql(), _CONFIRMED_FIELDS, (shipment, session), strict=True
    ):
        fields = [model._meta.get_field(name) for name in names]
        params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
        writes.append((sql, [*params, obj.pk]))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ensure_prepared(*_CONFIRMED)
            prepared.execute(
                cursor,
                "; ".join(statement.execute_sql for statement in _CONFIRMED),
                [p for _s, ps in writes for p in ps],
            )
        else:
            for sql, params in writes:
                cursor.execute(sql, params)


def label_needed(session: PackSession, shipment: Shipment) -> bool:
    """Whether the station should print the label: not when the station printed it already,
    nor when the wave's labels were printed after this one was bought."""
    if session.label_printed_at:
        return False
    wave = session.wave if session.wave_id else None
    return not (
        wave is not None
        and wave.labels_printed_at
        and shipment.labelled_at
        and wave.labels_printed_at >= shipment.labelled_at
    )


def pack_label_pdf(*, session: PackSession) -> bytes:
    """The parcel's label as a PDF (the carrier's, or ours); remembered as printed."""
    shipment_id = session.shipment_id or getattr(live_shipment(session.order_id), "pk", None)
    if shipment_id is None:
        raise PackError(_("That parcel has no label yet."))
    buffer = io.BytesIO()
    try:
        write_labels_pdf([shipment_id], buffer)
    except ShipmentError as exc:
        raise PackError(str(exc)) from exc
    PackSession.objects.filter(pk=session.pk).update(label_printed_at=timezone.now())
    return buffer.getvalue()


# ---------------------------------------------------------------------------- single items


def single_item_orders(
    *, user: User, sku: Sku, wave: PickWave | None = None, warehouse: Warehouse | None = None
) -> QuerySet[Order]:
    """One-unit orders needing exactly ``sku`` that nobody is packing, oldest first: those of
    ``wave``, or else the labelled ones of ``warehouse``."""
    orders = visible_orders(user).filter(status__in=PACKABLE)
    if wave is not None:
        orders = orders.filter(
            pk__in=PickWaveOrder.objects.filter(wave=wave, active=True).values("order_id")
        )
    elif warehouse is not None:
        orders = orders.filter(warehouse=warehouse, status=OrderStatus.LABELLED)
    else:
        raise PackError(_("Choose a wave or a warehouse for single items."))
    reference = Concat(Value("order:"), Cast(OuterRef("pk"), output_field=models.CharField()))
    return (
        orders.annotate(units=order_units())
        .filter(units=1)
        .filter(Exists(Reservation.objects.filter(reference=reference, stock_level__sku=sku)))
        .exclude(
            Exists(PackSession.objects.filter(order=OuterRef("pk"), status=PackSession.Status.OPEN))
        )
        .order_by("purchased_at", "pk")
    )


def pack_quick(
    *,
    code: str,
    user: User,
    wave: PickWave | None = None,
    warehouse: Warehouse | None = None,
    weight_g: int | None = None,
) -> PackResult:
    """Scan an item, ship the oldest one-unit order that needs it (see
    ``single_item_orders``); the result names the shipment whose label to print."""
    _check_weight(weight_g)
    sku = find_sku(code)
    if sku is None:
        raise PackNotFound(_("Unknown barcode %(code)s: no SKU has it.") % {"code": code.strip()})
    session = None
    for _attempt in range(5):  # a parallel packer may win the same order: take the next
        try:
            session = _claim_single(user, sku, wave, warehouse)
            break
        except (IntegrityError, _Taken):
            continue
    if session is None:
        raise PackBusy(_("Other packers keep taking these orders; scan again."))
    try:
        return pack_confirm(session=session, user=user, weight_g=weight_g)
    except PackError:
        PackSession.objects.filter(pk=session.pk, status=PackSession.Status.OPEN).update(
            status=PackSession.Status.ABANDONED
        )
        raise


@transaction.atomic
def _claim_single(
    user: User, sku: Sku, wave: PickWave | None, warehouse: Warehouse | None
) -> PackSession:
    order = (
        single_item_orders(user=user, sku=sku, wave=wave, warehouse=warehouse)
        .select_for_update(of=("self",), skip_locked=True)
        .first()
    )
    if order is None:
        where = (
            _("wave %(number)s") % {"number": wave.number}
            if wave is not None
            else _("the labelled orders of %(warehouse)s") % {"warehouse": warehouse.code}
        )
        raise PackNotFound(
            _("No single-item order in %(where)s is waiting for %(sku)s.")
            % {"where": where, "sku": _sku_label(sku)}
        )
    try:
        session = _session_for_locked(order, user)
    except PackBusy as exc:  # claimed or shipped since the query's snapshot: the next one
        raise _Taken from exc
    PackLine.objects.filter(session=session).update(scanned=F("expected"))
    return session
