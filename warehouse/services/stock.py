"""Every write to stock: receive, adjust, move between bins, reserve, release, consume.

One recipe throughout (STYLE.md §7): each service is one transaction; rows are locked with
``select_for_update`` in a fixed order (SKU rows by pk, then stock levels by pk) through
``_lock_skus`` / ``_lock_levels``; counters change with ``F()`` expressions while their rows are
locked; every change of ``on_hand`` writes a ``StockMove`` in the same transaction, so
``on_hand = Σ moves`` per (sku, location) always holds. On SQLite the IMMEDIATE transaction
mode serialises writers instead, and the same code is correct there.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from erp import prepared
from erp.errors import ServiceError
from erp.models import User
from erp.prepared import Prepared, column_type, ensure_prepared, numbered
from warehouse.models import (
    RESERVABLE_LEVELS,
    BundleItem,
    Location,
    Reservation,
    Sku,
    StockLevel,
    StockMove,
    Warehouse,
)
from warehouse.signals import stock_available

COST_QUANTUM = Decimal("0.0001")


class StockError(ServiceError):
    """A stock operation that cannot be done as asked; the message is for the user."""

    code = "stock_error"


@dataclass(frozen=True)
class Shortage:
    sku_code: str
    requested: int
    available: int
    where: str

    @property
    def missing(self) -> int:
        return self.requested - self.available


class InsufficientStock(StockError):
    """Raised once for an operation, listing every line that is short (not just the first)."""

    code = "insufficient_stock"
    http_status = 409

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "shortages": [
                {
                    "sku": s.sku_code,
                    "where": s.where,
                    "requested": s.requested,
                    "available": s.available,
                }
                for s in self.shortages
            ],
        }

    def __init__(self, shortages: Sequence[Shortage]):
        self.shortages = list(shortages)
        lines = "; ".join(
            _("%(sku)s at %(where)s: requested %(requested)d, available %(available)d")
            % {
                "sku": s.sku_code,
                "where": s.where,
                "requested": s.requested,
                "available": s.available,
            }
            for s in self.shortages
        )
        super().__init__(_("Insufficient stock: %(lines)s") % {"lines": lines})


@dataclass(frozen=True)
class StockLine:
    """One requested quantity of one SKU (a bundle is expanded into its parts)."""

    sku: Sku
    quantity: int


@dataclass
class ReservationResult:
    reference: str
    reservations: list[Reservation] = field(default_factory=list)

    @property
    def quantity(self) -> int:
        return sum(r.quantity for r in self.reservations)


def _lock_skus(sku_ids: Iterable[int]) -> dict[int, Sku]:
    ids = sorted(set(sku_ids))
    return {s.pk: s for s in Sku.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _lock_levels(queryset) -> list[StockLevel]:
    """Lock stock levels in pk order, the one order every service uses, so none deadlock."""
    return list(queryset.select_for_update(of=("self",)).order_by("pk"))


def _ensure_level(*, sku: Sku, location: Location) -> None:
    """Create the (sku, location) level if missing, without locking anything that exists."""
    if StockLevel.objects.filter(sku=sku, location=location).exists():
        return
    try:
        with transaction.atomic():
            StockLevel.objects.create(sku=sku, location=location)
    except IntegrityError:
        return  # another transaction created it first; callers lock it next


def _level_for(*, sku: Sku, location: Location) -> StockLevel:
    """Return the locked level of (sku, location), creating it when it does not exist yet."""
    _ensure_level(sku=sku, location=location)
    return _lock_levels(StockLevel.objects.filter(sku=sku, location=location))[0]


def _check_quantity(quantity: int, *, allow_negative: bool = False) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise StockError(_("Quantity must be a whole number."))
    if quantity == 0 or (quantity < 0 and not allow_negative):
        raise StockError(
            _("Quantity must not be zero.")
            if quantity == 0
            else _("Quantity must be greater than zero.")
        )


def _check_stockable(sku: Sku) -> None:
    if sku.is_bundle:
        raise StockError(
            _("%(sku)s is a bundle: it holds no stock of its own; use its parts.")
            % {"sku": sku.code}
        )


def _write_move(
    *,
    level: StockLevel,
    quantity: int,
    kind: str,
    unit_cost: Decimal,
    reference: str,
    note: str,
    user: User | None,
) -> StockMove:
    """Change on_hand of a locked level and write its ledger entry in the same transaction."""
    balance_after = level.on_hand + quantity
    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + quantity)
    if quantity > 0 and _is_reservable_bin(level.location_id):
        _announce_available({level.sku_id})
    level.on_hand = balance_after
    return StockMove.objects.create(
        sku_id=level.sku_id,
        location_id=level.location_id,
        quantity=quantity,
        balance_after=balance_after,
        kind=kind,
        unit_cost=unit_cost,
        reference=reference,
        note=note,
        user=user,
        at=timezone.now(),
    )


def _is_reservable_bin(location_id: int) -> bool:
    """Units put into receiving or quarantine bins are on hand but not for sale: nobody
    waiting for stock should hear about them."""
    return Location.objects.filter(
        pk=location_id, kind=Location.Kind.STORAGE, is_active=True
    ).exists()


def _announce_available(sku_ids: set[int]) -> None:
    """Tell listeners, once the transaction commits, that these SKUs have free units."""
    transaction.on_commit(
        lambda: stock_available.send(sender=StockLevel, sku_ids=frozenset(sku_ids))
    )


def _total_on_hand(sku_id: int) -> int:
    return StockLevel.objects.filter(sku_id=sku_id).aggregate(total=Sum("on_hand"))["total"] or 0


@transaction.atomic
def stock_receive(
    *,
    sku: Sku,
    location: Location,
    quantity: int,
    unit_cost: Decimal,
    reference: str = "",
    note: str = "",
    user: User | None = None,
    kind: str = StockMove.Kind.RECEIPT,
) -> StockMove:
    """Put received units into a bin at ``unit_cost`` (base currency, landed).

    The SKU's moving-average cost becomes (old on hand × old average + quantity × unit cost)
    / (old on hand + quantity) across all its bins.
    """
    _check_quantity(quantity)
    _check_stockable(sku)
    unit_cost = Decimal(unit_cost)
    if unit_cost < 0:
        raise StockError(_("Unit cost must not be negative."))
    locked_sku = _lock_skus([sku.pk])[sku.pk]
    level = _level_for(sku=locked_sku, location=location)
    before = _total_on_hand(locked_sku.pk)
    if before <= 0:
        new_avg = unit_cost
    else:
        new_avg = (before * locked_sku.avg_cost + quantity * unit_cost) / (before + quantity)
    new_avg = new_avg.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
    Sku.objects.filter(pk=locked_sku.pk).update(avg_cost=new_avg)
    sku.avg_cost = new_avg
    return _write_move(
        level=level,
        quantity=quantity,
        kind=kind,
        unit_cost=unit_cost,
        reference=reference,
        note=note,
        user=user,
    )


@transaction.atomic
def stock_adjust(
    *,
    sku: Sku,
    location: Location,
    quantity: int,
    reason: str,
    reference: str = "",
    user: User | None = None,
    kind: str = StockMove.Kind.ADJUSTMENT,
) -> StockMove:
    """Correct a bin's count by ``quantity`` (±) at the current average cost.

    A decrease may not take away reserved units: those belong to orders.
    """
    _check_quantity(quantity, allow_negative=True)
    _check_stockable(sku)
    if not reason.strip():
        raise StockError(_("An adjustment needs a reason."))
    locked_sku = _lock_skus([sku.pk])[sku.pk]
    level = _level_for(sku=locked_sku, location=location)
    if quantity < 0 and level.available < -quantity:
        raise InsufficientStock(
            [Shortage(locked_sku.code, -quantity, level.available, str(location))]
        )
    return _write_move(
        level=level,
        quantity=quantity,
        kind=kind,
        unit_cost=locked_sku.avg_cost,
        reference=reference,
        note=reason,
        user=user,
    )


@transaction.atomic
def stock_move(
    *,
    sku: Sku,
    from_location: Location,
    to_location: Location,
    quantity: int,
    reference: str = "",
    note: str = "",
    user: User | None = None,
) -> tuple[StockMove, StockMove]:
    """Move available units from one bin to another bin of the same warehouse."""
    _check_quantity(quantity)
    _check_stockable(sku)
    if from_location.pk == to_location.pk:
        raise StockError(_("The source and destination bins are the same."))
    if from_location.warehouse_id != to_location.warehouse_id:
        raise StockError(
            _("Bins %(a)s and %(b)s are in different warehouses; use a transfer.")
            % {"a": from_location, "b": to_location}
        )
    locked_sku = _lock_skus([sku.pk])[sku.pk]
    # Create the destination level without locking it, then lock both levels in pk order.
    _ensure_level(sku=locked_sku, location=to_location)
    levels = {
        lv.location_id: lv
        for lv in _lock_levels(
            StockLevel.objects.filter(sku=locked_sku, location__in=[from_location, to_location])
        )
    }
    source = levels.get(from_location.pk)
    available = source.available if source else 0
    if available < quantity:
        raise InsufficientStock(
            [Shortage(locked_sku.code, quantity, available, str(from_location))]
        )
    common = {
        "kind": StockMove.Kind.RELOCATION,
        "unit_cost": locked_sku.avg_cost,
        "reference": reference,
        "note": note,
        "user": user,
    }
    out = _write_move(level=source, quantity=-quantity, **common)
    into = _write_move(level=levels[to_location.pk], quantity=quantity, **common)
    return out, into


def bundle_parts(bundle_ids: Iterable[int]) -> dict[int, list[BundleItem]]:
    """The parts of these bundles (with their component SKUs), in one query."""
    parts: dict[int, list[BundleItem]] = defaultdict(list)
    bundle_ids = list(bundle_ids)
    if bundle_ids:
        items = BundleItem.objects.filter(bundle_id__in=bundle_ids).order_by("pk")
        for item in items.select_related("component"):
            parts[item.bundle_id].append(item)
    return parts


def expand_bundles(
    lines: Iterable[StockLine], parts: dict[int, list[BundleItem]] | None = None
) -> list[StockLine]:
    """Replace each bundle by its parts and merge repeated SKUs, keeping first-seen order.
    ``parts`` (from ``bundle_parts``) saves the query when many requests are expanded."""
    lines = list(lines)
    if parts is None:
        parts = bundle_parts(line.sku.pk for line in lines if line.sku.is_bundle)
    merged: dict[int, list] = {}
    for line in lines:
        if line.sku.is_bundle:
            if not parts.get(line.sku.pk):
                raise StockError(_("Bundle %(sku)s has no parts.") % {"sku": line.sku.code})
            expanded = [(p.component, p.quantity * line.quantity) for p in parts[line.sku.pk]]
        else:
            expanded = [(line.sku, line.quantity)]
        for sku, qty in expanded:
            merged.setdefault(sku.pk, [sku, 0])[1] += qty
    return [StockLine(sku=sku, quantity=qty) for sku, qty in merged.values()]


def stock_reserve(
    *, warehouse: Warehouse, lines: Sequence[StockLine], reference: str
) -> ReservationResult:
    """Reserve every line in ``warehouse`` or nothing at all.

    Units come from storage bins in pick-sequence order. When any line is short, one
    ``InsufficientStock`` names every short line and nothing is reserved.

    PostgreSQL has its own path, ``_reserve_in_one_statement``: the whole reservation (lock,
    allocate, check, write) is one SQL statement, so a call is BEGIN, one statement, COMMIT.
    Reserving is the hottest write of the system, and the ORM path measured ~1.8 ms of Python
    (query building) + 0.6 ms in the database over 6 round trips per call, 10-15 % of the raw
    conditional-UPDATE rate of ``bench/bench_reserve.py`` (goal: >= 50 %). SQLite (the
    embedded mode) keeps the ORM path, ``_reserve_with_orm``. The one statement measured 21-42 %
    of the raw rate (1,000 SKUs spread / one hot SKU): its own execution takes ~1 ms. So a
    single wanted line first tries ``_reserve_fast`` (all of it from the first bin with free
    units, one short statement) and falls back to the general statement. With it, one hot SKU
    met the goal (51.5-57.8 %) but 1,000 SKUs spread did not (30.6-32.7 %): on the 2-CPU bench
    machine that case is CPU-bound, and per call the service spent ~515 µs of client CPU +
    ~720 µs in its backend against the raw client's ~240 + ~250 µs. Most of the backend's
    share was parsing and planning the statement on every call (Django binds values client
    side, so nothing is ever prepared), so ``_reserve_fast`` now runs a statement prepared
    once per session, and the Python around it got lighter (results built as
    ``select_related`` builds them, after the COMMIT so a hot level's lock is not held
    meanwhile; no bundle bookkeeping for one plain line). Per call, in one process, old code,
    new code and raw alternating under the same load (client + backend CPU): old 730 + 1,008
    µs, new 563 + 419 µs, raw 285 + 307 µs. In the bench (alternating the three in the same
    rounds, the machine shared with other work): 1,000 SKUs spread 56-64 % of the raw rate
    (old code 38-43 %), one hot SKU 60-75 % (old 47-55 %); ``bench/bench_reserve.py`` prints
    each side's CPU per reservation. Both paths are held to the same
    tests (``tests/warehouse``: the services tests, the stateful test comparing exact results
    with a model, and the race tests on PostgreSQL), so they must stay equivalent: same bins,
    same pick order, same shortages, same lock order (levels by pk).
    """
    if not reference:
        raise StockError(_("A reservation needs a reference."))
    for line in lines:
        _check_quantity(line.quantity)
    if len(lines) == 1 and not lines[0].sku.is_bundle:
        # what expand_bundles gives for one plain line, without its bookkeeping (hot path)
        wanted = [StockLine(sku=lines[0].sku, quantity=lines[0].quantity)]
    else:
        wanted = expand_bundles(lines)  # no query unless a line is a bundle
    with transaction.atomic():
        if connection.vendor != "postgresql":
            return _reserve_with_orm(warehouse=warehouse, wanted=wanted, reference=reference)
        row = None
        if len(wanted) == 1:
            row = _reserve_fast(warehouse=warehouse, line=wanted[0], reference=reference)
        if row is None:
            return _reserve_in_one_statement(
                warehouse=warehouse, wanted=wanted, reference=reference
            )
    # Built once the transaction is committed (or the savepoint released, in an outer block):
    # the level's row stays locked until the commit, and a hot SKU's next reservation waits
    # for it, so no Python runs between the statement and the COMMIT that does not have to.
    return ReservationResult(reference=reference, reservations=[_reservation_from_row(row)])


def _reserve_with_orm(
    *, warehouse: Warehouse, wanted: list[StockLine], reference: str
) -> ReservationResult:
    """``stock_reserve`` through the ORM (SQLite); runs inside its transaction."""
    levels = _lock_levels(
        StockLevel.objects.filter(
            RESERVABLE_LEVELS,
            sku_id__in=[line.sku.pk for line in wanted],
            location__warehouse=warehouse,
        ).select_related("location")  # locks only the levels (of=("self",))
    )
    # pick order within each SKU: bins by pick sequence, then code
    by_sku: dict[int, list[StockLevel]] = defaultdict(list)
    for level in sorted(levels, key=lambda lv: (lv.location.pick_sequence, lv.location.code)):
        by_sku[level.sku_id].append(level)

    plan: list[tuple[StockLevel, int]] = []
    shortages: list[Shortage] = []
    for line in wanted:
        available = sum(max(lv.available, 0) for lv in by_sku[line.sku.pk])
        if available < line.quantity:
            shortages.append(Shortage(line.sku.code, line.quantity, available, warehouse.code))
            continue
        remaining = line.quantity
        for level in by_sku[line.sku.pk]:
            take = min(level.available, remaining)
            if take > 0:
                plan.append((level, take))
                remaining -= take
            if remaining == 0:
                break
    if shortages:
        raise InsufficientStock(shortages)

    # Reservations of a level are only written while its row is locked (here), so reading the
    # existing ones under these locks cannot race; the unique constraint stays the backstop.
    existing = {
        r.stock_level_id: r
        for r in Reservation.objects.filter(
            reference=reference, stock_level_id__in=[level.pk for level, _take in plan]
        )
    }
    result = ReservationResult(reference=reference)
    new: list[Reservation] = []
    for level, take in plan:
        StockLevel.objects.filter(pk=level.pk).update(reserved=F("reserved") + take)
        level.reserved += take
        reservation = existing.get(level.pk)
        if reservation is None:
            reservation = Reservation(reference=reference, stock_level=level, quantity=take)
            new.append(reservation)
        else:
            Reservation.objects.filter(pk=reservation.pk).update(quantity=F("quantity") + take)
            reservation.quantity += take
        result.reservations.append(reservation)
    Reservation.objects.bulk_create(new)
    return result


def _columns(alias: str, model) -> str:
    """``alias."col", ...`` for every concrete field of ``model``, in ``_meta`` order."""
    qn = connection.ops.quote_name
    return ", ".join(f"{alias}.{qn(f.column)}" for f in model._meta.concrete_fields)


def _col(model, name: str) -> str:
    """The quoted column of a model field, for the hand-written reservation SQL."""
    return connection.ops.quote_name(model._meta.get_field(name).column)


@dataclass(frozen=True)
class _SqlNames:
    """Quoted tables and columns shared by the two reservation statements."""

    level_table: str
    location_table: str
    reservation_table: str
    level_id: str
    level_reserved: str
    level_on_hand: str
    level_location: str
    bin_id: str
    res_quantity: str
    res_level: str
    res_insert: str


def _sql_names() -> _SqlNames:
    qn = connection.ops.quote_name
    return _SqlNames(
        level_table=qn(StockLevel._meta.db_table),
        location_table=qn(Location._meta.db_table),
        reservation_table=qn(Reservation._meta.db_table),
        level_id=_col(StockLevel, "id"),
        level_reserved=_col(StockLevel, "reserved"),
        level_on_hand=_col(StockLevel, "on_hand"),
        level_location=_col(StockLevel, "location"),
        bin_id=_col(Location, "id"),
        res_quantity=_col(Reservation, "quantity"),
        res_level=_col(Reservation, "stock_level"),
        res_insert=", ".join(
            _col(Reservation, name)
            for name in ("stock_level", "reference", "quantity", "created_at")
        ),
    )


@cache
def _reserve_sql() -> str:
    """The one statement of ``_reserve_in_one_statement``.

    Parameters: the wanted lines' SKU ids and quantities (two arrays in line order), the SKU
    ids again, warehouse id, storage kind, reference, created_at. Its steps:

    - ``locked``: the candidate levels (SKUs wanted, in active storage bins of the warehouse)
      locked ``FOR UPDATE OF`` the level rows in pk order: a LockRows node above a Sort by id
      locks rows in the order the Sort emits them, the order every service locks levels in.
      The values read are those of the locked (latest) row versions;
    - ``levels``: per SKU, bins in pick order (pick sequence, then code compared as Python
      compares strings, ``COLLATE "C"``), each with its free units (on_hand - reserved, at
      least 0) and the free units of the bins before it;
    - ``totals``: the free units each wanted line can get (short: fewer than its quantity);
    - ``plan``: min(free, still wanted) from each bin with free units, in pick order, and
      nothing at all when any line is short;
    - ``updated`` / ``upserted``: reserved += take on the levels; one reservation per
      (reference, level), topped up when it exists. The level's new values are written as
      the locked values (on_hand, reserved + take), not ``reserved = reserved + take``: the
      UPDATE scans with the statement's snapshot, taken before the lock wait, and PostgreSQL
      checks CHECK constraints on the new row built from that stale version before it
      notices the concurrent update and re-evaluates on the latest one (EvalPlanQual); a
      release committed meanwhile then fails ``reserved <= on_hand`` spuriously. The locked
      values are the latest ones (the rows stay locked until commit), so both evaluations
      give the same, right row;
    - result: one row per planned bin (line order, then pick order) with the reservation,
      level and bin as written; one row with empty columns per line without bins (so every
      line when short), each row with its line's number and available units.
    """
    n = _sql_names()
    return f"""WITH wanted AS (
    SELECT w.sku_id, w.quantity, w.ord
    FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS w (sku_id, quantity, ord)
),
locked AS MATERIALIZED (
    SELECT sl.{n.level_id} AS level_id, sl.{_col(StockLevel, "sku")} AS sku_id,
           sl.{n.level_on_hand} AS on_hand, sl.{n.level_reserved} AS reserved,
           bin.{_col(Location, "pick_sequence")} AS pick_sequence,
           bin.{_col(Location, "code")} AS code
    FROM {n.level_table} sl
    JOIN {n.location_table} bin ON bin.{_col(Location, "id")} = sl.{_col(StockLevel, "location")}
    WHERE sl.{_col(StockLevel, "sku")} = ANY (%s::bigint[])
      AND bin.{_col(Location, "warehouse")} = %s
      AND bin.{_col(Location, "kind")} = %s
      AND bin.{_col(Location, "is_active")}
    ORDER BY sl.{n.level_id}
    FOR UPDATE OF sl
),
levels AS (
    SELECT k.level_id, k.on_hand, k.reserved, w.ord, w.quantity AS wanted, k.free, k.pick_rank,
           coalesce(sum(k.free) OVER (
               PARTITION BY k.sku_id ORDER BY k.pick_rank
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ), 0) AS free_before
    FROM (
        SELECT level_id, sku_id, on_hand, reserved, greatest(on_hand - reserved, 0) AS free,
               row_number() OVER (
                   PARTITION BY sku_id ORDER BY pick_sequence, code COLLATE "C"
               ) AS pick_rank
        FROM locked
    ) k
    JOIN wanted w ON w.sku_id = k.sku_id
),
totals AS (
    SELECT w.ord, w.quantity, coalesce(sum(l.free), 0) AS available
    FROM wanted w LEFT JOIN levels l ON l.ord = w.ord
    GROUP BY w.ord, w.quantity
),
plan AS (
    SELECT l.level_id, l.on_hand, l.reserved, l.ord, l.pick_rank,
           least(l.free, l.wanted - l.free_before) AS take
    FROM levels l
    WHERE l.free > 0 AND l.free_before < l.wanted
      AND NOT EXISTS (SELECT FROM totals t WHERE t.available < t.quantity)
),
updated AS (
    UPDATE {n.level_table} sl
    SET {n.level_on_hand} = p.on_hand, {n.level_reserved} = p.reserved + p.take
    FROM plan p WHERE sl.{n.level_id} = p.level_id
    RETURNING {_columns("sl", StockLevel)}
),
upserted AS (
    INSERT INTO {n.reservation_table} AS r ({n.res_insert})
    SELECT p.level_id, %s, p.take, %s FROM plan p ORDER BY p.level_id
    ON CONFLICT ({_col(Reservation, "reference")}, {n.res_level})
    DO UPDATE SET {n.res_quantity} = r.{n.res_quantity} + EXCLUDED.{n.res_quantity}
    RETURNING {_columns("r", Reservation)}
)
SELECT t.ord, t.available, {_columns("r", Reservation)}, {_columns("u", StockLevel)},
       {_columns("bin", Location)}
