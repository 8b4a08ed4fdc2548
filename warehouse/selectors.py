"""Reads shared by pages, the API, reports and commands."""

from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from erp.scopes import scope_warehouses
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

# A bin row at or below its SKU's low-stock threshold: only bins that orders draw from, so a
# few units in quarantine do not raise an alarm. The stock page's filter and the dashboard
# share it, so their figures agree.
LOW_STOCK_LEVELS = RESERVABLE_LEVELS & Q(on_hand__lte=F("reserved") + F("sku__low_stock_threshold"))


@dataclass(frozen=True)
class Drift:
    sku_code: str
    location: str
    field: str
    stored: int
    derived: int


def stock_drift() -> list[Drift]:
    """Every stock level whose on_hand differs from the sum of its ledger moves or whose
    reserved differs from the sum of its reservations, and every ledger (sku, bin) that has no
    level row at all. A fixed number of queries, whatever the size of the ledger."""
    moves_sum = (
        StockMove.objects.filter(sku_id=OuterRef("sku_id"), location_id=OuterRef("location_id"))
        .order_by()
        .values("sku_id", "location_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    reserved_sum = (
        Reservation.objects.filter(stock_level_id=OuterRef("pk"))
        .order_by()
        .values("stock_level_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    levels = (
        StockLevel.objects.annotate(
            ledger=Coalesce(Subquery(moves_sum), Value(0)),
            held=Coalesce(Subquery(reserved_sum), Value(0)),
        )
        .filter(~Q(on_hand=F("ledger")) | ~Q(reserved=F("held")))
        .select_related("sku", "location__warehouse")
        .order_by("sku__code", "location__code")
    )
    drift: list[Drift] = []
    for level in levels:
        where = f"{level.location.warehouse.code}/{level.location.code}"
        if level.on_hand != level.ledger:
            drift.append(Drift(level.sku.code, where, "on_hand", level.on_hand, level.ledger))
        if level.reserved != level.held:
            drift.append(Drift(level.sku.code, where, "reserved", level.reserved, level.held))

    orphans = (
        StockMove.objects.order_by()
        .values("sku_id", "location_id")
        .annotate(total=Sum("quantity"))
        .filter(
            ~Exists(
                StockLevel.objects.filter(
                    sku_id=OuterRef("sku_id"), location_id=OuterRef("location_id")
                )
            )
        )
    )
    orphans = list(orphans)
    if orphans:
        skus = Sku.objects.in_bulk({o["sku_id"] for o in orphans})
        locations = Location.objects.select_related("warehouse").in_bulk(
            {o["location_id"] for o in orphans}
        )
        for o in orphans:
            loc = locations[o["location_id"]]
            where = f"{loc.warehouse.code}/{loc.code}"
            drift.append(Drift(skus[o["sku_id"]].code, where, "on_hand", 0, o["total"]))
    return drift


# Querysets for lists and details: each declares its joins once, so pages and API share them
# and neither runs a query per row.


def sku_queryset():
    return Sku.objects.order_by("code")


def sku_with_parts_queryset():
    """SKUs with their bundle parts (each with its component) prefetched: two queries for a
    page of SKUs, bundles or not."""
    return sku_queryset().prefetch_related(
        Prefetch(
            "bundle_items",
            queryset=BundleItem.objects.select_related("component").order_by("component__code"),
        )
    )


def warehouse_queryset(*, user):
    return scope_warehouses(Warehouse.objects.order_by("code"), user)


def location_queryset(*, user):
    return scope_warehouses(
        Location.objects.select_related("warehouse").order_by(
            "warehouse__code", "pick_sequence", "code"
        ),
        user,
        "warehouse",
    )


def stock_level_queryset(*, user):
    return scope_warehouses(
        StockLevel.objects.select_related("sku", "location", "location__warehouse").order_by(
            "sku__code", "location__warehouse__code", "location__pick_sequence"
        ),
        user,
        "location__warehouse",
    )


def stock_move_queryset(*, user):
    return scope_warehouses(
        StockMove.objects.select_related("sku", "location", "location__warehouse", "user"),
        user,
        "location__warehouse",
    )


def sku_stock_queryset(*, user):
    """SKUs with ``on_hand_total`` and ``available_total`` summed over the user's warehouses,
    as correlated subqueries: one query for a page of SKUs, and the page count stays cheap.
    Available counts reservable bins only (``RESERVABLE_LEVELS``)."""
    levels = (
        scope_warehouses(
            StockLevel.objects.filter(sku_id=OuterRef("pk")), user, "location__warehouse"
        )
        .order_by()
        .values("sku_id")
    )
    on_hand = levels.annotate(total=Sum("on_hand")).values("total")
    available = (
        levels.filter(RESERVABLE_LEVELS)
        .annotate(total=Sum(F("on_hand") - F("reserved")))
        .values("total")
    )
    return sku_queryset().annotate(
        on_hand_total=Coalesce(Subquery(on_hand), Value(0)),
        available_total=Coalesce(Subquery(available), Value(0)),
    )
