"""Reserving for many demands at once (allocating a batch of orders).

``stock_reserve`` costs one statement and one savepoint per demand, ~2 ms each: allocating
10,000 orders one by one measured ~200 orders/s. ``stock_reserve_many`` locks every candidate
level of the whole batch once (in pk order, the lock order of every service), plans all
demands in memory in the order given, and writes all level changes in one UPDATE and all
reservations in one upsert. The plan follows the same rules as ``stock_reserve``: storage bins
of the warehouse in pick order (pick sequence, then code), every line of a demand or none
(bundles reserve their parts), shortages named per line. ``tests/warehouse/test_reserve_many``
holds the two to the same results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from warehouse.models import RESERVABLE_LEVELS, Reservation, StockLevel, Warehouse
from warehouse.services.stock import (
    Shortage,
    StockError,
    StockLine,
    _check_quantity,
    bundle_parts,
    expand_bundles,
)


@dataclass(slots=True)
class _Level:
    """A locked stock level as the plan needs it."""

    pk: int
    sku_id: int
    on_hand: int
    reserved: int
    warehouse_id: int
    pick_sequence: int
    code: str


@dataclass
class ReserveRequest:
    """One demand: its reference, its lines, and the warehouses it may come from, in the
    order to try them."""

    reference: str
    lines: Sequence[StockLine]
    warehouses: Sequence[Warehouse]


@dataclass
class ReserveOutcome:
    reference: str
    warehouse: Warehouse | None = None  # where it was reserved; None when short everywhere
    shortages: list[Shortage] = field(default_factory=list)  # in the first warehouse tried
    taken: list[tuple[int, int]] = field(default_factory=list)  # (level id, units)

    @property
    def reserved(self) -> bool:
        return self.warehouse is not None


@transaction.atomic
def stock_reserve_many(*, requests: Sequence[ReserveRequest]) -> list[ReserveOutcome]:
    """Reserve each request in the first of its warehouses that can fill all of it, in the
    order given (so put the oldest demand first); returns one outcome per request."""
    for request in requests:
        if not request.reference:
            raise StockError(_("A reservation needs a reference."))
        for line in request.lines:
            _check_quantity(line.quantity)
    parts = bundle_parts({line.sku.pk for r in requests for line in r.lines if line.sku.is_bundle})
    wanted = [expand_bundles(r.lines, parts) for r in requests]
    sku_ids = {line.sku.pk for lines in wanted for line in lines}
    warehouse_ids = {w.pk for r in requests for w in r.warehouses}
    # Locked in pk order like every writer; read as plain values (a chunk of 200 orders locks
    # ~800 levels, and building them as models with their bins was most of the batch's time).
    levels = [
        _Level(*row)
        for row in StockLevel.objects.select_for_update(of=("self",))
        .filter(RESERVABLE_LEVELS, sku_id__in=sku_ids, location__warehouse_id__in=warehouse_ids)
        .order_by("pk")
        .values_list(
            "pk",
            "sku_id",
            "on_hand",
            "reserved",
            "location__warehouse_id",
            "location__pick_sequence",
            "location__code",
        )
    ]
    bins: dict[tuple[int, int], list[_Level]] = defaultdict(list)  # (warehouse, sku)
    for level in sorted(levels, key=lambda lv: (lv.pick_sequence, lv.code)):
        bins[(level.warehouse_id, level.sku_id)].append(level)
    free = {level.pk: max(level.on_hand - level.reserved, 0) for level in levels}

    outcomes = []
    for request, lines in zip(requests, wanted, strict=True):
        outcome = ReserveOutcome(reference=request.reference)
        for warehouse in request.warehouses:
            short = [
                Shortage(line.sku.code, line.quantity, available, warehouse.code)
                for line in lines
                if (available := sum(free[lv.pk] for lv in bins[(warehouse.pk, line.sku.pk)]))
                < line.quantity
            ]
            if short:
                outcome.shortages = outcome.shortages or short
                continue
            for line in lines:
                remaining = line.quantity
                for level in bins[(warehouse.pk, line.sku.pk)]:
                    take = min(free[level.pk], remaining)
                    if take:
                        free[level.pk] -= take
                        outcome.taken.append((level.pk, take))
                        remaining -= take
                    if not remaining:
                        break
            outcome.warehouse = warehouse
            outcome.shortages = []
            break
        outcomes.append(outcome)
    _write(levels, outcomes)
    return outcomes


def _write(levels: list[_Level], outcomes: list[ReserveOutcome]) -> None:
    """One UPDATE of the levels and one upsert of the reservations (PostgreSQL); the ORM,
    row by row, elsewhere. Levels are written as absolute values from the locked rows (see
    ``_reserve_sql`` for why not ``reserved + take``)."""
    added: dict[int, int] = defaultdict(int)
    per_reference: dict[tuple[str, int], int] = defaultdict(int)
    for outcome in outcomes:
        for level_id, take in outcome.taken:
            added[level_id] += take
            per_reference[(outcome.reference, level_id)] += take
    if not added:
        return
    by_pk = {level.pk: level for level in levels}
    now = timezone.now()
    if connection.vendor == "postgresql":
        level_table = connection.ops.quote_name(StockLevel._meta.db_table)
        reserved = connection.ops.quote_name(StockLevel._meta.get_field("reserved").column)
        res_table = connection.ops.quote_name(Reservation._meta.db_table)
        col = {
            name: connection.ops.quote_name(Reservation._meta.get_field(name).column)
            for name in ("reference", "stock_level", "quantity", "created_at")
        }
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {level_table} sl SET {reserved} = v.reserved "
                f"FROM unnest(%s::bigint[], %s::integer[]) AS v (id, reserved) "
                f"WHERE sl.id = v.id",
                [list(added), [by_pk[pk].reserved + take for pk, take in added.items()]],
            )
            keys = list(per_reference)
            cursor.execute(
                f"INSERT INTO {res_table} AS r ({col['reference']}, {col['stock_level']}, "
                f"{col['quantity']}, {col['created_at']}) "
                f"SELECT v.reference, v.level_id, v.quantity, %s "
                f"FROM unnest(%s::text[], %s::bigint[], %s::integer[]) "
                f"AS v (reference, level_id, quantity) ORDER BY v.level_id "
                f"ON CONFLICT ({col['reference']}, {col['stock_level']}) "
                f"DO UPDATE SET {col['quantity']} = r.{col['quantity']} "
                f"+ EXCLUDED.{col['quantity']}",
                [
                    now,
                    [ref for ref, _ in keys],
                    [level_id for _, level_id in keys],
                    [per_reference[key] for key in keys],
                ],
            )
    else:
        for pk, take in added.items():
            StockLevel.objects.filter(pk=pk).update(reserved=by_pk[pk].reserved + take)
        existing = {
            (r.reference, r.stock_level_id): r
            for r in Reservation.objects.filter(
                reference__in={ref for ref, _ in per_reference},
                stock_level_id__in=list(added),
            )
        }
        new = []
        for (reference, level_id), quantity in per_reference.items():
            if (reference, level_id) in existing:
                Reservation.objects.filter(pk=existing[(reference, level_id)].pk).update(
                    quantity=F("quantity") + quantity
                )
            else:
                new.append(
                    Reservation(reference=reference, stock_level_id=level_id, quantity=quantity)
                )
        Reservation.objects.bulk_create(new)
    for pk, take in added.items():
        by_pk[pk].reserved += take