FROM totals t
LEFT JOIN plan p ON p.ord = t.ord
LEFT JOIN upserted r ON r.{n.res_level} = p.level_id
LEFT JOIN updated u ON u.{n.level_id} = p.level_id
LEFT JOIN {n.location_table} bin ON bin.{_col(Location, "id")} = u.{_col(StockLevel, "location")}
ORDER BY t.ord, p.pick_rank
"""


def _reserve_in_one_statement(
    *, warehouse: Warehouse, wanted: list[StockLine], reference: str
) -> ReservationResult:
    """``stock_reserve`` on PostgreSQL: one statement (``_reserve_sql``), same results as
    ``_reserve_with_orm``; runs inside the service's transaction."""
    sku_ids = [line.sku.pk for line in wanted]
    with connection.cursor() as cursor:
        cursor.execute(
            _reserve_sql(),
            [
                sku_ids,
                [line.quantity for line in wanted],
                sku_ids,
                warehouse.pk,
                Location.Kind.STORAGE,
                reference,
                timezone.now(),
            ],
        )
        rows = cursor.fetchall()
    available = {row[0]: row[1] for row in rows}  # line number (from 1) -> available units
    shortages = [
        Shortage(line.sku.code, line.quantity, available[n], warehouse.code)
        for n, line in enumerate(wanted, start=1)
        if available[n] < line.quantity
    ]
    if shortages:
        raise InsufficientStock(shortages)
    result = ReservationResult(reference=reference)
    for row in rows:
        values = row[2:]
        if values[0] is None:  # a line without bins: only when it is short
            continue
        result.reservations.append(_reservation_from_row(values))
    return result


@cache
def _row_fields() -> tuple[list[str], list[str], list[str]]:
    """The attnames of ``Reservation``, ``StockLevel`` and ``Location``, in ``_meta`` order."""
    reservation, level, location = (
        [f.attname for f in model._meta.concrete_fields]
        for model in (Reservation, StockLevel, Location)
    )
    return reservation, level, location


def _reservation_from_row(values: Sequence) -> Reservation:
    """A reservation with its level and bin from the columns ``r.*, level.*, bin.*`` of a
    row (``_meta`` order), so ``r.stock_level.location`` needs no query.

    Built as ``select_related`` builds them (``from_db``, then the related objects put in
    the foreign keys' caches; the ids already match), not through the descriptors, whose
    checks cost more than the instances: this runs once per reservation on the hot path.
    ``connection`` is always the default database, so its alias is ``DEFAULT_DB_ALIAS``."""
    res_fields, level_fields, bin_fields = _row_fields()
    level_at = len(res_fields)
    bin_at = level_at + len(level_fields)
    reservation = Reservation.from_db(DEFAULT_DB_ALIAS, res_fields, values[:level_at])
    level = StockLevel.from_db(DEFAULT_DB_ALIAS, level_fields, values[level_at:bin_at])
    location = Location.from_db(DEFAULT_DB_ALIAS, bin_fields, values[bin_at:])
    StockLevel.location.field.set_cached_value(level, location)
    Reservation.stock_level.field.set_cached_value(reservation, level)
    return reservation


_FAST_SAVEPOINT = "caravan_reserve_fast"
_FAST_STATEMENT = "caravan_reserve_fast"  # prepared statement name (one per session)

# The psycopg connections whose session holds ``_FAST_STATEMENT``. A prepared statement lives
# as long as its session: weak references drop a closed connection, and a new one (reconnect,
# CONN_MAX_AGE, a pool handing out another session) is a new object, so it prepares again.
_fast_prepared_on: weakref.WeakSet = weakref.WeakSet()

# SQLSTATEs of a session that does not hold the statement we think it holds: missing
# (DEALLOCATE ALL, DISCARD ALL, psycopg clearing its own cache) or already there (a pooler
# handing the same session to another connection object).
_STATEMENT_MISSING, _STATEMENT_EXISTS = "26000", "42P05"


@cache
def _reserve_fast_sql() -> str:
    """``PREPARE`` of the statement of ``_reserve_fast``; executed with ``EXECUTE`` after
    ``SAVEPOINT`` in the same round trip.

    Prepared once per session, because on the 2-CPU bench machine, parsing and planning it on
    every call (the client-side binding Django uses sends the values inline, so nothing is ever
    prepared) cost more server CPU than running it: planning ~0.3 ms (~0.45 ms with 3,000 bins
    in the warehouse) against ~0.15 ms of execution; the backend's CPU per reservation (BEGIN,
    statement, COMMIT) went from 0.7-1.0 ms to 0.34-0.42 ms. PostgreSQL switches to the
    generic plan after five executions; its shape is that of the custom plans (the SKU's
    levels by index, their bins by pk), also with 3,000 bins in the warehouse.

    Parameters: $1 SKU id, $2 warehouse id, $3 storage kind, $4 quantity, $5 reference, $6
    created_at, each of the type of the column it is compared with or written to (from the
    model fields). So a value the columns cannot hold (a quantity beyond ``integer``, a
    reference too long) fails at ``EXECUTE``, every time, as the inline literals failed when
    the statement was planned; with looser types the outcome would depend on the plan (a
    custom plan folds the cast and fails, the generic plan finds no row and falls back).
    Its steps:

    - ``pick``: the first bin in pick order (pick sequence, then code ``COLLATE "C"``, as
      ``_reserve_sql``) among the active storage bins of the warehouse where the SKU's level
      has free units (on_hand - reserved > 0): a plain read of the statement's snapshot;
    - ``updated``: ``reserved = reserved + q`` on that level, only while ``on_hand - reserved
      >= q``. The SET and the WHERE read the same row version: first the snapshot's, and when
      a concurrent transaction changed the row meanwhile, PostgreSQL waits for it and
      evaluates both again on the latest version (EvalPlanQual). So the CHECK constraints are
      checked on ``reserved + q`` of a version whose WHERE held, and ``reserved <= on_hand``
      cannot fail spuriously, unlike the general statement, whose SET uses values read
      elsewhere (see ``_reserve_sql``). When the WHERE fails, nothing is written;
    - ``upserted``: one reservation per (reference, level), topped up when it exists, from the
      updated row only (data-modifying CTEs: no updated row, no reservation);
    - result: the reservation, level and bin as written; no row when nothing was reserved.
    """
    n = _sql_names()
    types = ", ".join(
        model._meta.get_field(name).db_type(connection)
        for model, name in (
            (StockLevel, "sku"),
            (Location, "warehouse"),
            (Location, "kind"),
            (Reservation, "quantity"),
            (Reservation, "reference"),
            (Reservation, "created_at"),
        )
    )
    return f"""PREPARE {_FAST_STATEMENT} ({types}) AS
WITH pick AS (
    SELECT sl.{n.level_id} AS level_id
    FROM {n.level_table} sl
    JOIN {n.location_table} bin ON bin.{n.bin_id} = sl.{n.level_location}
    WHERE sl.{_col(StockLevel, "sku")} = $1
      AND bin.{_col(Location, "warehouse")} = $2
      AND bin.{_col(Location, "kind")} = $3
      AND bin.{_col(Location, "is_active")}
      AND sl.{n.level_on_hand} - sl.{n.level_reserved} > 0
    ORDER BY bin.{_col(Location, "pick_sequence")}, bin.{_col(Location, "code")} COLLATE "C"
    LIMIT 1
),
updated AS (
    UPDATE {n.level_table} sl
    SET {n.level_reserved} = sl.{n.level_reserved} + $4
    WHERE sl.{n.level_id} = (SELECT level_id FROM pick)
      AND sl.{n.level_on_hand} - sl.{n.level_reserved} >= $4
    RETURNING {_columns("sl", StockLevel)}
),
upserted AS (
    INSERT INTO {n.reservation_table} AS r ({n.res_insert})
    SELECT u.{n.level_id}, $5, $4, $6 FROM updated u
    ON CONFLICT ({_col(Reservation, "reference")}, {n.res_level})
    DO UPDATE SET {n.res_quantity} = r.{n.res_quantity} + EXCLUDED.{n.res_quantity}
    RETURNING {_columns("r", Reservation)}
)
SELECT {_columns("r", Reservation)}, {_columns("u", StockLevel)}, {_columns("bin", Location)}
FROM upserted r
JOIN updated u ON u.{n.level_id} = r.{n.res_level}
JOIN {n.location_table} bin ON bin.{n.bin_id} = u.{n.level_location}"""


def _reserve_fast(*, warehouse: Warehouse, line: StockLine, reference: str) -> Sequence | None:
    """The fast path of ``stock_reserve`` on PostgreSQL for a single wanted line: take all of
    it from the first bin in pick order that has free units, in one statement
    (``_reserve_fast_sql``). Returns its row (the reservation, level and bin as written, for
    ``_reservation_from_row``). Returns None, having written nothing, when that bin cannot take
    all of it, the SKU is short, or a concurrent change made the conditional UPDATE fail; the
    caller then runs the general statement in the same transaction. That keeps the semantics
    of ``_reserve_with_orm`` exactly: when the first bin with free units can take the whole
    quantity, the general allocation takes it all from that bin too.

    Lock order: the statement locks one level row, so on success it cannot take part in a
    lock-order cycle. On failure it may still hold that row: an UPDATE that waits for a
    concurrent writer locks the latest row version before re-checking its WHERE, and keeps the
    lock when the check fails. Holding it while the general statement locks the SKU's levels
    in pk order could deadlock with a transaction holding a lower pk and waiting for this row,
    so the statement runs under a savepoint, sent in the same round trip, and a failure rolls
    back to it, which drops that lock. On success the savepoint is left to the enclosing
    commit or release (no extra round trip).

    The first call on a session also sends the ``PREPARE`` in that round trip (``PREPARE``
    is not transactional: a rollback does not undo it). When the session turns out not to
    hold the statement we think it holds, or to hold one we did not know of, the error only
    aborts what followed the savepoint: roll back to it, (re)prepare, and run it again once.
    """
    params = [
        line.sku.pk,
        warehouse.pk,
        Location.Kind.STORAGE.value,  # a plain str adapts faster than the enum member
        line.quantity,
        reference,
        timezone.now(),
    ]
    db = connections[DEFAULT_DB_ALIAS]  # what ``connection`` proxies to, looked up once
    with db.cursor() as cursor:
        session = db.connection
        prepare = session not in _fast_prepared_on
        try:
            _send_fast(cursor, params, prepare=prepare)
        except DatabaseError as exc:
            state = getattr(exc.__cause__, "sqlstate", None)
            if state not in (_STATEMENT_MISSING, _STATEMENT_EXISTS):
                raise
            _fast_prepared_on.discard(session)
            cursor.execute(
                f"ROLLBACK TO SAVEPOINT {_FAST_SAVEPOINT}; RELEASE SAVEPOINT {_FAST_SAVEPOINT}"
                + (f"; DEALLOCATE {_FAST_STATEMENT}" if state == _STATEMENT_EXISTS else "")
            )
            prepare = True
            _send_fast(cursor, params, prepare=prepare)
        if prepare:
            _fast_prepared_on.add(session)
        for _result in range(2 if prepare else 1):  # skip the SAVEPOINT's (and PREPARE's)
            cursor.nextset()
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"ROLLBACK TO SAVEPOINT {_FAST_SAVEPOINT}; RELEASE SAVEPOINT {_FAST_SAVEPOINT}"
            )
            return None
    return row


def _send_fast(cursor, params: list, *, prepare: bool) -> None:
    """One round trip: ``SAVEPOINT``, the ``PREPARE`` when asked, ``EXECUTE``."""
    prepared = f"{_reserve_fast_sql()}; " if prepare else ""
    cursor.execute(
        f"SAVEPOINT {_FAST_SAVEPOINT}; {prepared}"
        f"EXECUTE {_FAST_STATEMENT} (%s, %s, %s, %s, %s, %s)",
        params,
    )


def _reservations_of(reference: str) -> list[Reservation]:
    return list(
        Reservation.objects.filter(reference=reference)
        .select_related("stock_level", "stock_level__sku", "stock_level__location")
        .order_by("stock_level_id")
    )


@transaction.atomic
def stock_release(*, reference: str, sku: Sku | None = None, quantity: int | None = None) -> int:
    """Give back reserved units of ``reference`` (all of them, or ``quantity`` of one SKU).

    Partial releases take from the bins reserved last in pick order, so the first bins stay
    held. Returns the number of units released.
    """
    qs = StockLevel.objects.filter(reservations__reference=reference)
    if sku is not None:
        qs = qs.filter(sku=sku)
    levels = {lv.pk: lv for lv in _lock_levels(qs)}
    reservations = [r for r in _reservations_of(reference) if r.stock_level_id in levels]
    if quantity is not None:
        if sku is None:
            raise StockError(_("A partial release names the SKU."))
        _check_quantity(quantity)
        held = sum(r.quantity for r in reservations)
        if quantity > held:
            raise StockError(
                _("Cannot release %(q)d of %(sku)s for %(ref)s: only %(held)d reserved.")
                % {"q": quantity, "sku": sku.code, "ref": reference, "held": held}
            )
        reservations.sort(
            key=lambda r: (r.stock_level.location.pick_sequence, r.stock_level.location.code),
            reverse=True,
        )
    remaining = quantity
    released = 0
    for reservation in reservations:
        take = reservation.quantity if remaining is None else min(remaining, reservation.quantity)
        if take == 0:
            break
        StockLevel.objects.filter(pk=reservation.stock_level_id).update(
            reserved=F("reserved") - take
        )
        if take == reservation.quantity:
            Reservation.objects.filter(pk=reservation.pk).delete()
        else:
            Reservation.objects.filter(pk=reservation.pk).update(quantity=F("quantity") - take)
        released += take
        if remaining is not None:
            remaining -= take
    if released:
        _announce_available({levels[r.stock_level_id].sku_id for r in reservations})
    return released


def stock_consume(
    *, reference: str, user: User | None = None, note: str = "", savepoint: bool = True
) -> list[StockMove]:
    """Ship every unit reserved for ``reference``: on_hand and reserved both go down, and each
    ledger move carries the SKU's average cost at this moment (the cost of goods sold).

    Locks: SKU rows by pk, then the reserved levels by pk (the order every service uses). The
    reservations are read again under those locks (a concurrent release may have changed
    them); when one of them is then on a level that was not locked, nothing is shipped.

    ``savepoint=False`` runs in the caller's transaction without a savepoint of its own: for a
    caller that ships one thing per transaction and lets a ``StockError`` roll all of it back
    (the pack station), saving the SAVEPOINT and RELEASE round trips. Nothing is written
    before an error is raised either way.

    PostgreSQL runs ``_consume_in_sql`` (two statements: lock, then consume); SQLite keeps the
    ORM, ``_consume_with_orm``. Both write the same moves in the same order (levels by pk)."""
    with transaction.atomic(savepoint=savepoint):
        if connection.vendor == "postgresql":
            return _consume_in_sql(reference=reference, user=user, note=note)
        return _consume_with_orm(reference=reference, user=user, note=note)


def _nothing_reserved(reference: str) -> StockError:
    return StockError(_("Nothing is reserved for %(ref)s.") % {"ref": reference})


def _reservations_changed(reference: str) -> StockError:
    return StockError(
        _("The reservations of %(ref)s changed while shipping; try again.") % {"ref": reference}
    )


def _consume_with_orm(*, reference: str, user: User | None, note: str) -> list[StockMove]:
    """``stock_consume`` through the ORM (SQLite); runs inside its transaction."""
    reservations = _reservations_of(reference)
    if not reservations:
        raise _nothing_reserved(reference)
    skus = _lock_skus(r.stock_level.sku_id for r in reservations)
    levels = {
        lv.pk: lv
        for lv in _lock_levels(
            StockLevel.objects.filter(pk__in=[r.stock_level_id for r in reservations])
        )
    }
    # Re-read under the locks: a concurrent release may have changed them.
    reservations = _reservations_of(reference)
    if not reservations:
        raise _nothing_reserved(reference)
    if any(r.stock_level_id not in levels for r in reservations):
        raise _reservations_changed(reference)
    moves = []
    for reservation in reservations:
        level = levels[reservation.stock_level_id]
        StockLevel.objects.filter(pk=level.pk).update(reserved=F("reserved") - reservation.quantity)
        level.reserved -= reservation.quantity
        moves.append(
            _write_move(
                level=level,
                quantity=-reservation.quantity,
                kind=StockMove.Kind.SHIPMENT,
                unit_cost=skus[level.sku_id].avg_cost,
                reference=reference,
                note=note,
                user=user,
            )
        )
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).delete()
    return moves


@cache
def _consume_lock_sql() -> str:
    """The first statement of ``_consume_in_sql``: lock what the reservations of a reference
    hold, SKU rows by pk and then the levels by pk, and return the locked level ids.
    Parameter: the reference.

    ``skus`` is a MATERIALIZED CTE read through a scalar subquery (an InitPlan, evaluated
    before the first level row reaches the LockRows node), so every SKU is locked before any
    level. The levels are locked by a LockRows node above the sort by id: in pk order. No
    reservation, no row: nothing locked."""
    qn = connection.ops.quote_name
    level, res, sku = (qn(m._meta.db_table) for m in (StockLevel, Reservation, Sku))
    level_id, level_sku = _col(StockLevel, "id"), _col(StockLevel, "sku")
    res_level = _col(Reservation, "stock_level")
    return f"""WITH held AS MATERIALIZED (
    SELECT r.{res_level} AS level_id, sl.{level_sku} AS sku_id
    FROM {res} r JOIN {level} sl ON sl.{level_id} = r.{res_level}
    WHERE r.{_col(Reservation, "reference")} = %s
),
skus AS MATERIALIZED (
    SELECT s.{_col(Sku, "id")} FROM {sku} s
    WHERE s.{_col(Sku, "id")} IN (SELECT sku_id FROM held)
    ORDER BY s.{_col(Sku, "id")}
    FOR UPDATE OF s
)
SELECT sl.{level_id} FROM {level} sl
WHERE sl.{level_id} IN (SELECT level_id FROM held) AND (SELECT count(*) FROM skus) > 0
ORDER BY sl.{level_id}
FOR UPDATE OF sl
"""


@cache
def _consume_sql() -> str:
    """The second statement of ``_consume_in_sql``, run once the locks are held (a new
    statement, so a new snapshot: it sees whatever committed while it waited for them).

    Parameters (named): ``ref``, ``locked`` (the level ids locked), ``kind``, ``note``,
    ``user``, ``at``. Its steps:

    - ``held``: the reservations of the reference, read again;
    - ``verdict``: how many there are, and whether each is on a locked level;
    - ``go``: the reservations to ship: all of them, or none when one is on a level that was
      not locked (the caller then raises, as ``_consume_with_orm`` does);
    - ``updated``: on_hand and reserved both minus the reserved quantity (the rows are locked
      by this transaction, so their values are the latest ones);
    - ``moved``: one ledger move per level, in level pk order, at the SKU's average cost (the
      SKU rows are locked too), balance_after the level's new on_hand;
    - ``deleted``: the reservations shipped;
    - result: the verdict, with the moves as written (all ``StockMove`` columns, ``_meta``
      order), one row per move, or one row with empty columns when nothing shipped."""
    qn = connection.ops.quote_name
    level, res, sku, move = (
        qn(m._meta.db_table) for m in (StockLevel, Reservation, Sku, StockMove)
    )
    level_id, on_hand, reserved = (_col(StockLevel, f) for f in ("id", "on_hand", "reserved"))
    insert = ", ".join(
        _col(StockMove, f)
        for f in (
            "sku",
            "location",
            "quantity",
            "balance_after",
            "kind",
            "unit_cost",
            "reference",
            "note",
            "user",
            "at",
        )
    )
    return f"""WITH held AS MATERIALIZED (
    SELECT r.{_col(Reservation, "id")} AS id, r.{_col(Reservation, "stock_level")} AS level_id,
           r.{_col(Reservation, "quantity")} AS quantity
    FROM {res} r WHERE r.{_col(Reservation, "reference")} = %(ref)s
),
verdict AS MATERIALIZED (
    SELECT count(*) AS held, coalesce(bool_and(level_id = ANY (%(locked)s::bigint[])), false)
           AS locked
    FROM held
),
go AS MATERIALIZED (
    SELECT h.id, h.level_id, h.quantity FROM held h, verdict v WHERE v.locked
),
updated AS (
    UPDATE {level} sl
    SET {on_hand} = sl.{on_hand} - g.quantity, {reserved} = sl.{reserved} - g.quantity
    FROM go g WHERE sl.{level_id} = g.level_id
    RETURNING sl.{level_id} AS level_id, sl.{_col(StockLevel, "sku")} AS sku_id,
              sl.{_col(StockLevel, "location")} AS location_id, sl.{on_hand} AS on_hand
),
moved AS (
    INSERT INTO {move} AS m ({insert})
    SELECT u.sku_id, u.location_id, -g.quantity, u.on_hand, %(kind)s, s.{_col(Sku, "avg_cost")},
           %(ref)s, %(note)s, %(user)s, %(at)s
    FROM updated u
    JOIN go g ON g.level_id = u.level_id
    JOIN {sku} s ON s.{_col(Sku, "id")} = u.sku_id
    ORDER BY u.level_id
    RETURNING {_columns("m", StockMove)}
),
deleted AS (
    DELETE FROM {res} r USING go g WHERE r.{_col(Reservation, "id")} = g.id
)
SELECT v.held, v.locked, {_columns("m", StockMove)}
FROM verdict v LEFT JOIN moved m ON true
ORDER BY m.{_col(StockMove, "id")}
"""


def _consume_lock_prepared() -> tuple[str, list[str]]:
    return numbered(_consume_lock_sql()), [column_type(Reservation, "reference")]


_CONSUME_NAMES = ("ref", "locked", "kind", "note", "user", "at")


def _consume_prepared() -> tuple[str, list[str]]:
    types = [
        column_type(Reservation, "reference"),
        f"{column_type(StockLevel, 'id')}[]",
        column_type(StockMove, "kind"),
        column_type(StockMove, "note"),
        column_type(StockMove, "user"),
        column_type(StockMove, "at"),
    ]
    return numbered(_consume_sql(), _CONSUME_NAMES), types


# Prepared once per session (erp/prepared.py): planning these two CTE statements on every
# shipment cost the server more than running them.
_CONSUME_LOCK = Prepared("consume_lock", _consume_lock_prepared)
_CONSUME = Prepared("consume", _consume_prepared)


def _consume_in_sql(*, reference: str, user: User | None, note: str) -> list[StockMove]:
    """``stock_consume`` on PostgreSQL: two statements instead of the ORM path's 4 reads and
    3 writes per reservation, each built and run by the ORM, which measured ~18 ms of a
    ~48 ms pack-station confirmation (profiled; bench/bench_warehouse_ops.py). Same locks,
    same checks, same moves as ``_consume_with_orm``; runs inside the service's transaction."""
    ensure_prepared(_CONSUME_LOCK, _CONSUME)
    with connection.cursor() as cursor:
        prepared.execute(cursor, _CONSUME_LOCK.execute_sql, [reference])
        locked = [row[0] for row in cursor.fetchall()]
        if not locked:
            raise _nothing_reserved(reference)
        prepared.execute(
            cursor,
            _CONSUME.execute_sql,
            [
                reference,
                locked,
                StockMove.Kind.SHIPMENT.value,
                note,
                user.pk if user is not None else None,
                timezone.now(),
            ],
        )
        rows = cursor.fetchall()
    held, all_locked = rows[0][:2]
    if not held:
        raise _nothing_reserved(reference)
    if not all_locked:
        raise _reservations_changed(reference)
    fields = [f.attname for f in StockMove._meta.concrete_fields]
    return [StockMove.from_db(connection.alias, fields, row[2:]) for row in rows]
